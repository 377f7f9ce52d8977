"""One execution per deployment through the real state machines: starts that race past the list of
running executions (as two API calls, a CLI and the console can) are decided by the lock the first
state takes; an aborted execution's lock is released by the EventBridge rule. The library-level race
(50 trials each) is tests/unit/test_deployment_lock.py; these are whole-machine races."""

import copy
import functools
import json
import threading
import time

import pytest

from analytics_provisioner import execution as executions
from analytics_provisioner.local.lambda_hook import Context
from analytics_provisioner.local.seed import seed
from testkit import load_event, race

pytestmark = pytest.mark.without_database
HELD = {"ValidateFunction", "TeardownFunction"}  # the first state after the lock, in each workflow
TRIALS = 3


class Held:
    """Executions past the lock wait in their first phase until ``release()``; then that phase fails at
    once (``cut_short``) or runs (``cut_short = False``). ``inside`` counts executions in it at a time."""

    def __init__(self, emulator):
        self.gate, self.lock, self.inside, self.most, self.cut_short = threading.Event(), threading.Lock(), 0, 0, True
        emulator.hook.before_invoke.append(self._intercept)

    def _intercept(self, name, event):
        if name not in HELD or event.get("action") not in (None, "check"):
            return
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            assert self.gate.wait(60), "never released"
            if self.cut_short:
                raise RuntimeError("cut short by the test")
        finally:
            with self.lock:
                self.inside -= 1

    def release(self):
        self.gate.set()

    def wait_for_one(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while self.most == 0 and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def held(emulator):
    holding = Held(emulator)
    yield holding
    holding.release()


def _lock_holder(emulator, deployment_id: str) -> str | None:
    item = (
        emulator.client("dynamodb").get_item(TableName="DeploymentLocksTable", Key={"deployment_id": {"S": deployment_id}}).get("Item")
        or {}
    )
    return item.get("lock_execution_arn", {}).get("S")


def _until_free(emulator, deployment_id: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while _lock_holder(emulator, deployment_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _lock_holder(emulator, deployment_id) is None, "the lock was never released"


@pytest.mark.parametrize("against", ["another provisioning input", "a teardown"])
def test_two_starts_racing_past_the_running_list_run_one_execution_and_refuse_the_other(
    emulator, held, minimal_input, monkeypatch, against
):
    sfn = emulator.client("stepfunctions")
    provision, teardown = emulator.state_machines["ProvisionStateMachine"], emulator.state_machines["TeardownStateMachine"]
    monkeypatch.setattr(executions, "executions_of", lambda *args, **kwargs: [])  # both looked before either started
    for trial in range(TRIALS):
        held.gate.clear()
        changed = copy.deepcopy(minimal_input)
        changed["edxapp"]["contact_email"] = f"analytics-{trial}@acme.org"
        first = functools.partial(
            executions.start, sfn, provision, minimal_input, "acme-demo", attempt=trial + 1, exclusive_with=(teardown,)
        )
        if against == "another provisioning input":
            other = functools.partial(executions.start, sfn, provision, changed, "acme-demo", exclusive_with=(teardown,))
        else:
            other = functools.partial(
                executions.start, sfn, teardown, {"deployment": minimal_input}, "acme-demo", attempt=trial + 1, exclusive_with=(provision,)
            )
        started, refused = race([first, other], executions.Busy)
        held.wait_for_one()  # the winner reaches its first phase in its own thread: at times after the race returned
        assert (len(started), len(refused), held.most) == (1, 1, 1), (trial, started, refused)
        assert started[0].started
        [winner], [busy] = started, refused
        assert busy.running_execution()["execution_arn"] == winner.execution_arn
        assert _lock_holder(emulator, "acme-demo") == winner.execution_arn
        loser = [
            e
            for machine in (provision, teardown)
            for e in sfn.list_executions(stateMachineArn=machine)["executions"]
            if e["executionArn"] != winner.execution_arn and e["status"] == "FAILED"
        ]
        assert any(sfn.describe_execution(executionArn=e["executionArn"]).get("error") == "Busy" for e in loser)
        held.release()
        assert executions.follow(sfn, winner.execution_arn, timeout_seconds=120)[0]["status"] == "FAILED"  # cut short
        _until_free(emulator, "acme-demo")
        held.most = 0


def test_an_aborted_execution_is_released_by_the_eventbridge_rule_and_the_next_start_runs(emulator, held, minimal_input):
    seed(emulator, minimal_input)
    held.cut_short = False
    sfn, provision = emulator.client("stepfunctions"), emulator.state_machines["ProvisionStateMachine"]
    first = executions.start(sfn, provision, minimal_input, "acme-demo")
    assert _lock_holder(emulator, "acme-demo") == first.execution_arn
    sfn.stop_execution(executionArn=first.execution_arn, error="Stopped", cause="an operator stopped it")
    held.release()  # moto ends it once the running task returns; AWS ends it at once
    ended, view = executions.follow(sfn, first.execution_arn, timeout_seconds=60)
    # moto ends a stopped execution once its running task returns: ABORTED, or under load at times FAILED;
    # either way no state of it ran after the stop, so only the rule can release its lock
    assert ended["status"] in ("ABORTED", "FAILED") and not [s for s in view.summary() if s["state"].startswith("Release")], view.summary()
    _until_free(emulator, "acme-demo")
    lock = emulator.client("lambda").get_function(FunctionName="DeploymentLockFunction")["Configuration"]["FunctionArn"]
    assert (first.execution_arn, ended["status"], lock) in emulator.execution_events.delivered
    held.gate.clear()
    held.cut_short = True
    changed = copy.deepcopy(minimal_input)
    changed["edxapp"]["contact_email"] = "analytics@acme.org"
    second = executions.start(sfn, provision, changed, "acme-demo")
    assert second.started and second.status == "RUNNING" and _lock_holder(emulator, "acme-demo") == second.execution_arn
    held.release()


def test_the_api_answers_409_when_its_start_lost_the_race_and_the_same_request_starts_later(emulator, held, minimal_input, monkeypatch):
    monkeypatch.setenv("PROVISION_STATE_MACHINE_ARN", emulator.state_machines["ProvisionStateMachine"])
    monkeypatch.delenv("TEARDOWN_STATE_MACHINE_ARN", raising=False)
    api = emulator.hook.handlers["ApiFunction"]

    def call(document: dict) -> tuple[int, dict]:
        event = load_event("api/start-minimal.json")
        event["body"] = json.dumps(document)
        answer = api(event, Context("ApiFunction", 30))
        return answer["statusCode"], json.loads(answer["body"])

    status, first = call(minimal_input)
    assert status == 202
    changed = copy.deepcopy(minimal_input)
    changed["edxapp"]["contact_email"] = "analytics@acme.org"
    with monkeypatch.context() as race:
        race.setattr(executions, "executions_of", lambda *args, **kwargs: [])  # it looked before the first started
        status, refused = call(changed)
    assert status == 409, refused
    assert (
        refused["running_execution"]["execution_arn"] == first["execution_arn"] and refused["running_execution"]["workflow"] == "provision"
    )
    assert first["execution_name"] in refused["message"]
    held.release()
    sfn = emulator.client("stepfunctions")
    executions.follow(sfn, first["execution_arn"], timeout_seconds=120)
    _until_free(emulator, "acme-demo")
    held.gate.clear()
    status, again = call(changed)  # its first execution was refused and never ran: it starts now, under the next name
    assert status == 202 and again["started"] is True
    assert again["execution_name"] == executions.execution_name(changed) + "-b2"
    assert json.loads(sfn.describe_execution(executionArn=again["execution_arn"])["input"]) == changed
    status, shown = call({**changed})
    assert status == 202 and shown["execution_arn"] == again["execution_arn"] and shown["started"] is False
    held.release()
