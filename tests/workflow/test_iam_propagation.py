"""IAM propagation in a whole run (local/iam_propagation.py): the search user and the analytics instance
profile are refused on first use, as on AWS, and the state machine retries until IAM has propagated them,
up to a ceiling that names the phase."""

from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import Names


def test_a_run_waits_until_iam_has_propagated_what_it_created(emulator, minimal_input):
    seed(emulator, minimal_input)
    result = execute(emulator, minimal_input)
    assert result.status == "SUCCEEDED", result.cause
    names = Names(minimal_input["deployment_id"])
    es_user = emulator.client("iam").get_user(UserName=names.es_user)["User"]["Arn"]
    assert {es_user, names.analytics_instance_profile} <= set(emulator.iam_propagation.refused)


def test_iam_that_never_propagates_fails_the_run_at_the_ceiling_naming_the_phase(emulator, minimal_input):
    emulator.iam_propagation.seconds = 24 * 3600
    seed(emulator, minimal_input)
    result = execute(emulator, minimal_input)
    assert result.status == "FAILED"
    assert result.error in ("Search.IamPropagationError", "Compute.IamPropagationError"), result.error
    assert "IAM has not propagated a principal created moments ago" in result.cause
    assert len(emulator.iam_propagation.refused) >= 11  # 1 + 10 retries of the phase that failed
