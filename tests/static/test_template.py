"""The template and the state machine definitions, checked without AWS."""

import json
import re

import pytest
import yaml

from analytics_provisioner.errors import RETRYABLE_ERROR_NAMES, IamPropagationError
from analytics_provisioner.local import template as cfn
from analytics_provisioner.phases import polling, verify
from analytics_provisioner.settings import LONGEST_FUNCTION_TIMEOUT_ENV
from testkit import REPO

TEMPLATE = cfn.load()
MACHINES = cfn.state_machines(TEMPLATE)
FUNCTIONS = cfn.functions(TEMPLATE)


def _lint(template_text: str) -> list:
    from cfnlint.api import ManualArgs, lint

    return lint(template_text, config=ManualArgs(regions=["us-east-1"]))


def test_cfn_lint_is_clean():
    matches = _lint((REPO / "template.yaml").read_text())
    assert not matches, "\n".join(str(match) for match in matches)


@pytest.mark.parametrize("logical_id", sorted(MACHINES))
def test_asl_is_valid_in_a_raw_state_machine(logical_id):
    """cfn-lint checks ASL (E3601) only inside a raw AWS::StepFunctions::StateMachine."""
    definition = json.loads((REPO / MACHINES[logical_id]["DefinitionUri"]).read_text())
    raw = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}},
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Definition": definition,
                    "DefinitionSubstitutions": {
                        key: "arn:aws:lambda:us-east-1:123456789012:function:f" for key in MACHINES[logical_id]["DefinitionSubstitutions"]
                    },
                },
            },
        },
    }
    matches = _lint(yaml.safe_dump(raw))
    assert not matches, "\n".join(str(match) for match in matches)


def _resources(definition: dict):
    for state in definition["States"].values():
        if "Resource" in state:
            yield state["Resource"]
        for branch in state.get("Branches", []):
            yield from _resources(branch)
        if "Iterator" in state or "ItemProcessor" in state:
            yield from _resources(state.get("ItemProcessor") or state["Iterator"])


@pytest.mark.parametrize("logical_id", sorted(MACHINES))
def test_every_asl_resource_is_a_template_function(logical_id):
    machine = MACHINES[logical_id]
    definition = json.loads((REPO / machine["DefinitionUri"]).read_text())
    substitutions = machine["DefinitionSubstitutions"]
    used = set()
    for resource in _resources(definition):
        key = re.fullmatch(r"\$\{(\w+)\}", resource)
        assert key, f"{resource}: Task resources must be ${{...FunctionArn}} substitutions"
        target = substitutions[key.group(1)]
        assert target["Fn::GetAtt"][0] in FUNCTIONS, target
        used.add(key.group(1))
    assert used == set(substitutions), f"unused substitutions: {set(substitutions) - used}"
    invokable = {policy["LambdaInvokePolicy"]["FunctionName"]["Ref"] for policy in machine["Policies"] if "LambdaInvokePolicy" in policy}
    assert invokable == {substitutions[key]["Fn::GetAtt"][0] for key in used}


def test_every_function_has_code_and_a_sample_event():
    for logical_id, spec in FUNCTIONS.items():
        assert (spec.code_dir / "app.py").is_file(), logical_id
        event = REPO / "events" / "functions" / f"{spec.code_dir.name}.json"
        assert event.is_file(), f"{logical_id}: add {event.relative_to(REPO)} for `sam local invoke`"
        json.loads(event.read_text())


def test_every_task_retries_transient_errors_with_jitter():
    for machine in MACHINES.values():
        definition = json.loads((REPO / machine["DefinitionUri"]).read_text())
        for name, state in _tasks(definition):
            retriers = state.get("Retry", [])
            assert any(
                set(RETRYABLE_ERROR_NAMES) <= set(r["ErrorEquals"])
                and "Lambda.TooManyRequestsException" in r["ErrorEquals"]
                and r.get("JitterStrategy") == "FULL"
                for r in retriers
            ), name
            assert state.get("Catch"), f"{name}: every task needs a Catch"


def _retry_ceiling_seconds(retrier: dict) -> float:
    """The longest the retries can wait in all (every full-jitter draw at its maximum)."""
    delays = (retrier["IntervalSeconds"] * retrier["BackoffRate"] ** attempt for attempt in range(retrier["MaxAttempts"]))
    return sum(min(delay, retrier["MaxDelaySeconds"]) for delay in delays)


def test_the_tasks_that_use_a_fresh_principal_wait_out_iam_propagation_up_to_a_ceiling():
    """Search names the new ES user in the domain's access policy, Compute launches with the new instance profile."""
    definition = json.loads((REPO / MACHINES["ProvisionStateMachine"]["DefinitionUri"]).read_text())
    waiting = {
        name: r for name, state in _tasks(definition) for r in state.get("Retry", []) if IamPropagationError.__name__ in r["ErrorEquals"]
    }
    assert set(waiting) == {"Create search domain", "Launch instances"}
    for name, retrier in waiting.items():
        assert retrier["JitterStrategy"] == "FULL" and 120 <= _retry_ceiling_seconds(retrier) <= 600, name


