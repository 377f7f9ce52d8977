"""The API answers 400, never 500, to any body or query, and no answer comes near Lambda's 6 MB.

Requests go through the emulator's Lambda Invoke API, as API Gateway's do: moto applies Lambda's
response limit there (``Function.ResponseSizeTooLarge``, which API Gateway turns into a 502), and
``test_a_response_over_6_mb_fails_like_lambda`` proves the harness keeps doing so.
"""

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_provisioner.local import template as cfn
from analytics_provisioner.local.emulator import Emulator
from testkit import load_event

pytestmark = pytest.mark.without_database
SMALL_ANSWER = 16_000  # bytes: an error answer lists at most 20 short problems


@pytest.fixture(scope="module")
def api_function():
    """The deployed template's ApiFunction behind the emulator's Lambda; one account for the module
    (no request here may start an execution: each test checks that none did)."""
    with Emulator(region="us-east-1") as emu, pytest.MonkeyPatch.context() as monkeypatch:
        variables = cfn.load()["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
        for name, value in variables.items():
            if value["Ref"] in emu.state_machines:  # the table's name the emulator set already
                monkeypatch.setenv(name, emu.state_machines[value["Ref"]])
        yield emu


def call(emu, event: dict) -> tuple[int, dict, int]:
    """(HTTP status, body, answer size in bytes) as API Gateway would get them from Lambda."""
    answer = emu.client("lambda").invoke(FunctionName="ApiFunction", Payload=json.dumps(event))
    payload = answer["Payload"].read()
    if answer.get("FunctionError"):
        return 502, json.loads(payload), len(payload)  # API Gateway's answer to a failed invocation
    answer = json.loads(payload)
    return answer["statusCode"], json.loads(answer["body"]), len(payload)


def start_event(body=None, query: dict | None = None, raw: str | None = None) -> dict:
    event = load_event("api/start-minimal.json")
    event["body"] = raw if raw is not None else json.dumps(body if body is not None else json.loads(event["body"]))
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    return event


def _nested(depth: int, leaf="x"):
    node = leaf
    for _ in range(depth):
        node = [node]
    return node


def _minimal() -> dict:
    return json.loads(load_event("api/start-minimal.json")["body"])


def _with(mutate) -> dict:
    body = copy.deepcopy(_minimal())
    mutate(body)
    return body


HUGE = "x" * 2_500_000
HOSTILE = {
    "nested 10,000 deep": start_event(raw="[" * 10_000 + "]" * 10_000),
    "object nested 100,000 deep": start_event(raw='{"a":' * 100_000 + "1" + "}" * 100_000),
    "nested 6,000 deep inside a field": start_event(
        raw=json.dumps(_minimal())[:-1] + ', "options": {"x": ' + "[" * 6_000 + "]" * 6_000 + "}}"
    ),
    "nested 900 deep inside a field": start_event(
        _with(lambda b: b["options"].update(x=_nested(900)) if "options" in b else b.update(options={"x": _nested(900)}))
    ),
    "2.5 MB host name": start_event(_with(lambda b: b["edxapp"].update(lms_host=HUGE))),
    "2.5 MB unknown key": start_event(_with(lambda b: b.update({HUGE: 1}))),
    "2.5 MB deployment id": start_event(_with(lambda b: b.update(deployment_id=HUGE))),
    "100,000 bad CIDRs": start_event(_with(lambda b: b["network"].update(director_ssh_cidrs=["10.0.0.1/33"] * 100_000))),
    "NaN": start_event(raw=json.dumps(_minimal())[:-1] + ', "options": {"search_timeout_minutes": NaN}}'),
    "Infinity": start_event(raw=json.dumps(_minimal())[:-1] + ', "options": {"search_timeout_minutes": Infinity}}'),
    "huge integer": start_event(raw=json.dumps(_minimal())[:-1] + ', "options": {"analytics_volume_gb": ' + "9" * 5000 + "}}"),
    "attempt=²": start_event(query={"attempt": "²"}),
    "attempt=٣": start_event(query={"attempt": "٣"}),
    "attempt=1e1": start_event(query={"attempt": "1e1"}),
    "attempt of 10,000 digits": start_event(query={"attempt": "1" * 10_000}),
    "body not base64": {**start_event(), "isBase64Encoded": True, "body": "%%%not base64%%%"},
    "base64 of invalid UTF-8": {**start_event(), "isBase64Encoded": True, "body": "//79"},
    "trailing newline in a field": start_event(_with(lambda b: b["edxapp"].update(lms_host="lms.acme.org\n"))),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_requests_get_a_small_400_and_start_nothing(api_function, name):
    status, body, size = call(api_function, HOSTILE[name])
    assert status == 400, (status, str(body)[:300])
    assert size < SMALL_ANSWER, size
    assert _executions(api_function) == []


def test_a_long_deployment_id_in_the_path_is_quoted_short(api_function):
    event = load_event("api/status.json")
    long_id = "a" * 8000
    event["path"] = event["path"].replace("acme-demo", long_id)
    event["pathParameters"] = {"id": long_id}
    status, body, size = call(api_function, event)
    assert status == 400 and size < 1000, (status, size)
    assert "characters)" in body["message"]


def test_a_route_that_does_not_exist_is_quoted_short(api_function):
    event = load_event("api/status.json")
    event["path"] = "/nowhere/" + "x" * 8000
    status, body, size = call(api_function, event)
    assert status == 404 and size < 1000


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from(["deployment_id", "region", "network", "edxapp", "features", "options", "x"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    raw=st.one_of(
        st.text(max_size=60),
        JSON_VALUES.map(json.dumps),
        st.dictionaries(FIELDS, JSON_VALUES, max_size=6).map(lambda d: json.dumps({**_minimal(), **d})),
    ),
    query=st.one_of(st.none(), st.dictionaries(st.sampled_from(["attempt", "workflow", "x"]), st.text(max_size=8), max_size=2)),
)
def test_any_body_and_query_get_an_answer_below_500(api_function, raw, query):
    status, body, size = call(api_function, start_event(raw=raw, query=query))
    assert status < 500, (status, body)
    assert size < SMALL_ANSWER


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    deployment_id=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s),
    query=st.one_of(st.none(), st.dictionaries(st.sampled_from(["attempt", "workflow"]), st.text(max_size=8), max_size=2)),
)
def test_any_path_id_and_query_get_an_answer_below_500(api_function, deployment_id, query):
    event = load_event("api/status.json")
    event["path"] = event["path"].replace("acme-demo", deployment_id)
    event["pathParameters"] = {"id": deployment_id}
    event["queryStringParameters"] = query
    status, body, size = call(api_function, event)
    assert status < 500, (status, body)


def _executions(emu) -> list:
    sfn = emu.client("stepfunctions")
    return [e for arn in emu.state_machines.values() for e in sfn.list_executions(stateMachineArn=arn)["executions"]]


# --- the harness keeps Lambda's 6 MB response limit --------------------------------------------


def test_a_response_over_6_mb_fails_like_lambda(api_function, monkeypatch):
    monkeypatch.setitem(
        api_function.hook.handlers, "ApiFunction", lambda event, context: {"statusCode": 200, "body": "x" * (6 * 1024 * 1024)}
    )
    status, body, _ = call(api_function, load_event("api/status.json"))
    assert status == 502 and body["errorType"] == "Function.ResponseSizeTooLarge"
