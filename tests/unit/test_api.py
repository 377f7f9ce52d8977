"""The deployments API, driven with API Gateway events (events/api/) against the emulator's moto, which
executes the real provisioning state machine with our handlers in-process.

The API does not depend on how far an execution gets, so these tests end every execution in its
first state (``Api.cut_short``), hold it there with a gate for "running", let the real Validate
fail on a bad VPC for a real "failed", and use stand-in state machines where a succeeded output
is needed.
"""

import copy
import json
import threading

import pytest

from analytics_provisioner import execution as executions
from analytics_provisioner.deployment import validation_errors
from analytics_provisioner.local.lambda_hook import Context
from analytics_provisioner.local.seed import seed
from testkit import EVENTS, VALIDATE_FAILED_PATH, load_event

pytestmark = pytest.mark.without_database

STATUS_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/deployments/acme-demo"
RENDER_OUTPUT = {
    "secure_repo": "s3://secure/acme-demo/",
    "files": ["s3://secure/acme-demo/vars-analytics.yml"],
    "next_steps": ["run ansible"],
}


class Api:
    """Calls the ApiFunction the emulator loaded from template.yaml, as API Gateway would."""

    def __init__(self, emulator, monkeypatch):
        self.emulator, self.monkeypatch = emulator, monkeypatch
        self.sfn = emulator.client("stepfunctions")
        self.provision = emulator.state_machines["ProvisionStateMachine"]
        monkeypatch.setenv("PROVISION_STATE_MACHINE_ARN", self.provision)
        monkeypatch.delenv("TEARDOWN_STATE_MACHINE_ARN", raising=False)
        self.gate, self.reached = threading.Event(), threading.Event()
        self.held: set[str] = set()
        self.cut_short = True
        emulator.hook.before_invoke.append(self._intercept)

    def _intercept(self, function_name, event):
        if function_name in self.held:
            self.reached.set()
            assert self.gate.wait(60), "a held function was never released"
        if function_name == "ValidateFunction" and self.cut_short:
            raise RuntimeError("the API tests end executions in their first state")

    def hold(self, function_name: str = "ValidateFunction") -> None:
        """Keep executions running: ``function_name`` waits until ``release()``."""
        self.gate.clear()
        self.reached.clear()
        self.held.add(function_name)

    def wait_until_held(self) -> None:
        assert self.reached.wait(30), "no execution reached the held function"

    def release(self) -> None:
        self.gate.set()

    def call(self, name: str, body=..., query: dict | None = None, deployment_id: str | None = None) -> tuple[int, dict]:
        event = load_event(f"api/{name}")
        if body is not ...:
            event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
        if query is not None:
            event["queryStringParameters"] = query
            event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
        if deployment_id is None and name.startswith("start-") and isinstance(body, dict) and isinstance(body.get("deployment_id"), str):
            deployment_id = body["deployment_id"]  # POST /deployments/{id} of the body's deployment
        if deployment_id:
            event["path"] = event["path"].replace("acme-demo", deployment_id)
            event["requestContext"]["path"] = event["requestContext"]["path"].replace("acme-demo", deployment_id)
            event["pathParameters"] = {"id": deployment_id}
        response = self.emulator.hook.handlers["ApiFunction"](event, Context("ApiFunction", 30))
        self.last_headers = response["multiValueHeaders"]
        return response["statusCode"], json.loads(response["body"])

    def executions(self, machine: str | None = None) -> list[dict]:
        return self.sfn.list_executions(stateMachineArn=machine or self.provision)["executions"]

    def finish(self, execution_arn: str) -> dict:
        described, _ = executions.follow(self.sfn, execution_arn, timeout_seconds=120)
        return described

    def stand_in(self, name: str, output: dict | None = None) -> str:
        """A state machine that succeeds at once with ``output`` (a finished execution with outputs)."""
        definition = {
            "StartAt": "Render secure-repo files",
            "States": {"Render secure-repo files": {"Type": "Pass", "Result": output or {}, "End": True}},
        }
        return self._machine(name, definition)

    def holding_machine(self, name: str) -> str:
        """A state machine whose only state invokes ValidateFunction: it runs while Validate is held."""
        validate = self.emulator.client("lambda").get_function(FunctionName="ValidateFunction")["Configuration"]["FunctionArn"]
        definition = {
            "StartAt": "Check teardown request",
            "States": {"Check teardown request": {"Type": "Task", "Resource": validate, "End": True}},
        }
        return self._machine(name, definition)

    def _machine(self, name: str, definition: dict) -> str:
        role = self.emulator.client("iam").get_role(RoleName="analytics-provisioner-local")["Role"]["Arn"]
        return self.sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)["stateMachineArn"]


