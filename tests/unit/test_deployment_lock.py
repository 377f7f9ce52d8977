"""The deployment lock (locking.py) on the emulator's DynamoDB table, created from template.yaml:
one holder per deployment, re-entry by the holder, Busy naming it, takeover from an ended holder,
release only by the holder, and 50 races of two executions of one deployment with 0 double holders."""

import copy
import functools
import json

import pytest

from analytics_provisioner import execution as executions
from analytics_provisioner import locking
from analytics_provisioner.errors import Busy
from analytics_provisioner.local import template as cfn
from analytics_provisioner.local.emulator import Emulator
from analytics_provisioner.settings import LONGEST_FUNCTION_TIMEOUT_ENV, Settings
from testkit import REGION, load_event, race

MACHINE = f"arn:aws:states:{REGION}:123456789012:execution:analytics-provisioner-provision"
TEARDOWN = f"arn:aws:states:{REGION}:123456789012:execution:analytics-provisioner-teardown"


@pytest.fixture
def locks(monkeypatch):
    """The template's lock table in a bare emulated account; ``running`` holds the ARNs that still run."""
    with Emulator(region=REGION, deploy=False) as emu:
        tables = emu.create_tables(cfn.load())
        monkeypatch.setenv(locking.TABLE_ENV, tables["DeploymentLocksTable"])
        running: set[str] = set()
        monkeypatch.setattr(locking.Locks, "_running", lambda self, arn: arn in running)
        yield locking.Locks(REGION, tables["DeploymentLocksTable"]), running


def _settings() -> Settings:
    """The Lock function's: the fixture put the table in the environment, as the stack does."""
    return Settings.from_environ()


def _acquire(execution_arn: str, document: dict, workflow: str = "provision") -> dict:
    return locking.handle({"action": "acquire", "workflow": workflow, "execution_arn": execution_arn, "input": document}, _settings())


def _release(execution_arn: str, document: dict, workflow: str = "provision", status: str = "SUCCEEDED", state: dict | None = None) -> dict:
    return locking.handle(
        {
            "action": "release",
            "workflow": workflow,
            "execution_arn": execution_arn,
            "input": document,
            "status": status,
            **({"state": state} if state is not None else {}),
        },
        _settings(),
    )


def test_the_template_declares_the_table_as_checkov_wants_it():
    table = cfn.tables(cfn.load())["DeploymentLocksTable"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "deployment_id", "KeyType": "HASH"}]
    assert table["SSESpecification"]["SSEEnabled"] is True and table["SSESpecification"]["KMSMasterKeyId"] == {"Ref": "SecretsKey"}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_one_holder_at_a_time_the_holder_reenters_and_a_second_is_refused_naming_it(locks, minimal_input):
    table, running = locks
    first, second = f"{MACHINE}:acme-demo-1111111111111111", f"{MACHINE}:acme-demo-2222222222222222"
    running.update({first, second})
    assert _acquire(first, minimal_input)["locked"] is True
    assert _acquire(first, minimal_input)["locked"] is True  # a retried Lambda call of the holder
    with pytest.raises(Busy) as refused:
        _acquire(second, minimal_input)
    busy = executions.Busy.from_cause("acme-demo", json.dumps({"errorType": "Busy", "errorMessage": f"Lock: {refused.value}"}))
    assert busy.running_execution()["execution_arn"] == first
    assert busy.running_execution()["execution_name"] == "acme-demo-1111111111111111"
    assert busy.running["stateMachineArn"] == MACHINE.replace(":execution:", ":stateMachine:")
    assert "is still running" in str(busy)
    assert table.holder("acme-demo")["lock_execution_arn"] == first


def test_a_teardown_and_a_provisioning_share_the_deployments_lock(locks, minimal_input):
    _, running = locks
    provisioning, teardown = f"{MACHINE}:acme-demo-1111111111111111", f"{TEARDOWN}:acme-demo-3333333333333333"
    running.update({provisioning, teardown})
    _acquire(teardown, {"deployment": minimal_input}, "teardown")
    with pytest.raises(Busy, match="acme-demo-3333333333333333"):
        _acquire(provisioning, minimal_input)
    other = {**minimal_input, "deployment_id": "acme-other"}
    assert _acquire(provisioning, other)["locked"] is True  # another deployment is not in the way


