"""The operator CLI (start, status, watch, teardown) end to end against local mode: the emulator's moto
runs the real provisioning state machine and the CLI's boto3 calls go to it.

Like the API tests, these end executions in their first state (``Gate.cut_short``) unless the test
lets the real Validate fail, hold them there for "running", and use stand-in state machines for a
succeeded execution with outputs.
"""

import copy
import json
import threading

import pytest
from click.testing import CliRunner

from analytics_provisioner import cli
from analytics_provisioner import execution as executions
from analytics_provisioner.aws import clients
from analytics_provisioner.local.seed import seed
from testkit import VALIDATE_FAILED_PATH

RENDER_OUTPUT = {"secure_repo": "s3://secure/acme-demo/", "next_steps": ["run ansible"]}
UNSET = {"PROVISION_STATE_MACHINE_ARN": None, "TEARDOWN_STATE_MACHINE_ARN": None, "ANALYTICS_PROVISIONER_STACK": None}


class Local:
    def __init__(self, emulator, tmp_path, document: dict):
        self.emulator, self.tmp_path, self.document = emulator, tmp_path, document
        self.sfn = emulator.client("stepfunctions")
        self.provision = emulator.state_machines["ProvisionStateMachine"]
        self.gate, self.reached = threading.Event(), threading.Event()
        self.gate.set()
        self.cut_short = True
        emulator.hook.before_invoke.append(self._intercept)

    def _intercept(self, function_name, event):
        if function_name != "ValidateFunction":
            return
        if not self.gate.is_set():
            self.reached.set()
            assert self.gate.wait(60), "Validate was never released"
        if self.cut_short:
            raise RuntimeError("the CLI tests end executions in their first state")

    def hold(self) -> None:
        self.gate.clear()
        self.reached.clear()

    def wait_until_held(self) -> None:
        assert self.reached.wait(30), "no execution reached Validate"

    def input_file(self, document: dict | None = None, name: str = "input.json") -> str:
        path = self.tmp_path / name
        path.write_text(json.dumps(document or self.document))
        return str(path)

    def run(self, *args: str, machine: str | None = None, input: str | None = None):
        """The CLI as a user runs it, pointed at the emulator's state machine unless --stack is given."""
        target = [] if "--stack" in args else ["--state-machine-arn", machine or self.provision]
        return CliRunner().invoke(cli.main, [*args, *target], env=UNSET, catch_exceptions=False, input=input)

    def executions(self, machine: str | None = None) -> list[dict]:
        return self.sfn.list_executions(stateMachineArn=machine or self.provision)["executions"]

    def finish_all(self) -> None:
        self.gate.set()
        for machine in self.sfn.list_state_machines()["stateMachines"]:
            for running in self.sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")["executions"]:
                executions.follow(self.sfn, running["executionArn"], timeout_seconds=120)

    def stand_in(self, name: str, output: dict) -> str:
        """A state machine that succeeds at once with ``output``."""
        return self._machine(name, {"Render secure-repo files": {"Type": "Pass", "Result": output, "End": True}})

    def failing_stand_in(self, name: str, error: str, cause: str) -> str:
        return self._machine(name, {"Deployment failed": {"Type": "Fail", "Error": error, "Cause": cause}})

    def _machine(self, name: str, states: dict) -> str:
        role = self.emulator.client("iam").get_role(RoleName="analytics-provisioner-local")["Role"]["Arn"]
        definition = {"StartAt": next(iter(states)), "States": states}
        return self.sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)["stateMachineArn"]

    def stack(self, outputs: dict, name: str = "analytics-provisioner") -> None:
        template = {
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        self.emulator.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.fixture
def local(emulator, minimal_input, tmp_path):
    seed(emulator, minimal_input)
    harness = Local(emulator, tmp_path, minimal_input)
    yield harness
    harness.finish_all()


def _bad_vpc(document: dict) -> dict:
    document = copy.deepcopy(document)
    document["network"]["vpc_id"] = "vpc-0badbadbadbadbad0"
    return document


def test_start_wait_follows_every_state_and_exits_1_when_the_deployment_fails(local):
    local.cut_short = False
    document = _bad_vpc(local.document)
    result = local.run("start", "--input", local.input_file(document), "--wait", "--json", "--poll-seconds", "0.02")
    assert result.exit_code == cli.EXIT_FAILED, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "FAILED" and report["error"] == "Validate.PreflightError" and report["started"] is True
    assert report["execution_name"] == executions.execution_name(document)
    assert [s["state"] for s in report["states"]][:5] == VALIDATE_FAILED_PATH[:5]
    for line in ("→ Validate input", "✗ Validate input", "→ Write failure report", "FAILED", "network.vpc_id"):
        assert line in result.stderr, line
    assert len(local.executions()) == 1


def test_start_wait_exits_0_and_prints_the_outputs_when_it_succeeds(local):
    stand_in = local.stand_in("provision-stand-in", RENDER_OUTPUT)
    result = local.run("start", "--input", local.input_file(), "--wait", "--json", "--poll-seconds", "0.02", machine=stand_in)
    assert result.exit_code == cli.EXIT_OK, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "SUCCEEDED" and report["output"] == RENDER_OUTPUT
    assert "SUCCEEDED" in result.stderr and "s3://secure/acme-demo/" in result.stderr


def test_messages_are_printed_verbatim(local):
    """No emoji codes (":secret:" is in every Secrets Manager ARN) and no markup in what AWS reports."""
    cause = "Render: cannot read arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/app-AbCdEf [/then] retry"
    failing = local.failing_stand_in("provision-failing", "Render.AwsCallError", cause)
    result = local.run("start", "--input", local.input_file(), "--wait", "--poll-seconds", "0.02", machine=failing)
    assert result.exit_code == cli.EXIT_FAILED, result.output
    assert cause in result.stderr
    assert "✗ Deployment failed" in result.stderr


VALIDATE_WARNINGS = ["director_ssh_cidrs: 0.0.0.0/0 opens SSH to the world", "t2.small.search cannot encrypt the domain at rest"]


def test_warnings_of_a_failed_execution_are_printed_at_the_end_of_status(local):
    """The warnings Validate put in the state reach the terminal even when a later phase failed."""
    failing = local._machine(
        "provision-warned-then-failing",
        {
            "Validate input": {"Type": "Pass", "Result": {"deployment": {}, "warnings": VALIDATE_WARNINGS}, "Next": "Network failed"},
            "Network failed": {"Type": "Fail", "Error": "Network.AwsCallError", "Cause": "Network: refused"},
        },
    )
    local.run("start", "--input", local.input_file(), "--wait", "--poll-seconds", "0.02", machine=failing)
    result = local.run("status", "acme-demo", "--json", machine=failing)
    assert result.exit_code == cli.EXIT_FAILED
    assert json.loads(result.stdout)["warnings"] == VALIDATE_WARNINGS
    tail = result.stderr[result.stderr.index("Network.AwsCallError") :]
    assert "2 warnings:" in tail and all(warning in tail for warning in VALIDATE_WARNINGS)


def test_warnings_of_a_finished_deployment_are_printed_after_its_outputs(local):
    stand_in = local.stand_in("provision-warned", {**RENDER_OUTPUT, "warnings": VALIDATE_WARNINGS[:1]})
    result = local.run("start", "--input", local.input_file(), "--wait", "--poll-seconds", "0.02", machine=stand_in)
    assert result.exit_code == cli.EXIT_OK, result.output
    assert result.stderr.rindex("1 warning:") > result.stderr.index("outputs:")
    assert VALIDATE_WARNINGS[0] in result.stderr.splitlines()[-1]


def test_start_twice_answers_with_one_execution_and_a_different_start_is_refused_while_it_runs(local):
    local.hold()
    first = local.run("start", "--input", local.input_file(), "--json")
    assert first.exit_code == cli.EXIT_OK, first.output
    started = json.loads(first.stdout)
    assert started["started"] is True and started["status"] == "RUNNING"
    again = local.run("start", "--input", local.input_file(), "--json")
    assert again.exit_code == cli.EXIT_OK
    assert json.loads(again.stdout) == {**started, "started": False}
    changed = copy.deepcopy(local.document)
    changed["edxapp"]["contact_email"] = "analytics@acme.org"
    busy = local.run("start", "--input", local.input_file(changed, "changed.json"), "--json")
    assert busy.exit_code == cli.EXIT_BUSY
    refusal = json.loads(busy.stdout)
    assert refusal["error"] == "busy" and refusal["running_execution"]["execution_arn"] == started["execution_arn"]
    assert "is still running" in busy.stderr
    assert [e["executionArn"] for e in local.executions()] == [started["execution_arn"]]


def test_an_input_that_already_ran_answers_with_its_outcome_until_another_attempt_is_asked(local):
    first = json.loads(local.run("start", "--input", local.input_file(), "--wait", "--json", "--poll-seconds", "0.02").stdout)
    assert first["status"] == "FAILED"
    again = local.run("start", "--input", local.input_file(), "--json")
    assert again.exit_code == cli.EXIT_FAILED
    assert "already ran (FAILED)" in again.stderr and "--attempt 2" in again.stderr
    answer = json.loads(again.stdout)
    assert answer["execution_arn"] == first["execution_arn"] and answer["started"] is False and answer["status"] == "FAILED"
    rerun = local.run("start", "--input", local.input_file(), "--attempt", "2", "--json")
    assert rerun.exit_code == cli.EXIT_OK
    assert json.loads(rerun.stdout)["execution_name"] == first["execution_name"] + "-r2"
    assert len(local.executions()) == 2


def test_a_bad_input_file_exits_2_naming_each_field_and_starts_nothing(local):
    document = copy.deepcopy(local.document)
    document["edxapp"].pop("contact_email")
    document["deployment_id"] = "Acme Demo"
    result = local.run("start", "--input", local.input_file(document), "--wait")
    assert result.exit_code == cli.EXIT_USAGE
    assert "edxapp.contact_email: is required" in result.stderr
    assert "deployment_id: 'Acme Demo' is not valid" in result.stderr
    assert "nothing was started" in result.stderr
    assert local.executions() == []


def test_status_exits_4_while_running_then_by_the_outcome(local):
    local.hold()
    local.run("start", "--input", local.input_file())
    local.wait_until_held()
    running = local.run("status", "acme-demo", "--json")
    assert running.exit_code == cli.EXIT_BUSY
    report = json.loads(running.stdout)
    assert report["status"] == "RUNNING" and report["running_states"] == ["Validate input"]
    local.finish_all()
    finished = local.run("status", "acme-demo", "--json")
    assert finished.exit_code == cli.EXIT_FAILED
    report = json.loads(finished.stdout)
    assert report["status"] == "FAILED" and report["states"][3] == {**report["states"][3], "state": "Validate input", "status": "failed"}
    assert "Validate input" in finished.stderr and "RuntimeError" in finished.stderr


def test_watch_shows_each_state_as_it_happens_then_the_result(local):
    local.cut_short = False
    local.hold()
    local.run("start", "--input", local.input_file(_bad_vpc(local.document)))
    local.wait_until_held()
    # Release Validate only once watch has read the history: it must see the execution running.
    local.sfn.meta.events.register("after-call.sfn.GetExecutionHistory", lambda **_: local.gate.set())
    result = local.run("watch", "acme-demo", "--json", "--poll-seconds", "0.02")
    assert result.exit_code == cli.EXIT_FAILED, result.output
    lines = result.stderr.splitlines()
    assert "RUNNING since" in lines[0]
    progress = [line.split(None, 1)[1] for line in lines[1:] if line.startswith("  ") and line.split()[1] in ("→", "✓", "✗")]
    assert progress[0] == "→ Take deployment lock" and progress[1].startswith("✓ Take deployment lock")
    assert progress[2:5] == ["→ Validate input", f"✗ Validate input {progress[3].rsplit(' ', 1)[1]}", "→ Write failure report"]
    assert any(line.startswith("FAILED") and "Validate.PreflightError" in line for line in lines)
    assert json.loads(result.stdout)["error"] == "Validate.PreflightError"


def test_status_of_a_deployment_without_executions_exits_2(local):
    result = local.run("status", "acme-unknown")
    assert result.exit_code == cli.EXIT_USAGE
    assert "no execution of deployment 'acme-unknown'" in result.stderr


def test_the_stack_outputs_name_the_state_machines(local):
    local.stack({"ProvisionStateMachineArn": local.provision})
    local.run("start", "--input", local.input_file(), "--wait", "--stack", "analytics-provisioner")
    result = local.run("status", "acme-demo", "--json", "--stack", "analytics-provisioner")
    assert result.exit_code == cli.EXIT_FAILED
    assert json.loads(result.stdout)["execution_arn"].startswith(local.provision.replace(":stateMachine:", ":execution:"))
    teardown = local.run("teardown", "acme-demo", "--stack", "analytics-provisioner", "--yes")
    assert teardown.exit_code == cli.EXIT_ENVIRONMENT
    assert "the teardown workflow is not deployed" in teardown.stderr


def test_a_missing_stack_exits_3_saying_what_to_do(local):
    result = local.run("status", "acme-demo", "--stack", "no-such-stack")
    assert result.exit_code == cli.EXIT_ENVIRONMENT
    assert "stack 'no-such-stack' not found in us-east-1" in result.stderr and "sam deploy" in result.stderr


def test_missing_credentials_exit_3_saying_what_to_do(local, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    clients.reset()
    try:
        result = local.run("status", "acme-demo")
    finally:
        monkeypatch.undo()
        clients.reset()
    assert result.exit_code == cli.EXIT_ENVIRONMENT
    assert "no AWS credentials" in result.stderr


def test_teardown_starts_with_the_provisioned_input(local):
    local.run("start", "--input", local.input_file(), "--wait")
    stand_in = local.stand_in("teardown-stand-in", {"deleted": []})
    refused = local.run("teardown", "acme-demo", "--keep-data", "--delete-data", "--teardown-state-machine-arn", stand_in)
    assert refused.exit_code == cli.EXIT_USAGE and "contradicts delete_data" in refused.stderr
    assert local.executions(stand_in) == []
    unconfirmed = local.run("teardown", "acme-demo", "--delete-data", "--teardown-state-machine-arn", stand_in, input="acme-other\n")
    assert unconfirmed.exit_code == cli.EXIT_USAGE and "not confirmed" in unconfirmed.stderr
    assert "teardown of acme-demo would:" in unconfirmed.stderr and "revert RDS instance acme-edxapp-db" in unconfirmed.stderr
    assert local.executions(stand_in) == []
    result = local.run(
        "teardown",
        "acme-demo",
        "--delete-data",
        "--delete-tracking-logs",
        "--wait",
        "--json",
        "--poll-seconds",
        "0.02",
        "--teardown-state-machine-arn",
        stand_in,
        input="acme-demo\n",
    )
    assert result.exit_code == cli.EXIT_OK, result.output
    assert json.loads(result.stdout)["output"] == {"deleted": []}
    [teardown] = local.executions(stand_in)
    request = json.loads(local.sfn.describe_execution(executionArn=teardown["executionArn"])["input"])
    assert request == {"deployment": local.document, "delete_data": True, "delete_tracking_logs": True}
    status = local.run("status", "acme-demo", "--teardown", "--json", "--teardown-state-machine-arn", stand_in)
    assert status.exit_code == cli.EXIT_OK and json.loads(status.stdout)["execution_arn"] == teardown["executionArn"]
    provisioned = local.run("status", "acme-demo", "--json", "--teardown-state-machine-arn", stand_in)
    assert json.loads(provisioned.stdout)["torn_down"]["execution_name"] == teardown["name"]
    assert "TORN DOWN by " + teardown["name"] in provisioned.stderr


# --- the exit-code table of the README, one row each, with --json on stdout on the refusal paths --------


def test_exit_2_for_a_bad_mysql_url_with_a_json_refusal(tmp_path):
    (tmp_path / "input.json").write_text("{}")
    result = CliRunner().invoke(
        cli.main,
        [
            "local",
            "run",
            "--input",
            str(tmp_path / "input.json"),
            "--out",
            str(tmp_path / "out"),
            "--mysql",
            "postgres://root:pw@localhost",
            "--json",
        ],
        env=UNSET,
    )
    assert result.exit_code == cli.EXIT_USAGE
    refusal = json.loads(result.stdout)
    assert refusal["error"] == "bad_input" and refusal["exit_code"] == 2 and "--mysql" in refusal["message"]
    assert "pw@" not in result.stdout + result.stderr


def test_exit_3_when_no_mysql_answers_saying_so_without_the_password(tmp_path):
    (tmp_path / "input.json").write_text(json.dumps({**_minimal(), "deployment_id": "acme-demo"}))
    result = CliRunner().invoke(
        cli.main,
        [
            "local",
            "run",
            "--input",
            str(tmp_path / "input.json"),
            "--out",
            str(tmp_path / "out"),
            "--mysql",
            "mysql://root:hunter22@127.0.0.1:1",
            "--json",
        ],
        env=UNSET,
    )
    assert result.exit_code == cli.EXIT_ENVIRONMENT
    refusal = json.loads(result.stdout)
    assert refusal["error"] == "environment" and "no MySQL/MariaDB answers at mysql://root@127.0.0.1:1" in refusal["message"]
    assert "hunter22" not in result.stdout + result.stderr


def test_exit_2_json_for_a_status_without_executions(local):
    result = local.run("status", "acme-unknown", "--json")
    assert result.exit_code == cli.EXIT_USAGE
    assert json.loads(result.stdout)["error"] == "bad_input"


def test_exit_3_json_for_a_missing_stack(local):
    result = local.run("status", "acme-demo", "--stack", "no-such-stack", "--json")
    assert result.exit_code == cli.EXIT_ENVIRONMENT
    assert json.loads(result.stdout) == {"error": "environment", "exit_code": 3, "message": json.loads(result.stdout)["message"]}


def test_the_rerun_hint_names_the_next_attempt_not_one_that_ran(local):
    local.run("start", "--input", local.input_file(), "--wait", "--poll-seconds", "0.02")
    local.run("start", "--input", local.input_file(), "--attempt", "2", "--wait", "--poll-seconds", "0.02")
    again = local.run("start", "--input", local.input_file())
    assert again.exit_code == cli.EXIT_FAILED
    assert "--attempt 3" in again.stderr and "--attempt 2" not in again.stderr


def _minimal() -> dict:
    from testkit import load_event

    return load_event("input-minimal.json")


def test_progress_groups_states_by_branch_and_ends_every_branch_with_a_line(local):
    """Every branch ends with a line saying how; Choice and Pass stay hidden; a Wait says how long until
    its next check."""
    failing = local._machine(
        "provision-parallel-stand-in",
        {
            "Create resources in parallel": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "Create search domain",
                        "States": {
                            "Create search domain": {
                                "Type": "Pass",
                                "Result": {"next_wait_seconds": 3},
                                "ResultPath": "$.search",
                                "Next": "Wait for search domain",
                            },
                            "Wait for search domain": {"Type": "Wait", "SecondsPath": "$.search.next_wait_seconds", "Next": "Search done"},
                            "Search done": {"Type": "Pass", "End": True},
                        },
                    },
                    {
                        "StartAt": "Ensure S3 buckets",
                        "States": {
                            "Ensure S3 buckets": {"Type": "Pass", "Next": "Storage failed"},
                            "Storage failed": {"Type": "Fail", "Error": "Storage.AwsCallError", "Cause": "Storage: refused"},
                        },
                    },
                ],
            },
        },
    )
    result = local.run("start", "--input", local.input_file(), "--wait", "--poll-seconds", "0.02", machine=failing)
    assert result.exit_code == cli.EXIT_FAILED, result.output
    lines = [
        line.split(None, 1)[1]
        for line in result.stderr.splitlines()
        if line.startswith("  ") and ":" in line.split()[0] and " " in line.strip()
    ]
    assert "┌ Create resources in parallel: search domain, S3 buckets" in lines
    assert "│ S3 buckets    ✗ Storage failed" in lines and "│ S3 buckets    ■ failed" in lines
    # The branches race (local mode's waits take no time): the search branch waited and ended, or the
    # failure stopped it before its first state; either way it gets its line, and its wait says how long.
    search = [line for line in lines if line.startswith("│ search domain")]
    assert search in (
        ["│ search domain … waiting for search domain (next check in 3 s)", "│ search domain ■ done"],
        ["│ search domain ■ stopped before it began (another branch failed first)"],
    ), search
    assert not any("Search done" in line or "Ensure S3 buckets" in line for line in lines), "Pass states are bookkeeping"