@pytest.fixture
def api(emulator, minimal_input, monkeypatch):
    seed(emulator, minimal_input)
    client = Api(emulator, monkeypatch)
    yield client
    client.release()
    for machine in emulator.client("stepfunctions").list_state_machines()["stateMachines"]:
        for running in client.sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")["executions"]:
            client.finish(running["executionArn"])


def _bad_vpc(document: dict) -> dict:
    document = copy.deepcopy(document)
    document["network"]["vpc_id"] = "vpc-0badbadbadbadbad0"
    return document


# --- POST /deployments -------------------------------------------------------------------------


def test_start_answers_202_with_the_execution_and_a_status_url(api, minimal_input):
    api.hold()
    status, body = api.call("start-minimal.json")
    assert status == 202
    assert body["started"] is True and body["status"] == "RUNNING"
    assert body["execution_name"] == executions.execution_name(minimal_input)
    assert body["status_url"] == STATUS_URL and api.last_headers["Location"] == [STATUS_URL]
    [started] = api.executions()
    assert started["executionArn"] == body["execution_arn"]
    assert json.loads(api.sfn.describe_execution(executionArn=body["execution_arn"])["input"]) == minimal_input


def test_bad_input_is_refused_naming_each_field_and_starts_nothing(api):
    status, body = api.call("start-invalid.json")
    assert status == 400
    assert "nothing was started" in body["message"]
    assert any(error.startswith("deployment_id: 'Acme Demo' is not valid") for error in body["errors"])
    assert any(error.startswith("edxapp.contact_email: is required") for error in body["errors"])
    assert api.executions() == []


def test_a_body_for_another_deployment_than_the_paths_is_refused_and_starts_nothing(api, minimal_input):
    other = {**minimal_input, "deployment_id": "acme-other"}
    status, body = api.call("start-minimal.json", body=other, deployment_id="acme-demo")
    assert status == 400 and "nothing was started" in body["message"]
    assert body["errors"][0].startswith("deployment_id: 'acme-other' is not the deployment of the path, 'acme-demo'")
    assert api.executions() == []


def test_a_body_that_is_not_a_json_object_is_refused(api):
    for raw, message in [
        ("{not json", "the body is not valid JSON"),
        ("[1, 2]", "the body must be a JSON object"),
        (None, "the body must be the execution input"),
    ]:
        status, body = api.call("start-minimal.json", body=raw)
        assert status == 400 and message in body["message"], raw
    assert api.executions() == []


def test_an_identical_repeat_while_running_answers_with_the_same_execution(api):
    api.hold()
    first_status, first = api.call("start-minimal.json")
    second_status, second = api.call("start-minimal.json")
    assert (first_status, second_status) == (202, 202)
    assert second["execution_arn"] == first["execution_arn"]
    assert second["started"] is False and "identical request" in second["message"]
    assert len(api.executions()) == 1


def test_an_identical_repeat_after_the_end_answers_with_the_finished_execution(api):
    _, first = api.call("start-minimal.json")
    final = api.finish(first["execution_arn"])["status"]
    status, again = api.call("start-minimal.json")
    assert status == 200
    assert again["execution_arn"] == first["execution_arn"]
    assert again["status"] == final and again["started"] is False
    assert "?attempt=2" in again["message"]
    assert len(api.executions()) == 1
    status, rerun = api.call("start-again.json")
    assert status == 202 and rerun["started"] is True
    assert rerun["execution_name"] == first["execution_name"] + "-r2"
    assert len(api.executions()) == 2


def test_a_different_start_while_one_runs_is_refused_with_409(api, minimal_input):
    api.hold()
    _, first = api.call("start-minimal.json")
    changed = copy.deepcopy(minimal_input)
    changed["edxapp"]["contact_email"] = "analytics@acme.org"
    status, body = api.call("start-minimal.json", body=changed)
    assert status == 409
    assert body["running_execution"]["execution_arn"] == first["execution_arn"]
    assert body["running_execution"]["workflow"] == "provision"
    assert first["execution_name"] in body["message"]
    assert body["status_url"] == STATUS_URL
    assert [e["executionArn"] for e in api.executions()] == [first["execution_arn"]]