# Events Step Functions writes per state: Task = entered, scheduled, started, succeeded, exited; every
# other state = entered, exited; a failed attempt that a Retry repeats = scheduled, started, failed.
STATE_EVENTS = {"Task": 5}
FAILED_ATTEMPT_EVENTS = 3
EXECUTION_AND_PARALLEL_EVENTS = 2 + 4  # execution started/succeeded; parallel started/succeeded beyond entered/exited


def _states(definition: dict):
    for name, state in definition["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _states(branch)


def test_the_execution_history_budget_of_the_poll_settings_follows_the_definition():
    """Validate's history check (poll settings past 25,000 events) counts polling.EVENTS_PER_ROUND per
    round of the two loops the options drive (search domain, RDS instance), and what it leaves beside
    POLL_HISTORY_BUDGET covers every other state once, each Task's Retry at its ceiling and Verify's
    RDS-test loop at its own."""
    definition = json.loads((REPO / MACHINES["ProvisionStateMachine"]["DefinitionUri"]).read_text())
    states = dict(_states(definition))
    loops = {}
    for name, state in states.items():
        if (
            state["Type"] == "Wait" and "SecondsPath" in state and state["SecondsPath"] != "$.lock.wait_seconds"
        ):  # the lock's: one round, counted once below
            check = states[state["Next"]]
            choice = states[check["Next"]]
            back = [choice.get("Default")] + [rule["Next"] for rule in choice.get("Choices", [])]
            assert check["Type"] == "Task" and choice["Type"] == "Choice" and name in back, name
            assert sum(STATE_EVENTS.get(s["Type"], 2) for s in (state, check, choice)) == polling.EVENTS_PER_ROUND, name
            loops[state["SecondsPath"]] = name
    assert set(loops) == {
        "$.search.poll.next_wait_seconds",
        "$.database.poll.next_wait_seconds",
        "$.verify.rds_test.poll.next_wait_seconds",
    }
    verify_rounds = verify.RDS_TEST_CEILING_SECONDS // verify.RDS_TEST_WAIT_SECONDS + 1
    once = sum(STATE_EVENTS.get(state["Type"], 2) for state in states.values()) + EXECUTION_AND_PARALLEL_EVENTS
    retried = FAILED_ATTEMPT_EVENTS * sum(r["MaxAttempts"] for state in states.values() for r in state.get("Retry", []))
    assert once + retried + polling.EVENTS_PER_ROUND * verify_rounds <= polling.HISTORY_EVENTS_LIMIT - polling.POLL_HISTORY_BUDGET


def _tasks(definition: dict):
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from _tasks(branch)


def test_arns_in_the_template_name_the_stacks_partition():
    """aws-cn and aws-us-gov stacks need arn:aws-cn:/arn:aws-us-gov:, which only ${AWS::Partition} gives."""
    assert re.findall(r"arn:aws[a-z-]*:", (REPO / "template.yaml").read_text()) == []


def test_state_machine_logging_excludes_execution_data():
    for machine in MACHINES.values():
        assert machine["Logging"]["IncludeExecutionData"] is False


def test_every_log_group_has_retention():
    groups = {k: r for k, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::Logs::LogGroup"}
    assert groups
    for logical_id, resource in groups.items():
        assert "RetentionInDays" in resource["Properties"], logical_id
    for logical_id, resource in TEMPLATE["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            assert resource["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] in groups, logical_id


def test_runtime_is_a_current_python():
    runtime = TEMPLATE["Globals"]["Function"]["Runtime"]
    assert re.fullmatch(r"python3\.(1[2-9])", runtime), runtime


@pytest.mark.parametrize("logical_id", ["SearchFunction", "DatabaseFunction"])
def test_a_status_check_can_watch_as_long_as_the_input_allows(logical_id):
    """Lambda ends a check at its timeout: the longest watch the schema accepts, plus a minute of reads, fits."""
    schema = json.loads((REPO / "schema" / "execution-input.schema.json").read_text())
    longest_watch = schema["properties"]["options"]["properties"]["poll_watch_seconds"]["maximum"]
    assert TEMPLATE["Resources"][logical_id]["Properties"]["Timeout"] >= longest_watch + 60


def test_the_lock_waits_as_long_as_the_longest_function_the_state_machines_invoke_can_run():
    """``LONGEST_FUNCTION_TIMEOUT`` (the Lock function's ``settles_at`` figure) is the largest Timeout of
    the functions either state machine invokes: a call can outlive an execution that did not succeed by that much."""
    invoked = {
        value["Fn::GetAtt"][0]
        for machine in MACHINES.values()
        for value in machine["DefinitionSubstitutions"].values()
        if isinstance(value, dict) and "Fn::GetAtt" in value
    }
    default = TEMPLATE["Globals"]["Function"]["Timeout"]
    timeouts = {name: TEMPLATE["Resources"][name]["Properties"].get("Timeout", default) for name in invoked}
    assert "ComputeFunction" in timeouts and "TeardownFunction" in timeouts, timeouts
    figure = TEMPLATE["Resources"]["DeploymentLockFunction"]["Properties"]["Environment"]["Variables"][LONGEST_FUNCTION_TIMEOUT_ENV]
    assert figure == max(timeouts.values()), timeouts