def test_a_branch_the_execution_stopped_gets_its_own_end_line(capsys):
    from analytics_provisioner.local import template as cfn
    from analytics_provisioner.progress import Layout

    shown = cli._Progress(0.0, Layout.of((cfn.REPO_ROOT / "statemachine" / "provision.asl.json").read_text()))
    for name, kind in (("Create search domain", "Task"), ("Ensure S3 buckets", "Task")):
        shown.on_change("entered", executions.StateRun(name, 1.0, kind=kind))
    shown.on_change("exited", executions.StateRun("Ensure S3 buckets", 1.0, 2.0, "failed"))
    shown.on_change("entered", executions.StateRun("Storage failed", 2.0, kind="Fail"))
    shown.finish()
    lines = [line.split(None, 1)[1] for line in capsys.readouterr().err.splitlines()]
    assert "│ S3 buckets             ■ failed" in lines
    assert any(line.startswith("│ search domain          ■ stopped") for line in lines), lines


def test_a_branch_stopped_before_its_first_state_gets_its_end_line_too(capsys):
    """Step Functions may stop a branch whose first state never began (another failed at once)."""
    from analytics_provisioner.local import template as cfn
    from analytics_provisioner.progress import Layout

    shown = cli._Progress(0.0, Layout.of((cfn.REPO_ROOT / "statemachine" / "provision.asl.json").read_text()))
    parallel = next(name for name in shown.layout.parallels)
    shown.on_change("entered", executions.StateRun(parallel, 1.0, kind="Parallel"))
    shown.on_change("entered", executions.StateRun("Ensure S3 buckets", 1.0, kind="Task"))
    shown.on_change("exited", executions.StateRun("Ensure S3 buckets", 1.0, 2.0, "failed"))
    shown.on_change("entered", executions.StateRun("Storage failed", 2.0, kind="Fail"))
    shown.finish()
    lines = [line.split(None, 1)[1] for line in capsys.readouterr().err.splitlines()]
    assert "│ S3 buckets             ■ failed" in lines
    assert "│ search domain          ■ stopped before it began (another branch failed first)" in lines, lines


def test_status_writes_the_timeline_of_the_latest_execution(local, tmp_path):
    stand_in = local.stand_in("provision-timeline", RENDER_OUTPUT)
    local.run("start", "--input", local.input_file(), "--wait", "--poll-seconds", "0.02", machine=stand_in)
    picture = tmp_path / "timeline.svg"
    result = local.run("status", "acme-demo", "--timeline", str(picture), machine=stand_in)
    assert result.exit_code == cli.EXIT_OK, result.output
    name = json.loads(local.run("status", "acme-demo", "--json", machine=stand_in).stdout)["execution_name"]
    assert picture.read_text().startswith("<svg") and f"{name} SUCCEEDED" in picture.read_text()