def test_a_deployment_whose_id_extends_a_running_one_is_not_in_conflict(api, minimal_input):
    api.hold()
    api.call("start-minimal.json")
    other = copy.deepcopy(minimal_input)
    other["deployment_id"] = "acme-demo-2"
    status, body = api.call("start-minimal.json", body=other)
    assert status == 202 and body["started"] is True
    assert len(api.executions()) == 2


def test_attempt_must_be_a_small_whole_number(api):
    for raw in ("0", "x", "100"):
        status, body = api.call("start-minimal.json", query={"attempt": raw})
        assert status == 400 and body["message"].startswith("attempt:")
    assert api.executions() == []


# --- GET /deployments/{id} ---------------------------------------------------------------------


def test_status_of_a_running_execution_names_the_running_state(api):
    api.hold()
    _, started = api.call("start-minimal.json")
    api.wait_until_held()
    status, body = api.call("status.json")
    assert status == 200
    assert body["status"] == "RUNNING" and body["execution_arn"] == started["execution_arn"]
    assert body["running_states"] == ["Validate input"]
    assert [(s["state"], s["status"]) for s in body["states"]] == [
        ("Take deployment lock", "succeeded"),
        ("Last run's functions may still run?", "succeeded"),
        ("Lock taken", "succeeded"),
        ("Validate input", "running"),
    ]
    assert body["states"][3]["seconds"] is None
    assert "output" not in body and "error" not in body


def test_status_of_a_failed_execution_gives_each_state_with_timing_and_the_error(api, minimal_input):
    api.cut_short = False
    _, started = api.call("start-minimal.json", body=_bad_vpc(minimal_input))
    api.finish(started["execution_arn"])
    status, body = api.call("status.json")
    assert status == 200
    assert body["status"] == "FAILED" and body["stopped_at"]
    assert body["error"] == "Validate.PreflightError"
    assert "network.vpc_id: VPC vpc-0badbadbadbadbad0 does not exist" in body["cause"]
    assert [s["state"] for s in body["states"]] == VALIDATE_FAILED_PATH
    assert body["states"][3]["status"] == "failed"
    assert all(s["seconds"] is not None for s in body["states"][:7])
    assert "output" not in body
    assert "acme/edxapp/db-admin" not in json.dumps(body), "the status must not echo the execution input"


def test_status_of_a_succeeded_execution_returns_its_outputs(api, monkeypatch):
    warned = {**RENDER_OUTPUT, "warnings": ["t2.small.search cannot encrypt the domain at rest"]}
    monkeypatch.setenv("PROVISION_STATE_MACHINE_ARN", api.stand_in("provision-stand-in", warned))
    _, started = api.call("start-minimal.json")
    api.finish(started["execution_arn"])
    status, body = api.call("status.json")
    assert status == 200
    assert body["status"] == "SUCCEEDED" and body["output"] == warned
    assert body["warnings"] == warned["warnings"], "the status answer shows the warnings where a pipeline looks"
    assert body["states"] == [
        {
            "state": "Render secure-repo files",
            "status": "succeeded",
            "seconds": body["states"][0]["seconds"],
            "started_at": body["states"][0]["started_at"],
        }
    ]
    assert "error" not in body


def test_status_is_the_latest_execution(api):
    _, first = api.call("start-minimal.json")
    api.finish(first["execution_arn"])
    _, second = api.call("start-again.json")
    api.finish(second["execution_arn"])
    assert api.call("status.json")[1]["execution_arn"] == second["execution_arn"]


def test_status_of_an_unknown_deployment_is_404_and_a_bad_id_400(api):
    status, body = api.call("status.json", deployment_id="acme-unknown")
    assert status == 404 and "acme-unknown" in body["message"]
    status, body = api.call("status.json", deployment_id="Acme_Prod")
    assert status == 400 and "Acme_Prod" in body["message"]


# --- POST /deployments/{id}/teardown -------------------------------------------------------------


def test_teardown_without_the_teardown_workflow_answers_501(api):
    api.call("start-minimal.json")
    status, body = api.call("teardown.json")
    assert status == 501 and "TEARDOWN_STATE_MACHINE_ARN" in body["message"]
    status, body = api.call("status-teardown.json")
    assert status == 501


