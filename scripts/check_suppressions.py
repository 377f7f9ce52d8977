"""Every suppression of a gate's finding carries its reason, in the repo, next to the suppression.

    python scripts/check_suppressions.py --template template.yaml --lists .checkov.yaml .cfnlintrc.yaml -- layers functions

Accepted forms (anything else is reported as unexplained):
- bandit:   ``# nosec B105  # moto's fake credentials`` (ids, then the reason after a second ``#``:
            bandit reads every word before it as a test name)
- semgrep:  ``# nosemgrep: rule-id  reason`` (on the line, or alone on the line above)
- mypy:     ``# type: ignore[error-code]  # reason`` (codes in brackets, the reason after a second ``#``)
- checkov:  resource ``Metadata: {checkov: {skip: [{id: CKV_AWS_n, comment: reason}]}}`` in the
            template, or a ``skip-check`` entry in .checkov.yaml with a ``# reason`` comment
- cfn-lint: an ``ignore_checks`` entry (.cfnlintrc.yaml or template Metadata) with a ``# reason`` comment
"""

import argparse
import io
import re
import sys
import tokenize
from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

NOSEC = re.compile(r"#\s*nosec\b", re.IGNORECASE)
NOSEC_EXPLAINED = re.compile(r"#\s*nosec\s+B\d{3}(\s*,\s*B\d{3})*\s+#\s*\S")
NOSEMGREP = re.compile(r"\bnosem(grep)?\b", re.IGNORECASE)
NOSEMGREP_EXPLAINED = re.compile(r"\bnosemgrep:\s*[\w.-]+(\s*,\s*[\w.-]+)*\s+\S")
LIST_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>skip-check|skip_check|ignore_checks)\s*:\s*(?P<rest>.*)$")
ENTRY = re.compile(r"^(?P<indent>\s*)-\s*(?P<rest>.*)$")
EXPLAINED = re.compile(r"#\s*\S")
TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore\b")
TYPE_IGNORE_EXPLAINED = re.compile(r"#\s*type:\s*ignore\[[\w-]+(\s*,\s*[\w-]+)*\]\s*#\s*\S")


def python_comments(path: Path) -> list[str]:
    problems = []
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        where = f"{path}:{token.start[0]}"
        if NOSEC.search(token.string) and not NOSEC_EXPLAINED.search(token.string):
            problems.append(f"{where}: bandit suppression without ids and reason; write `# nosec BNNN  # reason`")
        if NOSEMGREP.search(token.string) and not NOSEMGREP_EXPLAINED.search(token.string):
            problems.append(f"{where}: semgrep suppression without rule id and reason; write `# nosemgrep: rule-id  reason`")
        if TYPE_IGNORE.search(token.string) and not TYPE_IGNORE_EXPLAINED.search(token.string):
            problems.append(f"{where}: mypy suppression without error code and reason; write `# type: ignore[code]  # reason`")
    return problems


def list_entries(path: Path) -> list[str]:
    """skip-check / ignore_checks entries without a ``# reason`` comment."""
    problems = []
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines, 1):
        key = LIST_KEY.match(line)
        if not key:
            continue
        if key["rest"].strip().startswith("["):
            if not EXPLAINED.search(key["rest"]):
                problems.append(f"{path}:{number}: {key['key']} entries without a `# reason` comment")
            continue
        for offset, entry_line in enumerate(lines[number:], number + 1):
            entry = ENTRY.match(entry_line)
            if not entry or len(entry["indent"]) < len(key["indent"]):
                if entry_line.strip() and not entry_line.strip().startswith("#"):
                    break
                continue
            if not EXPLAINED.search(entry["rest"]):
                problems.append(f"{path}:{offset}: {key['key']} entry {entry['rest'].strip()!r} without a `# reason` comment")
    return problems


def template_skips(path: Path) -> list[str]:
    problems = []
    for logical_id, resource in (yaml_parse(path.read_text()).get("Resources") or {}).items():
        skips = ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip") or []
        for skip in skips:
            comment = skip.get("comment") if isinstance(skip, dict) else None
            if not (isinstance(comment, str) and comment.strip()):
                problems.append(f"{path}: {logical_id}: checkov skip {skip!r} needs a comment giving its reason")
    return problems + list_entries(path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, required=True)
    parser.add_argument("--lists", type=Path, nargs="*", default=[], help="skip-list files (.checkov.yaml, .cfnlintrc.yaml)")
    parser.add_argument("code", type=Path, nargs="+", help="directories of Python code")
    args = parser.parse_args(argv)
    problems = template_skips(args.template)
    for path in args.lists:
        if path.is_file():
            problems += list_entries(path)
    for directory in args.code:
        for path in sorted(directory.rglob("*.py")):
            problems += python_comments(path)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
