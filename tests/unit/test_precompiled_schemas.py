"""The precompiled schema checks (scripts/compile_schemas.py) agree with jsonschema.

They let a valid input skip importing jsonschema (cold start), so two things must hold: they never
pass a document jsonschema refuses (else a bad input would get through Validate), and they pass
the documents jsonschema accepts (else the fast path is never taken). hypothesis mutates the sample
input towards and away from validity: every string field also gets values drawn from its own
pattern, numbers get their bounds and neighbours, and any field can be dropped, replaced or joined
by an unknown one.
"""

import copy
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics_provisioner import deployment, schemacheck
from analytics_provisioner.phases.teardown import request
from analytics_provisioner.precompiled import conforms, execution_input, teardown_input
from mutations import field_paths, mutated
from testkit import REPO, load_event

BASE = load_event("input-full.json")
SCHEMA = deployment.schema()
EXAMPLES = 400


def _subschema(path: tuple) -> dict:
    node = SCHEMA
    for key in path:
        node = node.get("properties", {}).get(key) or (node.get("items") if isinstance(key, int) else None) or {}
    return node


def _near_valid(spec: dict):
    """Values around the edge of what ``spec`` accepts, plus other fields' valid values and wrong types."""
    choices = [st.sampled_from([None, True, False, 0, 1, -1, 1.0, 1.5, "", "x", [], {}, "a\n", "ACME"])]
    if "pattern" in spec:
        choices.append(st.from_regex(spec["pattern"]))
    if "enum" in spec:
        choices.append(st.sampled_from(spec["enum"]))
    for bound in ("minimum", "maximum", "exclusiveMinimum"):
        if bound in spec:
            value = spec[bound]
            choices.append(st.sampled_from([value - 1, value, value + 1, float(value), value + 0.5]))
    if spec.get("type") == "array":
        choices.append(st.lists(st.from_regex(spec["items"].get("pattern", ".*")), max_size=3))
    return st.one_of(choices)


PATHS = sorted(field_paths(BASE)) + [("options", key) for key in _subschema(("options",))["properties"]]
UNKNOWN_FIELDS = st.sampled_from(["x", "lms_hots", "es_version"])


def near_valid_documents():
    return mutated(
        BASE, PATHS, lambda path: _near_valid(_subschema(path)), UNKNOWN_FIELDS, ("drop", "replace", "replace", "replace", "add")
    )


def _accepted_by_jsonschema(schema: dict, doc) -> bool:
    """jsonschema as the library runs it: patterns match the whole value, as JSON Schema (ECMA-262) means."""
    return not schemacheck.errors(schema, doc)


@settings(max_examples=EXAMPLES, deadline=None)
@given(doc=near_valid_documents())
def test_the_precompiled_execution_input_check_agrees_with_jsonschema(doc):
    fast, authority = conforms(execution_input.validate, doc), _accepted_by_jsonschema(SCHEMA, doc)
    assert fast == authority, f"the precompiled check and jsonschema disagree ({fast=}): {json.dumps(doc)[:400]}"


TEARDOWN_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 4000), st.floats(-1, 700, allow_nan=False), st.text(max_size=3), st.just({})
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    settings_=st.dictionaries(
        st.sampled_from(["keep_data", "final_snapshot", "poll_interval_seconds", "timeout_minutes", "deployment", "x"]),
        TEARDOWN_VALUES,
        max_size=4,
    )
)
def test_the_precompiled_teardown_check_agrees_with_jsonschema(settings_):
    doc = {"deployment": BASE} | settings_
    assert conforms(teardown_input.validate, doc) == _accepted_by_jsonschema(request.schema(), doc), json.dumps(doc)[:400]


@pytest.mark.parametrize("name", ["input-minimal.json", "input-full.json", "input-reports-off.json"])
def test_every_sample_input_takes_the_fast_path(name):
    assert conforms(execution_input.validate, load_event(name))
    assert conforms(teardown_input.validate, {"deployment": load_event(name), "keep_data": True, "timeout_minutes": 0.5})


def test_the_dependent_requirement_survives_the_rewrite_to_draft_07():
    doc = copy.deepcopy(BASE)
    del doc["edxapp"]["aws_user_arn"]
    assert not conforms(execution_input.validate, doc)
    assert any(message.startswith("edxapp.aws_user_arn: is required") for message in deployment.validation_errors(doc))


def test_a_valid_input_never_imports_jsonschema():
    code = (
        "import json, sys; from analytics_provisioner.deployment import validation_errors; "
        f"assert validation_errors(json.load(open({str(REPO / 'events' / 'input-full.json')!r}))) == []; "
        "print('jsonschema' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_generated_modules_match_the_schemas():
    out = subprocess.run([sys.executable, "scripts/compile_schemas.py", "--check"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_a_keyword_without_a_draft_07_rule_stops_the_generator():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import compile_schemas
    finally:
        sys.path.remove(str(REPO / "scripts"))
    assert compile_schemas.as_draft_07({"type": "object", "dependentRequired": {"a": ["b"]}})["dependencies"] == {"a": ["b"]}
    with pytest.raises(SystemExit, match="prefixItems"):
        compile_schemas.as_draft_07({"type": "array", "prefixItems": [{"type": "string"}]})
