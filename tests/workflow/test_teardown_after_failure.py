"""A teardown after a provisioning that failed in any phase leaves nothing tagged but the documented
remains (README, Teardown): the buckets it names as kept with their reason, secrets in their recovery
window, terminated instances, the final RDS snapshot. Each phase fails partway, after it made
something the state never handed on, so teardown must find it by tag and name, not from the state."""

import threading
import time

import pytest

from analytics_provisioner import naming
from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import seed
from analytics_provisioner.phases.teardown import storage as teardown_storage
from testkit import diff, inventory, tagged_everywhere

DEPLOYMENT = "acme-prod"
FAULTS = {  # phase -> its function, where its calls start failing for good, what it made by then (in a tagged ARN)
    "Identity": ("IdentityFunction", {"after": "CreateAccessKey"}, ":user/"),  # a user holding a key whose secret was never stored
    "Network": (
        "NetworkFunction",
        {"operation": "ModifyDBInstance"},
        ":security-group/",
    ),  # every group and rule, the edxapp RDS not joined
    "Search": ("SearchFunction", {"after": "CreateDomain"}, ":domain/"),
    "Database": ("DatabaseFunction", {"after": "CreateDBInstance"}, ":db:"),
    "DbSetup": ("DbSetupFunction", {"after": "CreateSecret"}, ":secret:analytics-provisioner/acme-prod/db/"),  # one login stored and made
    "Storage": ("StorageFunction", {"after": "CreateBucket"}, "arn:aws:s3:::"),  # a bucket without its public-access block and policy
    "Compute": ("ComputeFunction", {"after": "AllocateAddress"}, "elastic-ip/"),  # an Elastic IP allocated, not associated
    "Verify": ("VerifyFunction", {}, ":instance/"),  # everything made
    "Render": ("RenderFunction", {"after": "PutObject"}, ":secret:analytics-provisioner/acme-prod/app"),  # the app secret, one file
}
KEPT_REASONS = {teardown_storage.TRACKING_LOGS, teardown_storage.HOLDS_OBJECTS, teardown_storage.NOT_OURS}


def _documented(emulator, arn: str, kept_buckets: set[str]) -> bool:
    """A remain README's Teardown section names: a bucket the output lists as kept, a secret in its
    recovery window, a terminated instance, the final snapshot."""
    if arn.startswith("arn:aws:s3:::"):
        return arn.removeprefix("arn:aws:s3:::") in kept_buckets
    if ":secret:" in arn:
        return bool(emulator.client("secretsmanager").describe_secret(SecretId=arn).get("DeletedDate"))
    if ":instance/" in arn:
        described = emulator.client("ec2").describe_instances(InstanceIds=[arn.rsplit("/", 1)[1]])["Reservations"][0]["Instances"][0]
        return described["State"]["Name"] == "terminated"
    return f":snapshot:{naming.Names(DEPLOYMENT).analytics_rds}-final-" in arn


@pytest.mark.parametrize("phase", list(FAULTS))
def test_a_teardown_after_a_provisioning_failed_in_each_phase_leaves_only_the_documented_remains(emulator, full_input, phase):
    seed(emulator, full_input)
    before = inventory(emulator)
    function, where, made = FAULTS[phase]
    fault = emulator.faults.aws(function, times=10_000, code="InvalidRequest", status=400, **where)

    failed = execute(emulator, full_input)

    assert failed.status == "FAILED" and failed.error == f"{phase}.AwsCallError", (failed.error, failed.cause)
    emulator.hook.wait_idle()  # the other branches' functions, still running (test_a_function_still_running... below)
    assert fault.injected and any(made in arn for arn in tagged_everywhere(emulator, DEPLOYMENT)), f"{phase} failed before it made anything"
    emulator.faults.aws_rules.clear()

    removed = execute(emulator, {"deployment": full_input}, name="teardown", machine="TeardownStateMachine")

    assert removed.status == "SUCCEEDED", removed.cause
    kept = {entry["bucket"]: entry["reason"] for entry in removed.output["storage"]["buckets_kept"]}
    assert set(kept.values()) <= KEPT_REASONS, kept
    left = [arn for arn in tagged_everywhere(emulator, DEPLOYMENT) if not _documented(emulator, arn, set(kept))]
    assert left == [], f"tagged and left behind after a failure in {phase}: {left}"
    untagged = diff(before, inventory(emulator))  # what carries no tag (MySQL users, rules) or was never tagged
    allowed = {"buckets": set(kept), "roles": {naming.EMR_SERVICE_ROLE}, "security_groups": _shared_emr_groups(emulator)}
    for kind, change in untagged.items():
        assert change["removed"] == [], f"teardown removed pre-existing {kind}: {change['removed']}"
        if kind != "security_group_rules":  # the shared EMR groups' own rules
            assert set(change["added"]) <= allowed.get(kind, set()), f"{kind} left behind after a failure in {phase}"


