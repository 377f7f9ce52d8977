"""Both state machines take the deployment lock first and release it on every path that ends them
(the EventBridge rule releases it too, and alone for aborted and timed-out executions)."""

import json

import pytest

from analytics_provisioner.execution import BUSY_STATE, LOCK_STATE
from analytics_provisioner.local import template as cfn
from testkit import REPO

MACHINES = cfn.state_machines(cfn.load())


def _definition(logical_id: str) -> dict:
    return json.loads((REPO / MACHINES[logical_id]["DefinitionUri"]).read_text())


def _next(state: dict) -> list[str]:
    targets = [
        state.get("Next"),
        state.get("Default"),
        *(c.get("Next") for c in state.get("Choices", [])),
        *(c["Next"] for c in state.get("Catch", [])),
    ]
    return [target for target in targets if target]


def _ends(state: dict) -> bool:
    return state["Type"] in ("Succeed", "Fail") or state.get("End", False)


def _is_release(state: dict) -> bool:
    return state.get("Parameters", {}).get("action") == "release"


@pytest.mark.parametrize("logical_id", sorted(MACHINES))
def test_the_first_state_takes_the_lock_and_a_refusal_ends_the_execution_at_once(logical_id):
    definition = _definition(logical_id)
    assert definition["StartAt"] == LOCK_STATE
    lock = definition["States"][LOCK_STATE]
    assert lock["Parameters"]["action"] == "acquire" and lock["ResultPath"] == "$.lock"
    settling = definition["States"][lock["Next"]]  # while the last run's functions may still run: wait, then ask again
    wait = definition["States"][settling["Choices"][0]["Next"]]
    assert settling["Choices"] == [{"Variable": "$.lock.wait_seconds", "NumericGreaterThan": 0, "Next": settling["Choices"][0]["Next"]}]
    assert wait["Type"] == "Wait" and wait["SecondsPath"] == "$.lock.wait_seconds" and wait["Next"] == LOCK_STATE
    taken = definition["States"][settling["Default"]]  # the lock's answer leaves the state: the execution input goes on
    assert taken == {**taken, "Type": "Pass", "Parameters": {"input.$": "$$.Execution.Input"}, "OutputPath": "$.input"}
    assert lock["Parameters"]["execution_arn.$"] == "$$.Execution.Id" and lock["Parameters"]["input.$"] == "$$.Execution.Input"
    busy = [catch for catch in lock["Catch"] if catch["ErrorEquals"] == ["Busy"]]
    assert (
        busy
        and busy[0]["Next"] == BUSY_STATE
        and definition["States"][BUSY_STATE] == {**definition["States"][BUSY_STATE], "Type": "Fail", "Error": "Busy"}
    )
    for catch in lock["Catch"]:
        assert definition["States"][catch["Next"]]["Type"] == "Fail", "a start that holds no lock must not run anything"


@pytest.mark.parametrize("logical_id", sorted(MACHINES))
def test_every_path_past_the_lock_releases_it_before_the_execution_ends(logical_id):
    states = _definition(logical_id)["States"]
    releases = {name for name, state in states.items() if _is_release(state)}
    assert releases, "no release state"
    taken = states[states[LOCK_STATE]["Next"]]["Default"]  # past the wait for the last run's functions
    seen, todo = set(), [states[taken]["Next"]]
    while todo:  # every state reachable after taking the lock without passing a release
        name = todo.pop()
        if name in seen or name in releases:
            continue
        seen.add(name)
        assert not _ends(states[name]), f"{name} ends the execution without releasing the lock"
        todo += _next(states[name])
    for name in releases:  # a release that fails still goes on to end the execution (the rule releases it then)
        assert {catch["Next"] for catch in states[name]["Catch"]} == {states[name]["Next"]}
