"""Starting and reading executions: the deterministic name rule and the per-phase view of a history.

Shared by local mode, the CLI and the API so all three name and summarise executions the same way.
"""

import hashlib
import json
import time
from dataclasses import dataclass, field

from .naming import Names


def input_digest(document: dict) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def execution_name(document: dict, attempt: int = 1) -> str:
    """Same input, same name: Step Functions then refuses to start it twice. ``attempt`` > 1 re-runs."""
    deployment_id = str(document.get("deployment_id") or "invalid")[:40]
    name = Names(deployment_id).execution_name(input_digest(document))
    return name if attempt == 1 else f"{name}-r{attempt}"


@dataclass
class StateRun:
    name: str
    entered: float
    exited: float | None = None
    status: str = "running"

    @property
    def seconds(self) -> float | None:
        return None if self.exited is None else round(self.exited - self.entered, 3)


@dataclass
class HistoryView:
    """States in the order they ran, with timing and outcome, from GetExecutionHistory events."""

    events: list[dict] = field(default_factory=list)
    states: list[StateRun] = field(default_factory=list)

    def add(self, events: list[dict]) -> list[tuple[str, StateRun]]:
        """Fold new events in; return (what happened, state) pairs for progress output."""
        changes = []
        for event in events:
            self.events.append(event)
            kind = event["type"]
            stamp = event["timestamp"].timestamp() if hasattr(event["timestamp"], "timestamp") else float(event["timestamp"])
            if kind.endswith("StateEntered"):
                run = StateRun(event["stateEnteredEventDetails"]["name"], stamp)
                self.states.append(run)
                changes.append(("entered", run))
            elif kind.endswith("StateExited"):
                run = self._open(event["stateExitedEventDetails"]["name"])
                if run:
                    run.exited, run.status = stamp, "succeeded" if run.status == "running" else run.status
                    changes.append(("exited", run))
            elif kind in ("TaskFailed", "LambdaFunctionFailed", "ExecutionFailed", "TaskTimedOut"):
                run = self._last_running()
                if run:
                    run.status = "failed"
        return changes

    def _open(self, name: str) -> StateRun | None:
        return next((run for run in reversed(self.states) if run.name == name and run.exited is None), None)

    def _last_running(self) -> StateRun | None:
        return next((run for run in reversed(self.states) if run.exited is None), None)

    @property
    def transitions(self) -> int:
        return sum(1 for event in self.events if event["type"].endswith("StateEntered"))

    def summary(self) -> list[dict]:
        return [{"state": run.name, "status": run.status, "seconds": run.seconds} for run in self.states]


def follow(stepfunctions, execution_arn: str, on_change=None, poll_seconds: float = 0.05, timeout_seconds: float = 3600) -> tuple[dict, HistoryView]:
    """Poll until the execution ends; call ``on_change(what, state_run)`` as states start and finish."""
    view, deadline = HistoryView(), time.monotonic() + timeout_seconds
    while True:
        described = stepfunctions.describe_execution(executionArn=execution_arn)
        _fold(stepfunctions, execution_arn, view, on_change)
        if described["status"] != "RUNNING":
            _fold(stepfunctions, execution_arn, view, on_change)
            return described, view
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution_arn} still running after {timeout_seconds:.0f} s")
        time.sleep(poll_seconds)


def _fold(stepfunctions, execution_arn: str, view: HistoryView, on_change) -> None:
    events = history(stepfunctions, execution_arn)
    changes = view.add(events[len(view.events):])
    for what, run in changes:
        if on_change:
            on_change(what, run)


def history(stepfunctions, execution_arn: str) -> list[dict]:
    events, token = [], None
    while True:
        page = stepfunctions.get_execution_history(executionArn=execution_arn, maxResults=1000, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events
