"""The emulator's rule "ListSecrets lags writes" (local/secrets_listing.py): it bites, and moto alone lacks it."""

import pytest

from analytics_provisioner.local import faults
from analytics_provisioner.local.emulator import FAKE_ENV
from analytics_provisioner.local.secrets_listing import LAG_SECONDS


@pytest.fixture
def as_a_function():
    """The rule applies to the calls the functions make, as the Lambda hook marks them."""
    faults.current.function = "TeardownFunction"
    yield
    faults.current.function = None


def _listed(emulator) -> set[str]:
    return {secret["Name"] for secret in emulator.client("secretsmanager").list_secrets(IncludePlannedDeletion=True)["SecretList"]}


def test_a_fresh_secret_is_listed_only_five_simulated_minutes_later(aws, as_a_function):
    sm = aws.client("secretsmanager")
    sm.create_secret(Name="old", SecretString="{}")
    aws.clock.skip(LAG_SECONDS)
    sm.create_secret(Name="fresh", SecretString="{}")
    assert _listed(aws) == {"old"}
    assert sm.describe_secret(SecretId="fresh")["Name"] == "fresh"  # by name it is there at once
    aws.clock.skip(LAG_SECONDS - 1)
    assert _listed(aws) == {"old"}
    aws.clock.skip(1)
    assert _listed(aws) == {"old", "fresh"}
    sm.delete_secret(SecretId="old", RecoveryWindowInDays=7)
    assert _listed(aws) == {"fresh"}


def test_a_tests_own_look_sees_the_account_as_it_is(aws):
    aws.client("secretsmanager").create_secret(Name="fresh", SecretString="{}")
    assert _listed(aws) == {"fresh"}


def test_waits_the_emulator_skips_advance_the_simulated_clock(aws):
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    before = aws.clock.now()
    wait_function.WaitFunction._wait_interval(None, None, 600)
    assert aws.clock.now() - before >= 600


def test_canary_moto_alone_lists_a_fresh_secret_at_once(monkeypatch):
    import boto3
    from moto import mock_aws

    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(Name="fresh", SecretString="{}")
        listed = {secret["Name"] for secret in sm.list_secrets()["SecretList"]}
    assert listed == {"fresh"}, "moto now lags ListSecrets itself: the rule may be redundant"
