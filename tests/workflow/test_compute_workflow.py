"""Compute in local mode: the real state machine runs "Launch instances" in the parallel block,
and a second execution with the same input launches, allocates and creates nothing."""

from analytics_provisioner import execution as executions
from analytics_provisioner.local.catalog import CANONICAL
from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import seed


def compute_inventory(emulator) -> dict:
    ec2 = emulator.client("ec2")
    return {
        "instances": sorted(i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]),
        "addresses": sorted(a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]),
        "key_pairs": sorted(k["KeyPairId"] for k in ec2.describe_key_pairs()["KeyPairs"]),
    }


def launch_status(result) -> str:
    """How "Launch instances" ended, or why it never ran."""
    ran = [state["status"] for state in result.view.summary() if state["state"] == "Launch instances"]
    return ran[-1] if ran else f"never entered ({result.error}: {result.cause})"


def test_compute_runs_in_the_parallel_block_and_a_rerun_creates_nothing(emulator, minimal_input):
    seed(emulator, minimal_input)
    newest_focal = max(
        emulator.client("ec2").describe_images(
            Owners=[CANONICAL], Filters=[{"Name": "name", "Values": ["ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-*"]}]
        )["Images"],
        key=lambda image: image["CreationDate"],
    )["ImageId"]

    first = execute(emulator, minimal_input)
    assert launch_status(first) == "succeeded", first.cause
    ran = [state["state"] for state in first.view.summary()]
    assert ran.index("Create resources in parallel") < ran.index("Launch instances")
    after_first = compute_inventory(emulator)
    assert (len(after_first["instances"]), len(after_first["addresses"]), len(after_first["key_pairs"])) == (
        2,
        1,
        3,
    )  # analytics, director, Jenkins deploy key

    second = execute(emulator, minimal_input, name=executions.execution_name(minimal_input, attempt=2))
    assert launch_status(second) == "succeeded", second.cause
    assert compute_inventory(emulator) == after_first

    ec2 = emulator.client("ec2")
    assert {i["ImageId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]} == {newest_focal}
