"""Every AWS call a function makes is allowed by that function's own role in template.yaml.

moto does not enforce IAM, so a permission missing from a function's ``Policies`` would first show
as AccessDenied in a real account. This runs every function as the stack runs it: a full
provisioning, its converging re-run and a failing one (the failure report), the API starting, reading and tearing down a second
deployment, and the teardown state machine. The emulator's fault hook records each call with the
function that made it; each call's IAM action must match an Allow statement of that function's
policy. Action level only: resource scoping is what parliament, cfn-lint and checkov review.
"""

import fnmatch
import json

import pytest

from analytics_provisioner import execution
from analytics_provisioner.local import template as cfn
from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import TAG_DEPLOYMENT, Names
from testkit import load_event

# Where an S3 API operation's IAM action has another name (the Service Authorization Reference).
S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "HeadObject": "GetObject",
    "DeleteObjects": "DeleteObject",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
}
PREFIXES = {"tagging": "tag"}  # signing name -> IAM prefix, where they differ
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}
ALSO_NEEDS = {"s3:CreateBucket": ["s3:TagResource"]}  # aws/s3.create_bucket always tags in CreateBucketConfiguration


def iam_actions(call) -> list[str]:
    prefix = PREFIXES.get(call.service, call.service)
    operation = S3_ACTIONS.get(call.operation, call.operation) if prefix == "s3" else call.operation
    action = f"{prefix}:{operation}"
    return [action, *ALSO_NEEDS.get(action, [])]


def allowed_actions(template: dict) -> dict[str, list[str]]:
    """Each function's Allow actions, from the inline statements of its ``Policies``."""
    allowed = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        actions = []
        for policy in resource["Properties"].get("Policies", []):
            assert isinstance(policy, dict) and set(policy) == {"Statement"}, f"{logical_id}: only inline statements are checked here"
            for statement in policy["Statement"]:
                if statement["Effect"] == "Allow":
                    action = statement["Action"]
                    actions += [action] if isinstance(action, str) else action
        allowed[logical_id] = actions
    return allowed


def is_allowed(action: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def _api(emulator, event_name: str) -> dict:
    payload = (
        emulator.client("lambda").invoke(FunctionName="ApiFunction", Payload=json.dumps(load_event(f"api/{event_name}")))["Payload"].read()
    )
    return json.loads(payload)


def _wait_for_all(emulator, deployment_id: str) -> None:
    sfn = emulator.client("stepfunctions")
    for machine in emulator.state_machines.values():
        for started in execution.executions_of(sfn, machine, deployment_id):
            described, _ = execution.follow(sfn, started["executionArn"], timeout_seconds=300)
            assert described["status"] == "SUCCEEDED", (started["name"], described.get("cause"))


@pytest.fixture
def api_environment(emulator, monkeypatch):
    variables = cfn.load()["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    for name, value in variables.items():
        if value["Ref"] in emulator.state_machines:  # the table's name the emulator set already
            monkeypatch.setenv(name, emulator.state_machines[value["Ref"]])


def test_every_call_a_function_makes_is_allowed_by_its_own_policy(emulator, full_input, minimal_input, api_environment):
    seed(emulator, full_input)
    seed(emulator, minimal_input)
    first = execute(emulator, full_input)
    assert first.status == "SUCCEEDED", first.cause
    # The re-run's Verify runs the RDS test over SSM (SendCommand, GetCommandInvocation): the analytics
    # instance's agent may register once its role has the SSM core policy (README, Outputs).
    emulator.client("iam").attach_role_policy(
        RoleName=Names(full_input["deployment_id"]).analytics_role, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )
    spare = [
        {"Key": "Name", "Value": Names(full_input["deployment_id"]).insights_eip},
        {"Key": TAG_DEPLOYMENT, "Value": full_input["deployment_id"]},
    ]
    emulator.client("ec2").allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": spare}]
    )  # the re-run releases it
    rerun = execute(emulator, full_input, name="acme-prod-rerun")
    assert rerun.status == "SUCCEEDED" and rerun.output["verify"]["rds_test"]["status"] == "passed", rerun.cause
    refusing = emulator.faults.aws("ComputeFunction", times=10_000, code="InvalidRequest", status=400)
    failed = execute(emulator, full_input, name="acme-prod-failing")  # a failure runs Report
    assert failed.status == "FAILED", failed.status
    refusing.remaining = 0
    for event, expected in (("start-minimal.json", 202), ("status.json", 200), ("list.json", 200)):
        response = _api(emulator, event)
        assert response["statusCode"] == expected, response
        _wait_for_all(emulator, minimal_input["deployment_id"])
    assert _api(emulator, "teardown.json")["statusCode"] == 202
    _wait_for_all(emulator, minimal_input["deployment_id"])
    removed = execute(emulator, {"deployment": full_input}, name="acme-prod-teardown", machine="TeardownStateMachine")
    assert removed.status == "SUCCEEDED", removed.cause

    allowed = allowed_actions(cfn.load())
    calls = set(emulator.faults.calls)
    assert {call.function for call in calls} == set(allowed), "some function never ran: the check would not cover it"
    missing = sorted(
        {
            (call.function, action)
            for call in calls
            for action in iam_actions(call)
            if action not in NEEDS_NO_PERMISSION and not is_allowed(action, allowed[call.function])
        }
    )
    assert missing == [], "calls their function's role does not allow:\n" + "\n".join(
        f"  {function}: {action}" for function, action in missing
    )
