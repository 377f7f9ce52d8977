"""The deployments list (``analytics-provisioner list``, ``GET /deployments``), fed by the deployment lock's
table: two deployments run side by side, one ended and one still running, both listed with their status."""

import json
import threading

import pytest
from click.testing import CliRunner

from analytics_provisioner import cli
from analytics_provisioner import execution as executions
from analytics_provisioner.local.lambda_hook import Context
from analytics_provisioner.local.runner import execute
from testkit import load_event

pytestmark = pytest.mark.without_database


def test_the_cli_and_the_api_list_both_deployments_of_a_two_deployment_run(emulator, minimal_input, monkeypatch):
    other = {**minimal_input, "deployment_id": "acme-demo-2"}
    ended = execute(emulator, minimal_input)  # nothing seeded: Validate refuses it
    assert ended.status == "FAILED"
    gate = threading.Event()
    emulator.hook.before_invoke.append(lambda name, event: name == "ValidateFunction" and gate.wait(60))
    sfn = emulator.client("stepfunctions")
    started = executions.start(sfn, emulator.state_machines["ProvisionStateMachine"], other, "acme-demo-2")
    try:
        answer = emulator.hook.handlers["ApiFunction"](load_event("api/list.json"), Context("ApiFunction", 30))
        assert answer["statusCode"] == 200, answer["body"]
        listed = json.loads(answer["body"])["deployments"]
        result = CliRunner().invoke(
            cli.main,
            ["list", "--json", "--locks-table", "DeploymentLocksTable", "--region", "us-east-1"],
            env={"ANALYTICS_PROVISIONER_STACK": None},
            catch_exceptions=False,
        )
    finally:
        gate.set()
    assert result.exit_code == cli.EXIT_OK, result.output
    assert json.loads(result.stdout)["deployments"] == listed
    assert [(d["deployment_id"], d["provision"]["status"], d["teardown"]) for d in listed] == [
        ("acme-demo", "FAILED", None),
        ("acme-demo-2", "RUNNING", None),
    ]
    assert listed[0]["provision"]["execution_name"] == ended.name and listed[1]["provision"]["execution_arn"] == started.execution_arn
    for line in ("acme-demo ", "FAILED", "acme-demo-2", "RUNNING"):
        assert line in result.stderr, line
    executions.follow(sfn, started.execution_arn, timeout_seconds=120)
