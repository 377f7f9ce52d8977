"""The static gates (scripts/gates.sh) catch deliberately bad changes.

One run of the real script, with the real tools from .venv-gates and the repo's own configuration
(.semgrep/, .checkov.yaml, .cfnlintrc.yaml), on a copy of template.yaml made worse (a ``*`` action, a
log group without retention) and on small Python files that commit each risk our semgrep rules are
for, next to the legitimate shapes of the same code, which must pass.
"""

import copy
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from analytics_provisioner.local import template as cfn
from testkit import REPO

GATES_VENV = REPO / ".venv-gates"
GATES = ["cfn-lint", "checkov", "bandit", "semgrep", "suppressions"]
EXPECT = re.compile(r"#\s*expect:\s*(?P<rule>[\w-]+)")

# Each line marked `# expect: rule-id` must be reported by semgrep with that rule, and no other line.
CODE = {
    "sql_bad.py": """
from analytics_provisioner import mysql
from analytics_provisioner.mysql import quote


def create_database(cursor, name):
    cursor.execute(f"CREATE DATABASE {name}")  # expect: sql-built-by-string-formatting


def grant(cursor, database, user):
    cursor.execute(f"GRANT ALL ON {quote(database)}.* TO '{user}'")  # expect: sql-built-by-string-formatting


def drop(cursor, name):
    cursor.execute("DROP DATABASE %s" % name)  # expect: sql-built-by-string-formatting


def create_user(cursor, name):
    statement = "CREATE USER '{}'".format(name)
    cursor.execute(statement, ())  # expect: sql-built-by-string-formatting


def delete(cursor, table):
    cursor.executemany("DELETE FROM {table}".format(table=table), [])  # expect: sql-built-by-string-formatting


def select(cursor, name):
    cursor.execute("SELECT * FROM t WHERE a = '" + name + "'")  # expect: sql-built-by-string-formatting


def through_the_helper(cursor, user):
    mysql.execute(cursor, "create", f"CREATE DATABASE {user}")  # expect: sql-built-by-string-formatting
""",
    "sql_good.py": """
from analytics_provisioner import mysql
from analytics_provisioner.mysql import quote


def execute(cursor, template, identifiers, values):
    statement = template.format(*(quote(name).replace("%", "%%") for name in identifiers))
    cursor.execute(statement, values)


def create_user(cursor, user, host, password):
    cursor.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (user, host, password))


def create_database(cursor, database):
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {quote(database)}")
    cursor.execute("DROP DATABASE " + mysql.quote(database))
    mysql.execute(cursor, f"create {database}", "CREATE DATABASE IF NOT EXISTS {} CHARACTER SET %s", [database], ("utf8",))
""",
    "logging_bad.py": """
import json

from aws_lambda_powertools import Logger

logger = Logger()


@logger.inject_lambda_context(log_event=True)  # expect: log-event-enabled
def lambda_handler(event, context):
    logger.info(event)  # expect: log-whole-event
    logger.info("received", extra=event)  # expect: log-whole-event
    logger.debug(f"event: {event}")  # expect: log-whole-event
    logger.info(json.dumps(event))  # expect: log-whole-event
    print(event)  # expect: log-whole-event
    return {}


def run(state):
    logger.info("state", extra={"state": state})  # expect: log-whole-event
""",
    "logging_good.py": """
from aws_lambda_powertools import Logger

logger = Logger()


@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event, context):
    logger.info("phase started", extra={"phase": "Validate", "deployment": event["deployment_id"]})
    print("keys", len(event))
    return {}
""",
    "secrets_bad.py": """
import boto3

from analytics_provisioner.mysql import new_password


def run(state):
    password = new_password()  # expect: secret-in-return-value
    return {"database": {"user": "analytics", "password": password}}  # expect: secret-in-return-value


def status(event):
    iam = boto3.client("iam")
    key = iam.create_access_key(UserName="analytics_elasticsearch")  # expect: secret-in-return-value
    return {"es_user": key}


def lambda_handler(event, context):
    return boto3.client("secretsmanager").get_secret_value(SecretId="x")  # expect: secret-in-return-value


def run(state):
    pair = boto3.client("ec2").create_key_pair(KeyName="analytics")  # expect: secret-in-return-value
    return {"key_pairs": {"analytics": {"name": pair["KeyName"], "material": pair["KeyMaterial"]}}}
""",
    "secrets_good.py": """
import boto3

from analytics_provisioner.aws import secrets


def run(state):
    pair = boto3.client("ec2").create_key_pair(KeyName="analytics")
    arn = secrets.put_json("k", {"key_name": pair["KeyName"], "private_key": pair["KeyMaterial"]}, "us-east-1", "d")
    return {"key_pairs": {"analytics": {"name": pair["KeyName"], "secret_arn": arn}}, "master_password_secret_arn": arn}


def vars_analytics(ctx):
    return {"ANALYTICS_API_PASSWORD": ctx.password}
""",
    "random_bad.py": """
import random  # expect: random-module-for-secrets
import string


def new_password():
    return "".join(random.choice(string.ascii_letters) for _ in range(32))  # expect: random-module-for-secrets
""",
    "random_good.py": """
import secrets
import string


def new_password():
    return "".join(secrets.choice(string.ascii_letters) for _ in range(32))
""",
    "suppressions_bad.py": """
TOKEN = "fixture"  # nosec
LIMIT = 10  # nosemgrep
COUNT: int = "3"  # type: ignore[assignment]
""",
}