def _shared_emr_groups(emulator) -> set[str]:
    """The per-VPC EMR security groups any deployment may create and every later one uses: never deleted."""
    groups = emulator.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [naming.EMR_MASTER_SECURITY_GROUP, naming.EMR_SLAVE_SECURITY_GROUP]}]
    )["SecurityGroups"]
    return {group["GroupId"] for group in groups}


def test_a_function_still_running_when_the_teardown_starts_leaves_nothing_behind(emulator, full_input):
    """Storage fails while Compute's function is still running (Step Functions stops the Parallel
    state's other branches but cannot stop a Lambda invocation); the operator starts the teardown at
    once. Its lock answers that the failed provisioning's functions may run for up to the longest
    function timeout, so the teardown waits (*Wait for the last run's functions to finish*) before it
    deletes anything. Here Compute goes on only once the teardown waits, and the wait ends once
    Compute's call has (a real wait lasts the whole timeout, which no call outlives): the teardown
    then finds and removes what Compute made. Without the wait, Compute makes its key pairs (and their
    secrets) after the teardown passed them."""
    seed(emulator, full_input)
    compute_started, compute_may_go, waited = threading.Event(), threading.Event(), threading.Event()

    def hold(function: str, event: dict) -> None:
        if function == "StorageFunction":
            assert compute_started.wait(60)  # fail only once Compute runs
        if function == "ComputeFunction":
            compute_started.set()
            assert compute_may_go.wait(120)
        if (
            function == "DeploymentLockFunction"
            and event.get("action") == "acquire"
            and event.get("workflow") == "teardown"
            and event["execution_arn"] in asked
        ):
            waited.set()  # the teardown asks again: it waited
            compute_may_go.set()
            deadline = time.monotonic() + 120
            while not any(name == "ComputeFunction" for name, _ in emulator.hook.invocations):
                assert time.monotonic() < deadline, "Compute's call never ended"
                time.sleep(0.05)
            made_meanwhile.extend(tagged_everywhere(emulator, DEPLOYMENT))
        if function == "DeploymentLockFunction" and event.get("action") == "acquire":
            asked.add(event["execution_arn"])

    asked: set[str] = set()  # the executions that asked for the lock once
    made_meanwhile: list[str] = []  # what carries the tag when the teardown's wait ends
    emulator.hook.before_invoke.append(hold)
    emulator.faults.aws("StorageFunction", times=10_000, code="InvalidRequest", status=400, operation="CreateBucket")
    failed = execute(emulator, full_input)
    assert failed.error == "Storage.AwsCallError", (failed.error, failed.cause)
    emulator.faults.aws_rules.clear()
    try:
        removed = execute(emulator, {"deployment": full_input}, name="teardown", machine="TeardownStateMachine")
    finally:
        compute_may_go.set()  # without the wait, Compute makes its resources after the teardown ended
    emulator.hook.wait_idle()

    assert removed.status == "SUCCEEDED", removed.cause
    kept = {entry["bucket"] for entry in removed.output["storage"]["buckets_kept"]}
    left = [arn for arn in tagged_everywhere(emulator, DEPLOYMENT) if not _documented(emulator, arn, kept)]
    assert left == [], f"made by the failed provisioning's functions still running during the teardown: {left}"
    assert waited.is_set()
    assert any(arn.startswith("key-pair/") for arn in made_meanwhile), "Compute's call made nothing for the teardown to find"
