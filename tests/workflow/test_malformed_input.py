"""Property: any malformed input is refused by Validate, before any resource exists.

hypothesis mutates the sample input (drops a required field, puts a wrong type or a hostile
string in a field, adds an unknown field). Most examples run through the Validate function
in-process against the emulated account; a sample of them runs through the real state machine.
The README's figure is MAX_EXAMPLES + STATE_MACHINE_EXAMPLES inputs tried, all refused.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_provisioner.deployment import validation_errors
from analytics_provisioner.errors import InputError
from analytics_provisioner.handler import invoke
from analytics_provisioner.local import faults
from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import seed
from analytics_provisioner.phases import validate
from mutations import field_paths, mutated
from testkit import VALIDATE_FAILED_PATH, inventory, load_event

MAX_EXAMPLES = 250
READS = ("Describe", "List", "Get", "Head")
STATE_MACHINE_EXAMPLES = 12
BASE = load_event("input-full.json")
HOSTILE = ["", " ", "'; DROP TABLE users;--", "a" * 300, "ACME", "-acme", "acme_", "../..", "${jndi:x}", "\u0000", "é", "0.0.0.0/33"]
WRONG_TYPES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
)


PATHS = sorted(field_paths(BASE))


def malformed():
    return mutated(BASE, PATHS, lambda path: WRONG_TYPES, st.text(min_size=1, max_size=8))


def _refused_by_schema(doc) -> bool:
    return bool(validation_errors(doc))


@settings(
    max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much]
)
@given(doc=malformed().filter(_refused_by_schema))
def test_malformed_input_is_refused_by_validate_and_creates_nothing(seeded_full, doc):
    calls = seeded_full.faults.calls
    calls.clear()
    faults.current.function = "ValidateFunction"
    try:
        invoke(validate.run, doc)
    except InputError as refused:
        message = str(refused)
    else:
        raise AssertionError(f"accepted: {json.dumps(doc)[:300]}")
    finally:
        faults.current.function = None
    assert message.startswith("The execution input is invalid: ") and ": " in message[32:]
    assert [call.operation for call in calls if not call.operation.startswith(READS)] == []


@settings(
    max_examples=STATE_MACHINE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(doc=malformed().filter(_refused_by_schema))
def test_malformed_inputs_fail_the_real_state_machine_in_validate(machine_account, doc):
    emulator, before, started = machine_account
    started.append(doc)
    result = execute(emulator, doc, name=f"malformed-{len(started)}")
    assert result.status == "FAILED" and result.error == "Validate.InputError", (result.error, json.dumps(doc)[:300])
    assert [s["state"] for s in result.view.summary()][:4] == VALIDATE_FAILED_PATH[:4]
    assert inventory(emulator) == before


@pytest.fixture
def machine_account(emulator):
    seed(emulator, BASE)
    return emulator, inventory(emulator), []
