"""The typed state (state.py, record.py, deployment.ResolvedDeployment): every phase output survives the trip
through the state machine's JSON, and a state without what a type needs is refused naming every gap."""

import dataclasses
import json

import pytest

from analytics_provisioner.deployment import Deployment, ResolvedDeployment
from analytics_provisioner.errors import ResourceStateError
from analytics_provisioner.state import (
    PHASE_OUTPUTS,
    DatabaseOutput,
    DbSetupOutput,
    PathVerdict,
    ProvisionedDatabase,
    RdsTest,
    Resources,
    SearchOutput,
)
from samples import CHOICES, resolved, sample
from testkit import REGION, load_event

RESOLVED = CHOICES


def through_json(value: dict) -> dict:
    return json.loads(json.dumps(value))


def full() -> ResolvedDeployment:
    return resolved(load_event("input-full.json"), REGION, "vpc-0123", "subnet-0123")


@pytest.mark.parametrize(("where", "cls"), [(where, cls) for where, cls, _ in PHASE_OUTPUTS], ids=[where for where, _, _ in PHASE_OUTPUTS])
def test_every_phase_output_survives_the_json_of_the_state(where, cls):
    given = {"deployment": full()} if "deployment" in {f.name for f in dataclasses.fields(cls)} else {}
    output = sample(cls, **given)
    state = through_json(output.to_state())
    assert cls.from_state(state) == output
    assert set(state) == {f.name for f in dataclasses.fields(cls) if not f.metadata["optional_key"] or getattr(output, f.name) is not None}


def test_the_resolved_deployment_keeps_the_state_keys_of_the_deployment():
    deployment = full()
    state = through_json(deployment.to_state())
    assert ResolvedDeployment.from_state(state) == deployment
    raw = Deployment.from_input(load_event("input-full.json"), REGION)
    assert state == through_json(
        dataclasses.replace(raw.with_network("vpc-0123", "subnet-0123"), options=dataclasses.replace(raw.options, **RESOLVED)).to_state()
    )


def test_a_deployment_validate_did_not_resolve_is_refused_naming_each_open_choice():
    raw = Deployment.from_input(load_event("input-minimal.json"), REGION).to_state()
    with pytest.raises(ResourceStateError) as refused:
        ResolvedDeployment.from_state(raw)
    assert str(refused.value).startswith(
        "the state lacks deployment.network.vpc_id, deployment.network.subnet_id, deployment.options.ubuntu_release, deployment.options.ami_id, "
        "deployment.options.es_engine_version, deployment.options.es_instance_type, deployment.options.es_encryption_at_rest: "
        "the phases that produce them did not finish"
    )


def test_every_gap_in_the_tree_is_named_by_its_path():
    state = sample(Resources).to_state()
    del state["search"]["domain_arn"]
    state["search"]["endpoint"] = None  # a SearchOutput may have none; the branch's result may not
    state["database"]["setup"] = None
    state["compute"]["analytics_instances"][0]["instance_id"] = None
    del state["storage"]
    with pytest.raises(ResourceStateError) as refused:
        Resources.from_state(state, "resources")
    assert refused.value.lacking == [
        "resources.search.domain_arn",
        "resources.search.endpoint",
        "resources.database.setup",
        "resources.storage",
        "resources.compute.analytics_instances.0.instance_id",
    ]
    assert "did not finish; start the same input again once they succeed" in str(refused.value)


def test_null_is_accepted_where_the_type_allows_it():
    search = sample(SearchOutput, endpoint=None, ready=False)
    assert SearchOutput.from_state(through_json(search.to_state())).endpoint is None


def test_an_optional_key_is_left_out_while_it_has_no_value():
    database = sample(DatabaseOutput, setup=None)
    assert "setup" not in database.to_state()
    with_setup = dataclasses.replace(database, setup=sample(DbSetupOutput))
    assert with_setup.to_state()["setup"]["databases"] == with_setup.setup.databases
    assert ProvisionedDatabase.from_state(with_setup.to_state()).setup == with_setup.setup
    assert sample(PathVerdict, via="sg-1 admits sg-2 on tcp 3306", note=None).to_state().keys() == {"path", "port", "open", "via"}
    assert RdsTest(status="skipped", reason="no agent").to_state() == {"status": "skipped", "reason": "no agent"}