def test_only_the_holder_releases_and_its_end_is_recorded(locks, minimal_input):
    table, running = locks
    holder, other = f"{MACHINE}:acme-demo-1111111111111111", f"{MACHINE}:acme-demo-2222222222222222"
    running.update({holder, other})
    _acquire(holder, minimal_input)
    assert _release(other, minimal_input)["released"] is False
    assert table.holder("acme-demo")["lock_execution_arn"] == holder
    assert _release(holder, minimal_input, status="FAILED")["released"] is True
    assert _release(holder, minimal_input)["released"] is False  # the other path (the EventBridge rule) finds it free
    item = table.dynamodb.get_item(TableName=table.table, Key={"deployment_id": {"S": "acme-demo"}})["Item"]
    assert "lock_execution_arn" not in item
    assert item["latest_provision"]["M"]["status"]["S"] == "FAILED"
    assert item["latest_provision"]["M"]["execution_arn"]["S"] == holder
    assert _acquire(other, minimal_input)["locked"] is True


def test_a_holder_that_ended_without_releasing_is_taken_over(locks, minimal_input):
    table, running = locks
    ended, starting = f"{MACHINE}:acme-demo-1111111111111111", f"{MACHINE}:acme-demo-2222222222222222"
    running.add(starting)
    _acquire(ended, minimal_input)  # then it ended and no release arrived
    assert _acquire(starting, minimal_input) == {"deployment_id": "acme-demo", "locked": True, "took_over_from": ended, "wait_seconds": 0}
    assert table.holder("acme-demo")["lock_execution_arn"] == starting
    assert _release(ended, minimal_input)["released"] is False  # its late release does not free the new holder's lock


def test_an_input_without_a_valid_deployment_id_takes_no_lock(locks):
    for document in ({"deployment_id": "Not Valid"}, {}, [], "text", {"deployment_id": "acme-demo\n"}):
        assert _acquire(f"{MACHINE}:x", document)["locked"] is False
    assert _acquire(f"{TEARDOWN}:x", {"deployment": {"deployment_id": 5}}, "teardown")["locked"] is False


def test_the_eventbridge_event_of_an_aborted_execution_releases_its_lock(locks):
    table, running = locks
    event = load_event("eventbridge/execution-aborted.json")
    document, holder = json.loads(event["detail"]["input"]), event["detail"]["executionArn"]
    _acquire(holder, document)
    assert locking.handle(event, _settings())["released"] is True
    assert table.holder("acme-demo").get("lock_execution_arn") is None
    for status in ("TIMED_OUT", "FAILED", "SUCCEEDED"):
        _acquire(holder, document)
        assert locking.handle({**event, "detail": {**event["detail"], "status": status}}, _settings())["released"] is True
    _acquire(holder, document)
    assert locking.handle({**event, "detail": {**event["detail"], "status": "RUNNING"}}, _settings())["released"] is False
    teardown = {**event, "detail": {**event["detail"], "input": json.dumps({"deployment": document})}}
    assert locking.handle(teardown, _settings())["released"] is True  # the teardown's input wraps the document


RACES = 50


def _contend(contenders: list[tuple[str, dict, str]]) -> tuple[list[str], list[Busy]]:
    """Each (execution ARN, input, workflow) takes the lock on its own thread at the same moment: (won, refused)."""
    return race(
        [
            functools.partial(lambda arn, document, workflow: _acquire(arn, document, workflow) and arn, *contender)
            for contender in contenders
        ],
        Busy,
    )


