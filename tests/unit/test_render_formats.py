"""The writers behind the secure-repo files: every value comes back unchanged through the real reader."""

import json
import subprocess

import pytest
from ansible.parsing.dataloader import DataLoader
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from luigi.configuration import LuigiConfigParser

from analytics_provisioner.render.formats import Template, dump_ansible_yaml, dump_ini, dump_json, dump_shell_env

HOSTILE = [
    "p@ss:word",
    "'single'",
    '"double"',
    "100%",
    "%(interpolate)s",
    "# not a comment",
    "a;b",
    "{{ jinja }}",
    "{% if %}",
    "yes",
    "3306",
    "null",
    "- dash",
    ": colon",
    "back\\slash",
    "tab\there",
    "ünïcödé",
    "~",
    "@at",
]
# What a password generator or a person may put in a value (no control characters, no surrogates).
text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)


def ansible_load(document: str):
    return DataLoader().load(document)


def luigi_read(document: str, path) -> LuigiConfigParser:
    path.write_text(document)
    parser = LuigiConfigParser()
    parser.read([str(path)])
    return parser


def test_yaml_values_survive_the_ansible_loader():
    data = {f"K{i}": value for i, value in enumerate(HOSTILE)} | {"MULTI": "line one\nline two\n", "NESTED": {"list": HOSTILE}}
    assert ansible_load(dump_ansible_yaml(data, "header")) == data


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.from_regex(r"[A-Z][A-Z_]{0,10}", fullmatch=True), text, min_size=1, max_size=5))
def test_yaml_round_trip_property(data):
    assert ansible_load(dump_ansible_yaml(data, "header")) == data


def test_jinja_looking_values_are_marked_unsafe_and_templates_are_not():
    document = dump_ansible_yaml({"PASSWORD": "a{{b}}c", "name": Template("{{ lookup('env', 'X') }}")}, "h")
    assert "PASSWORD: !unsafe 'a{{b}}c'" in document
    assert "name: '{{ lookup(''env'', ''X'') }}'" in document


def test_yaml_has_the_header_as_comments_and_no_aliases():
    shared = {"a": 1}
    document = dump_ansible_yaml({"one": shared, "two": shared}, "first line\nsecond line")
    assert document.startswith("# first line\n# second line\n---\n")
    assert "&" not in document and "*" not in document


def test_ini_values_survive_luigis_parser(tmp_path):
    values = [v for v in HOSTILE if "\t" not in v and not v.startswith(("- ", ": "))] + ["a=b", "x: y"]
    options = {f"k{i}": value for i, value in enumerate(values)}
    parser = luigi_read(dump_ini({"section": options}, "header"), tmp_path / "o.cfg")
    assert {key: parser.get("section", key) for key in options} == options


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text.filter(lambda v: v == v.strip() and "${" not in v and not any(c in v for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")))
def test_ini_round_trip_property(tmp_path, value):
    try:
        document = dump_ini({"s": {"k": value}}, "h")
    except ValueError:
        return  # refused with a message: never written wrongly
    assert luigi_read(document, tmp_path / "p.cfg").get("s", "k") == value


@pytest.mark.parametrize(
    "value, problem",
    [
        ("two\nlines", "line break"),
        (" padded", "whitespace"),
        ("${HOME}", "environment interpolation"),
        ("value ;comment", "inline comment"),
    ],
)
def test_ini_refuses_what_its_readers_would_change(value, problem):
    with pytest.raises(ValueError, match=f"\\[s\\] k: .*{problem}"):
        dump_ini({"s": {"k": value}}, "h")


def test_ini_has_no_inline_comments_and_keeps_key_case(tmp_path):
    document = dump_ini({"s": {"CamelKey": "v # not a comment"}}, "header")
    assert "CamelKey = v # not a comment" in document.splitlines()
    assert luigi_read(document, tmp_path / "c.cfg").get("s", "CamelKey") == "v # not a comment"


def source_and_dump(document: str, names: list[str], tmp_path) -> dict:
    env_file = tmp_path / "env"
    env_file.write_text(document)
    script = (
        f'. "{env_file}" && exec python3 -c "import json, os, sys; print(json.dumps({{n: os.environ.get(n) for n in sys.argv[1:]}}))" "$@"'
    )
    result = subprocess.run(
        ["/bin/sh", "-c", script, "sh", *names], capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}
    )
    return json.loads(result.stdout)


def test_shell_env_is_exported_to_child_processes_unchanged(tmp_path):
    variables = {f"V{i}": value for i, value in enumerate(HOSTILE + ["$(touch pwned)", "`id`", "$HOME", "", "line\nbreak"])}
    assert source_and_dump(dump_shell_env(variables, "header"), list(variables), tmp_path) == variables
    assert not (tmp_path / "pwned").exists()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30), min_size=1, max_size=5))
def test_shell_round_trip_property(tmp_path, values):
    variables = {f"V{i}": value for i, value in enumerate(values)}
    assert source_and_dump(dump_shell_env(variables, "h"), list(variables), tmp_path) == variables


def test_shell_refuses_a_bad_variable_name():
    with pytest.raises(ValueError, match="'BAD-NAME' is not a shell variable name"):
        dump_shell_env({"BAD-NAME": "x"}, "h")


def test_json_is_strict():
    document = dump_json({"password": 'a"b\\c\u00e9'})
    assert json.loads(document, parse_constant=lambda c: pytest.fail(f"non-standard constant {c}")) == {"password": 'a"b\\c\u00e9'}
