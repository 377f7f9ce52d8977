"""The typed state and what lives outside the code: the sample events (events/functions/) hold what each typed phase
needs (a sample the types outgrew would make `sam local invoke` fail on a missing key)."""

import json

import pytest

from analytics_provisioner.handler import arguments
from analytics_provisioner.phases import compute, database, dbsetup, identity, network, render, report, search, storage, validate, verify
from analytics_provisioner.settings import Settings
from testkit import EVENTS

TYPED = {"validate": validate.run, "identity": identity.run, "network": network.run, "search": search.run, "database": database.run,
         "dbsetup": dbsetup.run, "storage": storage.run, "compute": compute.run, "verify": verify.run, "render": render.run,
         "report": report.run}


@pytest.mark.parametrize("function", sorted(TYPED))
def test_each_sample_event_holds_what_its_phase_reads(function):
    event = json.loads((EVENTS / "functions" / f"{function}.json").read_text())
    assert arguments(TYPED[function], event, Settings(region="us-east-1"))