def test_teardown_starts_with_the_provisioned_document(api, monkeypatch, minimal_input):
    teardown = api.stand_in("teardown-stand-in", {"deleted": []})
    monkeypatch.setenv("TEARDOWN_STATE_MACHINE_ARN", teardown)
    _, provisioned = api.call("start-minimal.json")
    api.finish(provisioned["execution_arn"])
    status, body = api.call("teardown.json")
    assert status == 202 and body["workflow"] == "teardown"
    assert body["status_url"] == STATUS_URL + "?workflow=teardown"
    request = json.loads(api.sfn.describe_execution(executionArn=body["execution_arn"])["input"])
    assert request == {"deployment": minimal_input, "keep_data": True}
    api.finish(body["execution_arn"])
    status, again = api.call("teardown.json")
    assert status == 200 and again["execution_arn"] == body["execution_arn"] and again["started"] is False
    status, watched = api.call("status-teardown.json")
    assert status == 200 and watched["status"] == "SUCCEEDED" and watched["output"] == {"deleted": []}
    assert len(api.executions(teardown)) == 1


def test_teardown_is_refused_while_provisioning_runs_and_vice_versa(api, monkeypatch):
    monkeypatch.setenv("TEARDOWN_STATE_MACHINE_ARN", api.holding_machine("teardown-holding"))
    api.hold()
    _, provisioning = api.call("start-minimal.json")
    status, body = api.call("teardown.json")
    assert status == 409 and body["running_execution"]["execution_arn"] == provisioning["execution_arn"]
    api.release()
    api.finish(provisioning["execution_arn"])
    api.hold()
    status, tearing_down = api.call("teardown.json")
    assert status == 202
    status, body = api.call("start-again.json")
    assert status == 409
    assert body["running_execution"] == {
        **body["running_execution"],
        "workflow": "teardown",
        "execution_arn": tearing_down["execution_arn"],
    }
    assert body["status_url"] == STATUS_URL + "?workflow=teardown"


def test_teardown_of_a_deployment_never_provisioned_is_404(api, monkeypatch):
    monkeypatch.setenv("TEARDOWN_STATE_MACHINE_ARN", api.stand_in("teardown-stand-in"))
    status, body = api.call("teardown.json", deployment_id="acme-never")
    assert status == 404 and "acme-never" in body["message"]


def test_a_teardown_request_outside_its_schema_is_refused(api, monkeypatch, minimal_input):
    teardown = api.stand_in("teardown-stand-in")
    monkeypatch.setenv("TEARDOWN_STATE_MACHINE_ARN", teardown)
    status, body = api.call("teardown.json", body={"keep_data": "yes"})
    assert status == 404  # nothing provisioned yet and no document given
    status, body = api.call("teardown.json", body={"deployment": minimal_input, "keep_data": "yes"})
    assert status == 400 and "keep_data" in body["message"]
    other = {**minimal_input, "deployment_id": "acme-other"}
    status, body = api.call("teardown.json", body={"deployment": other})
    assert status == 400 and "deployment.deployment_id" in body["message"]
    assert api.executions(teardown) == []


# --- configuration and AWS errors ----------------------------------------------------------------


def test_an_unconfigured_api_says_what_is_missing(api, monkeypatch):
    monkeypatch.delenv("PROVISION_STATE_MACHINE_ARN")
    status, body = api.call("start-minimal.json")
    assert status == 500 and "PROVISION_STATE_MACHINE_ARN" in body["message"]


def test_aws_errors_become_a_json_answer_naming_the_call(api, monkeypatch):
    monkeypatch.setenv("PROVISION_STATE_MACHINE_ARN", api.provision.replace("ProvisionStateMachine", "NoSuchMachine"))
    status, body = api.call("start-minimal.json")
    assert status == 502
    assert "ListExecutions" in body["message"] and "StateMachineDoesNotExist" in body["message"]


# --- the sample requests ---------------------------------------------------------------------------


def test_sample_start_requests_carry_inputs_that_pass_the_schema():
    for path in sorted((EVENTS / "api").glob("start-*.json")):
        body = json.loads(json.loads(path.read_text())["body"])
        problems = validation_errors(body)
        assert bool(problems) == (path.name == "start-invalid.json"), (path.name, problems)
    assert load_event("functions/api.json") == load_event("api/start-minimal.json")
    assert json.loads(load_event("api/start-minimal.json")["body"]) == load_event("input-minimal.json")
    assert json.loads(load_event("api/start-full.json")["body"]) == load_event("input-full.json")
