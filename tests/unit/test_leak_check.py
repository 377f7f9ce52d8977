"""testkit.assert_no_leak: a leaked secret is reported in seconds by where it sits in a multi-megabyte
history (event, state, path inside the event's JSON), never by its value, and never through a pytest
diff of the whole text."""

import datetime
import json
import secrets
import time

import pytest

from testkit import assert_no_leak, history_places

STATES = ["Validate input", "Ensure IAM roles and users", "Render files"]
DETAILS = {"TaskStateEntered": "stateEnteredEventDetails", "TaskStateExited": "stateExitedEventDetails"}


def _history(events_per_state: int, leak_at: int | None = None, leaked: str = "") -> list[dict]:
    """A history shaped as Step Functions gives it: each Task entered, scheduled, started, succeeded
    with the whole state as its output (about 4 KB a time), exited; ``leaked`` in one output."""
    events, stamp = [], datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    state = {
        "deployment": {"deployment_id": "acme-prod", "region": "us-east-1"},
        "resources": {"render": {"files": [f"acme-prod/file-{n}.yml" for n in range(40)]}},
        "padding": ["x" * 80 for _ in range(40)],
    }

    def add(kind: str, details: dict | None = None) -> int:
        event = {"id": len(events) + 1, "previousEventId": len(events), "timestamp": stamp, "type": kind}
        if details is not None:
            event[DETAILS.get(kind, kind[0].lower() + kind[1:] + "EventDetails")] = details
        events.append(event)
        return event["id"]

    for _ in range(events_per_state):
        for name in STATES:
            add("TaskStateEntered", {"name": name, "input": json.dumps(state)})
            add("TaskScheduled", {"resource": "invoke", "parameters": json.dumps({"Payload": state})})
            add("TaskStarted", {"resource": "invoke"})
            output = state
            if leak_at is not None and len(events) + 1 == leak_at:
                output = json.loads(json.dumps(state))
                output["resources"]["render"]["files"][2] = f"s3://repo/acme-prod/{leaked}.yml"
            add("TaskSucceeded", {"resource": "invoke", "output": json.dumps({"Payload": output})})
            add("TaskStateExited", {"name": name, "output": json.dumps(state)})
    return events


def test_a_value_deep_in_a_big_history_is_found_by_its_place_in_seconds():
    password = secrets.token_urlsafe(24)
    leak_at = 5 * 3 * 150 + 5 * 2 + 4  # a TaskSucceeded of the third state, deep in the run
    events = _history(200, leak_at=leak_at, leaked=password)
    assert len(json.dumps(events, default=str)) > 5_000_000

    started = time.monotonic()
    with pytest.raises(AssertionError) as raised:
        assert_no_leak({"secret acme-prod/analytics-db password": password}, history_places(events))
    seconds = time.monotonic() - started

    message = str(raised.value)
    assert message == (
        "1 secret value(s) leaked:\n"
        f"history event {leak_at} (TaskSucceeded of Render files) taskSucceededEventDetails.output.Payload.resources.render.files[2] "
        "holds the value of secret acme-prod/analytics-db password"
    )
    assert password not in message
    assert seconds < 10, f"{seconds:.1f} s to walk the history"


def test_log_lines_are_named_by_number_and_a_clean_run_passes():
    token = secrets.token_hex(20)
    logs = "\n".join(
        [
            json.dumps({"message": "phase started", "phase": "Render"}),
            json.dumps({"message": "phase finished", "output": {"user": "reports", "note": f"key {token}"}}),
            "plain text line",
        ]
    )
    with pytest.raises(
        AssertionError, match=r"function logs line 2: output\.note holds the value of secret acme-prod/iam/reports secret_access_key$"
    ):
        assert_no_leak({"secret acme-prod/iam/reports secret_access_key": token}, {"function logs": logs})

    assert_no_leak(
        {"secret acme-prod/iam/reports secret_access_key": secrets.token_hex(20)}, {"function logs": logs, **history_places(_history(2))}
    )


def test_a_check_with_nothing_to_look_for_fails():
    with pytest.raises(AssertionError, match="no secret values"):
        assert_no_leak({}, {"function logs": "anything"})
