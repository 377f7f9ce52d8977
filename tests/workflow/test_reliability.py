"""The reliability suite: AWS's bad days survived, permanent faults reported with their phase and
recovered by a re-run, malformed input refused before anything exists, no secret leaked.

The figures in the README's "Reliability" section are the counts asserted here.
"""

import json

import pytest

from analytics_provisioner import execution as executions
from analytics_provisioner.local.emulator import Emulator
from analytics_provisioner.local.runner import execute, tagged_resources
from analytics_provisioner.local.seed import seed
from testkit import REGION, assert_no_leak, history_places, inventory, secret_values

PHASES = {  # phase (as the execution's error names it) -> its function
    "Validate": "ValidateFunction",
    "Identity": "IdentityFunction",
    "Network": "NetworkFunction",
    "Search": "SearchFunction",
    "Database": "DatabaseFunction",
    "DbSetup": "DbSetupFunction",
    "Storage": "StorageFunction",
    "Compute": "ComputeFunction",
    "Verify": "VerifyFunction",
    "Render": "RenderFunction",
}
THROTTLES, SERVER_ERRORS = 2, 1


def _counts(snapshot: dict) -> dict:
    return {kind: len(items) for kind, items in snapshot.items()}


@pytest.fixture
def clean_counts(mysql_server, runbook_users, database_servers, full_input) -> dict:
    """Resource counts after a fault-free run of the same input, in an emulator of its own."""
    with Emulator(region=REGION, mysql=mysql_server, database_servers=database_servers.server) as clean:
        seed(clean, full_input)
        assert execute(clean, full_input).status == "SUCCEEDED"
        return _counts(inventory(clean))


def test_transient_faults_in_every_phase_are_survived_without_duplicates(clean_counts, emulator, full_input):
    seed(emulator, full_input)
    rules = []
    for function in PHASES.values():
        rules.append(emulator.faults.aws(function, times=THROTTLES, code="ThrottlingException", status=400))
        rules.append(emulator.faults.aws(function, times=SERVER_ERRORS, code="InternalError", status=500))
    emulator.faults.lambda_failure("IdentityFunction")
    emulator.faults.lambda_failure("StorageFunction", error_name="Lambda.TooManyRequestsException")

    result = execute(emulator, full_input)

    assert result.status == "SUCCEEDED", result.cause
    assert all(rule.remaining == 0 for rule in rules), "a phase made fewer AWS calls than faults were planned"
    assert emulator.faults.aws_injected == len(PHASES) * (THROTTLES + SERVER_ERRORS) == 30
    assert emulator.faults.lambda_injected == 2
    assert _counts(inventory(emulator)) == clean_counts


@pytest.mark.parametrize("phase", list(PHASES))
def test_a_permanent_fault_names_its_phase_and_a_rerun_completes(emulator, minimal_input, phase):
    seed(emulator, minimal_input)
    emulator.faults.aws(PHASES[phase], times=10_000, code="InvalidRequest", status=400)

    failed = execute(emulator, minimal_input)

    assert failed.status == "FAILED"
    assert failed.error == f"{phase}.AwsCallError", failed.error
    assert failed.cause.startswith(f"{phase}: ") and "InvalidRequest" in failed.cause
    report = _failure_report(emulator, failed.cause)
    assert report["phase"] == phase and report["nothing_created"] is (phase == "Validate")
    created = report["created_before_the_failure"]
    assert ("identity" in created) is (phase not in ("Validate", "Identity"))
    assert set(report["tagged_resources"]) <= set(tagged_resources(emulator, minimal_input["deployment_id"]))
    if phase == "DbSetup":  # the parallel branches' resources, which the state never handed on
        kinds = {arn.split(":")[2] + ":" + arn.split(":")[5].split("/")[0] for arn in report["tagged_resources"]}
        assert {"rds:db", "s3:" + minimal_input["deployment_id"] + "-edxanalytics"} <= kinds, sorted(kinds)
        assert "resources" not in created, "the state hands nothing of the parallel block on"

    emulator.faults.aws_rules.clear()
    rerun = execute(emulator, minimal_input, name=executions.execution_name(minimal_input, attempt=2))
    assert rerun.status == "SUCCEEDED", rerun.cause


def test_storage_stopped_right_after_creating_a_bucket_leaves_one_its_rerun_adopts(emulator, minimal_input):
    """A bucket is tagged by the call that creates it: however Storage stops, a re-run finds it ours."""
    seed(emulator, minimal_input)
    emulator.faults.aws("StorageFunction", times=10_000, code="InvalidRequest", status=400, after="CreateBucket")

    failed = execute(emulator, minimal_input)
    assert failed.error == "Storage.AwsCallError", failed.cause

    emulator.faults.aws_rules.clear()
    rerun = execute(emulator, minimal_input, name=executions.execution_name(minimal_input, attempt=2))
    assert rerun.status == "SUCCEEDED", rerun.cause


def _failure_report(emulator, cause: str) -> dict:
    uri = cause.rsplit("failure report: ", 1)[1].rstrip(")")
    bucket, key = uri[len("s3://") :].split("/", 1)
    return json.loads(emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_no_secret_appears_in_history_logs_or_output(emulator, full_input):
    seed(emulator, full_input)
    result = execute(emulator, full_input)
    assert result.status == "SUCCEEDED", result.cause
    secrets = secret_values(emulator)
    assert len(secrets) >= 12, f"the run stored fewer credentials than it should have: {len(secrets)}"
    teardown = execute(emulator, {"deployment": full_input, "keep_data": True}, name="teardown", machine="TeardownStateMachine")
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert_no_leak(
        secrets,
        {
            **history_places(result.view.events, "execution history"),
            **history_places(teardown.view.events, "teardown history"),
            "function logs": emulator.log_stream.getvalue(),
            "execution output": result.output,
        },
    )
