"""Systems Manager: which instances run a registered agent, and Run Command (AWS-RunShellScript)."""

from .clients import client
from .errors import absent_on

RUN_SHELL_SCRIPT = "AWS-RunShellScript"
# GetCommandInvocation's Status: still under way, and the terminal ones that say nothing about the script.
UNDER_WAY = {"Pending", "InProgress", "Delayed"}
NO_VERDICT = {"Cancelled", "Cancelling", "TimedOut", "DeliveryTimedOut", "ExecutionTimedOut", "Undeliverable", "Terminated"}


def online_instances(instance_ids: list[str], region: str) -> list[str]:
    """Those of ``instance_ids`` whose SSM agent is registered and online (DescribeInstanceInformation), in the given order."""
    if not instance_ids:
        return []
    found, pages = (
        set(),
        client("ssm", region)
        .get_paginator("describe_instance_information")
        .paginate(Filters=[{"Key": "InstanceIds", "Values": list(instance_ids)}]),
    )
    for page in pages:
        found |= {info["InstanceId"] for info in page["InstanceInformationList"] if info.get("PingStatus") == "Online"}
    return [instance_id for instance_id in instance_ids if instance_id in found]


def run_shell_script(instance_ids: list[str], commands: list[str], comment: str, timeout_seconds: int, region: str) -> str:
    """Send ``commands`` to the instances; returns the command id. Nothing secret may be in ``commands``:
    SSM keeps them in the command's history."""
    return client("ssm", region).send_command(
        InstanceIds=list(instance_ids),
        DocumentName=RUN_SHELL_SCRIPT,
        Comment=comment[:100],
        TimeoutSeconds=max(timeout_seconds, 30),
        Parameters={"commands": commands, "executionTimeout": [str(timeout_seconds)]},
    )["Command"]["CommandId"]


def invocation(command_id: str, instance_id: str, region: str) -> dict:
    """The command's invocation on one instance; Pending while SSM does not know it yet (right after SendCommand)."""
    found = absent_on(
        lambda: client("ssm", region).get_command_invocation(CommandId=command_id, InstanceId=instance_id), "InvocationDoesNotExist"
    )
    return found if found is not None else {"CommandId": command_id, "InstanceId": instance_id, "Status": "Pending"}
