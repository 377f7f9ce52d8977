"""The handler decorator: any failure leaves a function as a typed error that names its phase; a typed phase gets its
inputs rebuilt from the state (or a ResourceStateError naming every key the state lacks) and its output stored as a dict."""

import pytest

from analytics_provisioner.deployment import ResolvedDeployment
from analytics_provisioner.errors import InternalError, PreflightError, ResourceStateError
from analytics_provisioner.handler import phase_handler
from analytics_provisioner.local.lambda_hook import Context
from analytics_provisioner.settings import Settings
from analytics_provisioner.state import IdentityOutput, NetworkOutput, SearchOutput, VerifyOutput
from samples import resolved, sample
from testkit import load_event


def _failing(exc: Exception):
    @phase_handler("Storage")
    def handle(event, context):
        raise exc

    return handle


def test_an_unexpected_exception_becomes_an_internal_error_naming_its_type_not_its_message(caplog):
    with pytest.raises(InternalError) as raised:
        _failing(KeyError("s3cr3t-value"))({}, Context("StorageFunction", 30))
    assert str(raised.value).startswith("Storage: unexpected KeyError")
    assert "s3cr3t-value" not in str(raised.value) and "s3cr3t-value" not in caplog.text
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_typed_error_keeps_its_type_and_gains_the_phase():
    with pytest.raises(PreflightError, match="^Storage: bucket x is missing$"):
        _failing(PreflightError("bucket x is missing"))({}, Context("StorageFunction", 30))


# The typed part: the phase's parameters rebuilt from the state, its output stored as a dict -------------------
def _event(**parts) -> dict:
    return {"deployment": resolved(load_event("input-minimal.json")).to_state(), **{key: value.to_state() for key, value in parts.items()}}


def test_a_phase_receives_typed_inputs_and_its_output_becomes_the_state_dict():
    received = {}

    def run(deployment: ResolvedDeployment, network: NetworkOutput, settings: Settings) -> SearchOutput:
        received.update(deployment=deployment, network=network, settings=settings)
        return sample(SearchOutput, endpoint=None, ready=False)

    network = sample(NetworkOutput)
    output = phase_handler("Search", run)(_event(network=network), Context("SearchFunction", 30))
    assert output == sample(SearchOutput, endpoint=None, ready=False).to_state() and output["endpoint"] is None
    assert received["network"] == network and received["deployment"].network.vpc_id == "vpc-0123456789abcdef0"
    assert isinstance(received["settings"], Settings)


def test_a_missing_upstream_output_names_every_key_before_the_phase_runs():
    called = []

    def run(deployment: ResolvedDeployment, identity: IdentityOutput, network: NetworkOutput) -> None:
        called.append(True)

    network = sample(NetworkOutput).to_state()
    del network["security_groups"]["emr_rds"]
    event = {**_event(), "network": network}
    with pytest.raises(ResourceStateError) as refused:
        phase_handler("Compute", run)(event, Context("ComputeFunction", 30))
    assert str(refused.value) == (
        "Compute: the state lacks identity, network.security_groups.emr_rds: the phases that produce them did not "
        "finish; start the same input again once they succeed"
    )
    assert called == []


def test_the_event_names_the_action_and_an_optional_input_may_be_absent():
    def ensure(deployment: ResolvedDeployment) -> str:
        return "ensure"

    def status(deployment: ResolvedDeployment, verify: VerifyOutput | None = None) -> str:
        return f"status, verify {verify}"

    handle = phase_handler("Verify", ensure, status=status)
    assert handle(_event(), Context("VerifyFunction", 30)) == "ensure"
    assert handle({**_event(), "action": "status"}, Context("VerifyFunction", 30)) == "status, verify None"


def test_settings_are_read_once_per_cold_start(monkeypatch):
    seen = []

    def run(settings: Settings) -> None:
        seen.append(settings.secure_repo_bucket)

    monkeypatch.setenv("SECURE_REPO_BUCKET", "first")
    handle = phase_handler("Render", run)
    handle({}, Context("RenderFunction", 30))
    monkeypatch.setenv("SECURE_REPO_BUCKET", "second")
    handle({}, Context("RenderFunction", 30))
    phase_handler("Render", run)({}, Context("RenderFunction", 30))  # another cold start
    assert seen == ["first", "first", "second"]