@pytest.mark.parametrize("against", ["another provisioning input", "a teardown"])
def test_two_executions_racing_for_one_deployment_never_both_hold_it(locks, minimal_input, against):
    """50 races: two threads take the lock for two executions of one deployment at the same moment."""
    table, running = locks
    changed = copy.deepcopy(minimal_input)
    changed["edxapp"]["contact_email"] = "analytics@acme.org"
    double_runs, refusals = 0, 0
    for trial in range(RACES):
        contenders = [
            (f"{MACHINE}:acme-demo-a-{trial}", minimal_input, "provision"),
            (f"{MACHINE}:acme-demo-b-{trial}", changed, "provision")
            if against == "another provisioning input"
            else (f"{TEARDOWN}:acme-demo-t-{trial}", {"deployment": minimal_input}, "teardown"),
        ]
        running.update(arn for arn, _, _ in contenders)
        won, refused = _contend(contenders)
        double_runs += len(won) > 1
        refusals += len(refused)
        assert len(won) == 1 and table.holder("acme-demo")["lock_execution_arn"] == won[0], (trial, won, refused)
        [(_, document, workflow)] = [contender for contender in contenders if contender[0] == won[0]]
        assert _release(won[0], document, workflow)["released"] is True
    assert (double_runs, refusals) == (0, RACES)


def test_the_table_lists_each_deployment_with_what_runs_and_how_the_latest_executions_ended(locks, minimal_input):
    table, running = locks
    other = {**minimal_input, "deployment_id": "acme-other"}
    provisioned, torn_down, now = (
        f"{MACHINE}:acme-demo-1111111111111111",
        f"{TEARDOWN}:acme-demo-3333333333333333",
        f"{MACHINE}:acme-other-2222222222222222",
    )
    running.add(now)
    _acquire(provisioned, minimal_input)
    locking.handle(
        {
            "action": "release",
            "workflow": "provision",
            "execution_arn": provisioned,
            "input": minimal_input,
            "status": "SUCCEEDED",
            "state": {"warnings": ["open SSH", "no encryption at rest"]},
        },
        _settings(),
    )
    _acquire(torn_down, {"deployment": minimal_input}, "teardown")
    _release(torn_down, {"deployment": minimal_input}, "teardown", status="FAILED")
    _acquire(now, other)
    demo, running_one = table.deployments()
    assert demo["deployment_id"] == "acme-demo" and running_one["deployment_id"] == "acme-other"
    assert {key: demo["provision"][key] for key in ("execution_name", "status", "warnings")} == {
        "execution_name": "acme-demo-1111111111111111",
        "status": "SUCCEEDED",
        "warnings": 2,
    }
    assert demo["provision"]["started_at"] <= demo["provision"]["ended_at"]
    assert (demo["teardown"]["status"], demo["teardown"]["warnings"]) == ("FAILED", None)
    assert running_one["provision"] == {**running_one["provision"], "status": "RUNNING", "execution_arn": now, "ended_at": None}
    assert running_one["teardown"] is None


# --- settling: the functions an execution that did not succeed may have left running ----------------

SETTLE = 900
PARALLEL_FAILED = {"failure": {"phase": "Storage", "Error": "Storage.AwsCallError", "Cause": "...", "functions_may_still_run": True}}


@pytest.fixture
def settling(locks, monkeypatch):
    """The lock with the stack's figure, on a clock the test moves (``now[0]``, seconds since the epoch)."""
    monkeypatch.setenv(LONGEST_FUNCTION_TIMEOUT_ENV, str(SETTLE))
    now = [1_700_000_000.0]
    monkeypatch.setattr(locking, "clock", lambda: now[0])
    return locks[0], locks[1], now


