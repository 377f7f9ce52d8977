"""The writers: YAML for ansible, INI for luigi, POSIX shell assignments, JSON.

Values go through a real emitter each time, never through string formatting, so quotes, colons,
``%``, ``#`` and newlines come back unchanged when the consumer reads the file. Each writer refuses,
naming the key, a value its consumer cannot read back as written.
"""

import configparser
import io
import json
import re
import shlex

import yaml

JINJA_MARKERS = ("{{", "{%", "{#")
_SHELL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Template(str):
    """A Jinja expression ansible is meant to render (e.g. ``{{ lookup('env', 'X') }}``)."""


class _Unsafe(str):
    """A value ansible must take literally: emitted with its ``!unsafe`` tag."""


class _AnsibleDumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:
        return True


def _represent_str(dumper, value):
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|" if "\n" in value else None)


def _represent_unsafe(dumper, value):
    return dumper.represent_scalar("!unsafe", str(value), style="|" if "\n" in value else None)


_AnsibleDumper.add_representer(str, _represent_str)
_AnsibleDumper.add_representer(Template, _represent_str)
_AnsibleDumper.add_representer(_Unsafe, _represent_unsafe)


def _protect(value):
    """Mark strings that look like Jinja (a password may) so ansible never templates them."""
    if isinstance(value, dict):
        return {key: _protect(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_protect(item) for item in value]
    if isinstance(value, str) and not isinstance(value, Template) and any(marker in value for marker in JINJA_MARKERS):
        return _Unsafe(value)
    return value


def dump_ansible_yaml(data: dict, header: str) -> str:
    """Ansible extra-vars: block style, keys in the given order, no anchors, multi-line strings as ``|``."""
    body = yaml.dump(_protect(data), Dumper=_AnsibleDumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1_000_000)
    return _comment(header) + "---\n" + body


def _ini_value(section: str, key: str, value: str) -> str:
    where = f"[{section}] {key}"
    if not isinstance(value, str):
        raise TypeError(f"{where}: INI values are strings; got {type(value).__name__}")
    if "\n" in value or "\r" in value:
        raise ValueError(f"{where}: a line break cannot be written as one INI value")
    if value != value.strip():
        raise ValueError(f"{where}: leading or trailing whitespace would be dropped by the reader")
    if "${" in value:
        raise ValueError(f"{where}: '${{' starts luigi's environment interpolation and cannot be escaped")
    if re.search(r"\s;", value):
        raise ValueError(f"{where}: ' ;' starts an inline comment for Python 2's ConfigParser")
    return value.replace("%", "%%")  # BasicInterpolation, as luigi's parser uses


class _CaseKeepingParser(configparser.RawConfigParser):
    def optionxform(self, optionstr: str) -> str:
        return optionstr  # the default lower-cases keys


def dump_ini(sections: dict[str, dict[str, str]], header: str) -> str:
    """luigi configuration: ``key = value`` lines, ``%`` doubled, no inline comments."""
    parser = _CaseKeepingParser()
    for section, options in sections.items():
        parser.add_section(section)
        for key, value in options.items():
            parser.set(section, key, _ini_value(section, key, value))
    out = io.StringIO()
    parser.write(out)
    return _comment(header) + out.getvalue().rstrip("\n") + "\n"


def dump_shell_env(variables: dict[str, str], header: str) -> str:
    """``export NAME='value'`` lines a POSIX shell sources; every value single-quoted as needed."""
    lines = []
    for name, value in variables.items():
        if not _SHELL_NAME.match(name):
            raise ValueError(f"{name!r} is not a shell variable name")
        lines.append(f"export {name}={shlex.quote(value)}")
    return _comment(header) + "\n".join(lines) + "\n"


def dump_json(data) -> str:
    return json.dumps(data, indent=2) + "\n"


def _comment(text: str) -> str:
    return "".join(f"# {line}\n" for line in text.splitlines())
