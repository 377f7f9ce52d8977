"""The execution helpers shared by local mode, the CLI and the API: names and the history view."""

from datetime import UTC, datetime, timedelta

from analytics_provisioner import execution as executions

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _event(event_id: int, previous: int, kind: str, name: str | None = None, at: float = 0.0) -> dict:
    event = {"id": event_id, "previousEventId": previous, "type": kind, "timestamp": T0 + timedelta(seconds=at)}
    if kind.endswith("StateEntered"):
        event["stateEnteredEventDetails"] = {"name": name}
    if kind.endswith("StateExited"):
        event["stateExitedEventDetails"] = {"name": name}
    return event


# A parallel block whose Compute branch fails while the others run (as moto records it): the
# failure belongs to "Launch instances", not to the state entered last.
PARALLEL_FAILURE = [
    _event(1, 0, "ExecutionStarted"),
    _event(2, 1, "ParallelStateEntered", "Create resources in parallel", 1),
    _event(3, 2, "ParallelStateStarted"),
    _event(4, 3, "TaskStateEntered", "Create search domain", 1),
    _event(5, 4, "LambdaFunctionScheduled"),
    _event(6, 3, "TaskStateEntered", "Ensure S3 buckets", 1),
    _event(7, 6, "LambdaFunctionScheduled"),
    _event(8, 3, "TaskStateEntered", "Launch instances", 1),
    _event(9, 8, "LambdaFunctionScheduled"),
    _event(10, 5, "LambdaFunctionSucceeded", at=2),
    _event(11, 10, "TaskStateExited", "Create search domain", 2),
    _event(12, 11, "TaskStateEntered", "Check search domain", 2),
    _event(13, 9, "LambdaFunctionFailed", at=3),
    _event(14, 13, "TaskStateExited", "Launch instances", 3),
    _event(15, 14, "FailStateEntered", "Compute failed", 3),
    _event(16, 12, "ParallelStateFailed", at=4),
    _event(17, 16, "ParallelStateExited", "Create resources in parallel", 4),
    _event(18, 17, "FailStateEntered", "Deployment failed", 5),
    _event(19, 18, "ExecutionFailed", at=5),
]


def test_a_failure_is_attributed_to_the_state_whose_work_failed():
    view = executions.HistoryView()
    view.add(PARALLEL_FAILURE)
    outcome = {state["state"]: (state["status"], state["seconds"]) for state in view.summary()}
    assert outcome == {
        "Create resources in parallel": ("failed", 3.0),
        "Create search domain": ("succeeded", 1.0),
        "Ensure S3 buckets": ("stopped", None),
        "Launch instances": ("failed", 2.0),
        "Check search domain": ("stopped", None),
        "Compute failed": ("failed", None),
        "Deployment failed": ("failed", None),
    }
    assert view.running() == []
    assert view.transitions == 7


def test_a_state_whose_retry_succeeded_succeeded():
    """A Retry's next attempt (as moto records it: Failed, then Scheduled again) decides the state's outcome."""
    view = executions.HistoryView()
    view.add(
        [
            _event(1, 0, "ExecutionStarted"),
            _event(2, 1, "TaskStateEntered", "Launch instances", 1),
            _event(3, 2, "LambdaFunctionScheduled"),
            _event(4, 3, "LambdaFunctionStarted"),
            _event(5, 4, "LambdaFunctionFailed", at=2),
            _event(6, 5, "LambdaFunctionScheduled", at=4),
            _event(7, 6, "LambdaFunctionStarted", at=4),
            _event(8, 7, "LambdaFunctionSucceeded", at=5),
            _event(9, 8, "TaskStateExited", "Launch instances", 5),
        ]
    )
    assert [(state["state"], state["status"], state["seconds"]) for state in view.summary()] == [("Launch instances", "succeeded", 4.0)]


def test_running_states_while_the_execution_runs():
    view = executions.HistoryView()
    changes = view.add(PARALLEL_FAILURE[:12])
    assert view.running() == ["Create resources in parallel", "Ensure S3 buckets", "Launch instances", "Check search domain"]
    assert [(what, run.name) for what, run in changes][-2:] == [("exited", "Create search domain"), ("entered", "Check search domain")]
    assert view.summary()[0]["started_at"] == "2026-11-26T10:00:01.000+00:00"


def test_names_are_deterministic_and_belong_to_their_deployment_only():
    document = {"deployment_id": "acme-demo", "region": "us-east-1"}
    name = executions.execution_name(document)
    assert name == executions.execution_name(dict(reversed(document.items())))
    assert executions.execution_name(document, 2) == f"{name}-r2"
    assert executions.execution_name({"deployment": document}, deployment_id="acme-demo").startswith("acme-demo-")
    assert executions.belongs_to(name, "acme-demo") and executions.belongs_to(f"{name}-r2", "acme-demo")
    other = executions.execution_name({**document, "deployment_id": "acme-demo-2"})
    assert not executions.belongs_to(other, "acme-demo")
    assert not executions.belongs_to(name, "acme")
    assert (
        executions.execution_arn("arn:aws:states:us-east-1:123456789012:stateMachine:p", name)
        == f"arn:aws:states:us-east-1:123456789012:execution:p:{name}"
    )
