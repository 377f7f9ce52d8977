"""The two AWS rules the deployment lock rests on, as the emulator applies them (``local/``): an ended
execution reaches the Lambda targets of the EventBridge rules that match it, and a DynamoDB conditional
write is atomic. Each test shows the rule bites; ``tests/static/test_moto_canary.py`` shows moto lacks it."""

import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from analytics_provisioner.execution import follow
from analytics_provisioner.local import template as cfn
from analytics_provisioner.local.emulator import Emulator
from testkit import REGION

pytestmark = pytest.mark.without_database


def _machine(emu, name: str, definition: dict) -> str:
    role = emu.client("iam").get_role(RoleName="analytics-provisioner-local")["Role"]["Arn"]
    return emu.client("stepfunctions").create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)["stateMachineArn"]


def test_an_ended_execution_reaches_the_lambda_targets_of_matching_rules_whatever_ended_it():
    with Emulator(region=REGION) as emu:
        sfn, events = emu.client("stepfunctions"), emu.client("events")
        lock = emu.client("lambda").get_function(FunctionName="DeploymentLockFunction")["Configuration"]["FunctionArn"]
        gate = threading.Event()  # holds the task below: a lock call for no deployment (it succeeds, taking nothing)
        emu.hook.before_invoke.append(lambda name, event: event.get("execution_arn") == "held" and gate.wait(30))
        harmless = {"action": "acquire", "workflow": "provision", "execution_arn": "held", "input": {}}
        quick = _machine(emu, "quick", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
        held = _machine(
            emu, "held", {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": lock, "Parameters": harmless, "End": True}}}
        )
        unmatched = _machine(emu, "unmatched", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
        events.put_rule(
            Name="ours",
            EventPattern=json.dumps(
                {
                    "source": ["aws.states"],
                    "detail-type": ["Step Functions Execution Status Change"],
                    "detail": {"stateMachineArn": [quick, held]},
                }
            ),
        )
        events.put_targets(Rule="ours", Targets=[{"Id": "lock", "Arn": lock}])
        done = sfn.start_execution(stateMachineArn=quick, name="done", input="{}")["executionArn"]
        stopped = sfn.start_execution(stateMachineArn=held, name="stopped", input="{}")["executionArn"]
        other = sfn.start_execution(stateMachineArn=unmatched, name="other", input="{}")["executionArn"]
        for arn in (done, other):
            follow(sfn, arn, timeout_seconds=30)
        sfn.stop_execution(executionArn=stopped, error="Stopped", cause="by the test")
        gate.set()
        follow(sfn, stopped, timeout_seconds=30)
        deadline = time.monotonic() + 10
        while len([d for d in emu.execution_events.delivered if d[0] == stopped]) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (done, "SUCCEEDED", lock) in emu.execution_events.delivered
        assert (stopped, "ABORTED", lock) in emu.execution_events.delivered
        assert not [d for d in emu.execution_events.delivered if d[0] == other], "only matching rules are delivered"
        assert ("DeploymentLockFunction", "ok") in emu.hook.invocations


def test_the_emulator_deploys_the_templates_rule_for_both_state_machines():
    with Emulator(region=REGION) as emu:
        events = emu.client("events")
        [(function, event_name)] = cfn.eventbridge_rules(cfn.load())
        rule = events.describe_rule(Name=f"{function}-{event_name}")
        pattern = json.loads(rule["EventPattern"])
        assert sorted(pattern["detail"]["stateMachineArn"]) == sorted(emu.state_machines.values())
        assert sorted(pattern["detail"]["status"]) == ["ABORTED", "FAILED", "SUCCEEDED", "TIMED_OUT"]
        [target] = events.list_targets_by_rule(Rule=f"{function}-{event_name}")["Targets"]
        assert target["Arn"].endswith(":function:DeploymentLockFunction")


def slowed_reads(monkeypatch, seconds: float = 0.2) -> None:
    """moto's item read inside a write takes a while, as a busy service might: two writers overlap."""
    from moto.dynamodb.models.table import Table

    real = Table.get_item
    monkeypatch.setattr(Table, "get_item", lambda self, *args, **kwargs: (time.sleep(seconds), real(self, *args, **kwargs))[1])


def race_conditional_writes(dynamodb, table: str) -> list[str]:
    """Two threads write one item on condition that it does not exist yet; the winners' names."""
    won, barrier = [], threading.Barrier(2)

    def write(who: str) -> None:
        barrier.wait()
        try:
            dynamodb.update_item(
                TableName=table,
                Key={"deployment_id": {"S": "acme-demo"}},
                UpdateExpression="SET holder = :who",
                ConditionExpression="attribute_not_exists(holder)",
                ExpressionAttributeValues={":who": {"S": who}},
            )
            won.append(who)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"

    threads = [threading.Thread(target=write, args=(who,)) for who in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return won


def create_lock_table(dynamodb) -> str:
    dynamodb.create_table(
        TableName="locks",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "deployment_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "deployment_id", "AttributeType": "S"}],
    )
    return "locks"


def test_of_two_racing_conditional_writes_exactly_one_succeeds(monkeypatch):
    slowed_reads(monkeypatch)
    with Emulator(region=REGION, deploy=False) as emu:
        dynamodb = emu.client("dynamodb")
        won = race_conditional_writes(dynamodb, create_lock_table(dynamodb))
        assert len(won) == 1
        assert dynamodb.get_item(TableName="locks", Key={"deployment_id": {"S": "acme-demo"}})["Item"]["holder"]["S"] == won[0]
