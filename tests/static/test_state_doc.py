"""The typed state and what lives outside the code: docs/state.md's "Phase outputs" is what scripts/state_doc.py makes
of the dataclasses in state.py, and the sample events (events/functions/) hold what each typed phase needs (a sample
the types outgrew would make `sam local invoke` fail on a missing key)."""

import importlib.util
import json

import pytest

from analytics_provisioner.handler import arguments
from analytics_provisioner.phases import compute, database, dbsetup, identity, network, render, report, search, storage, validate, verify
from analytics_provisioner.settings import Settings
from testkit import EVENTS, REPO

TYPED = {
    "validate": validate.run,
    "identity": identity.run,
    "network": network.run,
    "search": search.run,
    "database": database.run,
    "dbsetup": dbsetup.run,
    "storage": storage.run,
    "compute": compute.run,
    "verify": verify.run,
    "render": render.run,
    "report": report.run,
}


@pytest.mark.parametrize("function", sorted(TYPED))
def test_each_sample_event_holds_what_its_phase_reads(function):
    event = json.loads((EVENTS / "functions" / f"{function}.json").read_text())
    assert arguments(TYPED[function], event, Settings(region="us-east-1"))


def _state_doc():
    spec = importlib.util.spec_from_file_location("state_doc", REPO / "scripts" / "state_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_phase_outputs_in_docs_state_md_are_the_dataclasses():
    state_doc = _state_doc()
    assert state_doc.current(state_doc.DOC.read_text()) == state_doc.section(), (
        "docs/state.md's Phase outputs differ from state.py: run .venv/bin/python scripts/state_doc.py"
    )


def test_the_generated_section_shows_every_field_with_its_description():
    section = _state_doc().section()
    from analytics_provisioner.record import field_docs
    from analytics_provisioner.state import PHASE_OUTPUTS

    for _, cls, _ in PHASE_OUTPUTS:
        for name, _, text in field_docs(cls):
            assert text, f"{cls.__name__}.{name} has no description (record.doc)"
            assert f"- `{name}` (" in section and text in section