def _worse_template(directory: Path) -> Path:
    """template.yaml with a ``*`` action in a function's policy and a log group without retention."""
    template = copy.deepcopy(cfn.load())
    resources = template["Resources"]
    validate = resources["ValidateFunction"]["Properties"]
    validate["Policies"] = [*validate.get("Policies", []), {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
    del resources["ValidateLogGroup"]["Properties"]["RetentionInDays"]
    for resource in resources.values():  # the copy lives elsewhere: local paths become absolute
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(properties.get(key), str):
                properties[key] = str(REPO / properties[key])
    path = directory / "template.json"
    path.write_text(json.dumps(template, indent=1))
    return path


@pytest.fixture(scope="module")
def gates_venv() -> Path:
    """In CI `make test` builds it first: a missing environment fails, it never skips."""
    missing = [tool for tool in ("cfn-lint", "checkov", "bandit", "semgrep") if not (GATES_VENV / "bin" / tool).exists()]
    if missing:
        pytest.fail(f"{GATES_VENV} lacks {', '.join(missing)}: run `make setup-gates` (the gates and these tests need it)")
    return GATES_VENV


@pytest.fixture(scope="module")
def bad_run(gates_venv, tmp_path_factory):
    root = tmp_path_factory.mktemp("gates")
    code = root / "code"
    code.mkdir()
    for name, source in CODE.items():
        (code / name).write_text(source.lstrip())
    reports = root / "reports"
    env = dict(os.environ, GATES_TEMPLATE=str(_worse_template(root)), GATES_CODE=str(code), GATES_REPORTS=str(reports))
    result = subprocess.run([str(REPO / "scripts" / "gates.sh")], env=env, capture_output=True, text=True, timeout=600)
    logs = {gate: (reports / f"{gate}.log").read_text() for gate in GATES}
    return result, logs, code


def test_every_gate_fails_on_the_bad_change(bad_run):
    result, _, _ = bad_run
    assert result.returncode == 1, result.stdout + result.stderr
    verdicts = [line.split()[:2] for line in result.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert verdicts == [["FAIL", gate] for gate in GATES], result.stdout


def test_cfn_lint_sees_the_star_action(bad_run):
    _, logs, _ = bad_run
    assert re.search(r":WS1003:Lambda function ValidateFunction has an inline policy with stars in actions", logs["cfn-lint"]), logs[
        "cfn-lint"
    ]


def test_checkov_sees_the_star_action_in_the_generated_role_and_the_missing_retention(bad_run):
    _, logs, _ = bad_run
    failed = set(re.findall(r"Check: (CKV_AWS_\d+):.*\n\s+FAILED for resource: (\S+)", logs["checkov"]))
    assert {
        ("CKV_AWS_63", "AWS::IAM::Role.ValidateFunctionRole"),
        ("CKV_AWS_62", "AWS::IAM::Role.ValidateFunctionRole"),
        ("CKV_AWS_66", "AWS::Logs::LogGroup.ValidateLogGroup"),
    } <= failed, logs["checkov"]


def _semgrep_findings(log: str, code: Path) -> set:
    found = set()
    for line in log.splitlines():
        match = re.match(r"(?P<path>[^:]+):(?P<line>\d+):\d+:\w+\((?P<rule>[\w.-]+)\):", line)
        if match:
            found.add((Path(match["path"]).name, int(match["line"]), match["rule"].rsplit(".", 1)[-1]))
    return found


def _expected(code: Path) -> set:
    return {
        (path.name, number, marker["rule"])
        for path in code.glob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if (marker := EXPECT.search(line))
    }


def test_semgrep_reports_each_bad_line_and_nothing_else(bad_run):
    _, logs, code = bad_run
    assert _semgrep_findings(logs["semgrep"], code) == _expected(code), logs["semgrep"]


def test_every_semgrep_rule_is_proven_by_a_bad_line(bad_run):
    _, _, code = bad_run
    rules = {rule["id"] for path in (REPO / ".semgrep").glob("*.yml") for rule in yaml.safe_load(path.read_text())["rules"]}
    assert rules == {rule for _, _, rule in _expected(code)}


def test_bandit_sees_random_used_for_a_password(bad_run):
    _, logs, code = bad_run
    line = next(n for n, text in enumerate((code / "random_bad.py").read_text().splitlines(), 1) if "random.choice" in text)
    assert re.search(rf"random_bad\.py:{line}: B311 ", logs["bandit"]), logs["bandit"]


def test_a_suppression_without_its_reason_fails(bad_run):
    _, logs, _ = bad_run
    assert re.search(r"suppressions_bad\.py:1: bandit suppression without ids and reason", logs["suppressions"]), logs["suppressions"]
    assert re.search(r"suppressions_bad\.py:2: semgrep suppression without rule id and reason", logs["suppressions"]), logs["suppressions"]
    assert re.search(r"suppressions_bad\.py:3: mypy suppression without error code and reason", logs["suppressions"]), logs["suppressions"]


def test_a_skip_list_entry_or_template_skip_without_its_reason_fails(gates_venv, tmp_path):
    skips = tmp_path / ".checkov.yaml"
    skips.write_text("skip-check:\n  - CKV_AWS_116  # synchronous invocations only\n  - CKV_AWS_117\n")
    ignores = tmp_path / ".cfnlintrc.yaml"
    ignores.write_text("ignore_checks: [WS1000]\n")
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Metadata:\n      checkov:\n        skip:\n          - id: CKV_AWS_18\n"
    )
    result = subprocess.run(
        [
            str(gates_venv / "bin" / "python"),
            str(REPO / "scripts" / "check_suppressions.py"),
            "--template",
            str(template),
            "--lists",
            str(skips),
            str(ignores),
            "--",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{template}: Bucket: checkov skip {{'id': 'CKV_AWS_18'}} needs a comment giving its reason",
        f"{skips}:3: skip-check entry 'CKV_AWS_117' without a `# reason` comment",
        f"{ignores}:1: ignore_checks entries without a `# reason` comment",
    ], result.stdout + result.stderr