def test_a_parallel_failure_makes_the_next_start_wait_for_its_functions_then_take_the_lock(settling, minimal_input):
    table, running, now = settling
    failed, teardown = f"{MACHINE}:acme-demo-1111111111111111", f"{TEARDOWN}:acme-demo-3333333333333333"
    running.add(teardown)
    _acquire(failed, minimal_input)
    now[0] += 60
    assert _release(failed, minimal_input, status="FAILED", state=PARALLEL_FAILED)["released"] is True
    assert table.holder("acme-demo")["settles_at"] == locking._moment(now[0] + SETTLE)
    now[0] += 100
    answer = _acquire(teardown, {"deployment": minimal_input}, "teardown")
    assert answer == {
        "deployment_id": "acme-demo",
        "locked": False,
        "settles_at": locking._moment(now[0] + SETTLE - 100),
        "wait_seconds": SETTLE - 100,
    }
    assert table.holder("acme-demo").get("lock_execution_arn") is None  # waiting holds nothing
    now[0] += answer["wait_seconds"]  # the state machine's Wait
    assert _acquire(teardown, {"deployment": minimal_input}, "teardown")["locked"] is True
    assert "settles_at" not in table.holder("acme-demo")
    assert _release(teardown, {"deployment": minimal_input}, "teardown")["released"] is True
    assert _acquire(failed.replace("1111", "2222"), minimal_input)["locked"] is True  # no wait after a success


@pytest.mark.parametrize(
    "status, state", [("SUCCEEDED", {}), ("FAILED", {"failure": {"phase": "Validate", "Error": "ValidationError", "Cause": "..."}})]
)
def test_a_success_or_a_failure_in_a_sequential_phase_leaves_nothing_to_wait_for(settling, minimal_input, status, state):
    table, _, _ = settling
    first, second = f"{MACHINE}:acme-demo-1111111111111111", f"{MACHINE}:acme-demo-2222222222222222"
    _acquire(first, minimal_input)
    assert _release(first, minimal_input, status=status, state=state)["released"] is True
    assert "settles_at" not in table.holder("acme-demo")
    assert _acquire(second, minimal_input) == {"deployment_id": "acme-demo", "locked": True, "took_over_from": None, "wait_seconds": 0}


def test_a_success_clears_settles_at(settling, minimal_input):
    table, _, now = settling
    failed, next_run = f"{MACHINE}:acme-demo-1111111111111111", f"{MACHINE}:acme-demo-2222222222222222"
    _acquire(failed, minimal_input)
    _release(failed, minimal_input, status="FAILED", state=PARALLEL_FAILED)
    now[0] += SETTLE
    assert _acquire(next_run, minimal_input)["locked"] is True
    assert _release(next_run, minimal_input, status="SUCCEEDED", state={})["released"] is True
    assert "settles_at" not in table.holder("acme-demo")


@pytest.mark.parametrize("status", ["ABORTED", "TIMED_OUT", "FAILED"])
def test_the_eventbridge_release_of_an_execution_that_did_not_succeed_sets_settles_at(settling, status):
    table, _, now = settling
    event = load_event("eventbridge/execution-aborted.json")
    document, holder = json.loads(event["detail"]["input"]), event["detail"]["executionArn"]
    _acquire(holder, document)
    assert locking.handle({**event, "detail": {**event["detail"], "status": status}}, _settings())["released"] is True
    assert table.holder("acme-demo")["settles_at"] == locking._moment(now[0] + SETTLE)
    assert _acquire(f"{MACHINE}:acme-demo-2222222222222222", document)["wait_seconds"] == SETTLE


def test_a_takeover_from_an_aborted_holder_whose_release_has_not_come_waits_from_its_stop(settling, minimal_input, monkeypatch):
    table, running, now = settling
    aborted, starting = f"{MACHINE}:acme-demo-1111111111111111", f"{MACHINE}:acme-demo-2222222222222222"
    _acquire(aborted, minimal_input)
    stopped = now[0] - 30
    monkeypatch.setattr(
        locking.Locks, "_settles_after", lambda self, arn: locking._moment(stopped + self.settle_seconds) if arn == aborted else None
    )
    assert _acquire(starting, minimal_input)["wait_seconds"] == SETTLE - 30
    assert table.holder("acme-demo")["lock_execution_arn"] == aborted  # not taken over yet
    now[0] += SETTLE - 30
    assert _acquire(starting, minimal_input)["took_over_from"] == aborted
