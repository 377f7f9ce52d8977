"""Starting and reading executions: the deterministic name rule, one execution at a time per
deployment, and the per-phase view of a history.

Shared by local mode, the CLI and the API so all three name, start and summarise executions the same way.
"""

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from .aws.errors import error_code
from .errors import InputError
from .naming import Names

RUNNING, SUCCEEDED = "RUNNING", "SUCCEEDED"


def input_digest(document: dict) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def execution_name(document: dict, attempt: int = 1, deployment_id: str | None = None) -> str:
    """Same input, same name: Step Functions then refuses to start it twice. ``attempt`` > 1 re-runs.

    ``deployment_id`` names documents that do not carry it at the top (the teardown request).
    """
    deployment_id = str(deployment_id or document.get("deployment_id") or "invalid")[:40]
    name = Names(deployment_id).execution_name(input_digest(document))
    return name if attempt == 1 else f"{name}-r{attempt}"


# History events that end a state's work in failure; their previousEventId chain leads to its StateEntered.
FAILURE_EVENTS = {
    "TaskFailed",
    "TaskTimedOut",
    "TaskStartFailed",
    "TaskSubmitFailed",
    "LambdaFunctionFailed",
    "LambdaFunctionTimedOut",
    "LambdaFunctionStartFailed",
    "LambdaFunctionScheduleFailed",
    "ActivityFailed",
    "ActivityTimedOut",
    "ActivityScheduleFailed",
}
# History events that start a state's work: after a failure, a Retry's next attempt.
ATTEMPT_STARTS = {"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"}
BRANCHING_FAILURES = {"ParallelStateFailed": "Parallel", "MapStateFailed": "Map"}
TERMINAL_STATES = {"Fail": "failed", "Succeed": "succeeded"}
EXECUTION_ENDS = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}


@dataclass
class StateRun:
    name: str
    entered: float
    exited: float | None = None
    status: str = "running"  # succeeded | failed | stopped (its execution or branch ended first)
    kind: str = "Task"
    state_input: str | None = field(default=None, repr=False)  # Wait states only: where their seconds come from

    @property
    def seconds(self) -> float | None:
        return None if self.exited is None else round(self.exited - self.entered, 3)


@dataclass
class HistoryView:
    """States in the order they ran, with timing and outcome, from GetExecutionHistory events."""

    events: list[dict] = field(default_factory=list)
    states: list[StateRun] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _entered: dict[int, StateRun] = field(default_factory=dict, repr=False)
    _previous: dict[int, int] = field(default_factory=dict, repr=False)

    def add(self, events: list[dict]) -> list[tuple[str, StateRun]]:
        """Fold new events in; return (what happened, state) pairs for progress output."""
        changes: list[tuple[str, StateRun]] = []
        run: StateRun | None
        for event in events:
            self.events.append(event)
            self._previous[event["id"]] = event.get("previousEventId", 0)
            kind = event["type"]
            stamp = event["timestamp"].timestamp() if hasattr(event["timestamp"], "timestamp") else float(event["timestamp"])
            if kind.endswith("StateEntered"):
                details = event["stateEnteredEventDetails"]
                run = StateRun(details["name"], stamp, kind=kind[: -len("StateEntered")])
                if run.kind == "Wait":
                    run.state_input = details.get("input")
                if run.kind in TERMINAL_STATES:  # they end the execution (or a branch) and may never exit
                    run.status = TERMINAL_STATES[run.kind]
                self.states.append(run)
                self._entered[event["id"]] = run
                changes.append(("entered", run))
            elif kind.endswith("StateExited"):
                run = self._open(event["stateExitedEventDetails"]["name"])
                if run:
                    run.exited, run.status = stamp, "succeeded" if run.status == "running" else run.status
                    changes.append(("exited", run))
                self._collect_warnings(event["stateExitedEventDetails"].get("output"))
            elif kind in FAILURE_EVENTS:
                run = self._state_of(event) or self._last_running()
                if run:
                    run.status = "failed"
            elif kind in ATTEMPT_STARTS:
                run = self._state_of(event)
                if run and run.status == "failed":
                    run.status = "running"  # retried: the attempt that ends it decides
            elif kind in BRANCHING_FAILURES:
                run = next((run for run in reversed(self.states) if run.kind == BRANCHING_FAILURES[kind] and run.exited is None), None)
                if run:
                    run.status = "failed"
            elif kind in EXECUTION_ENDS:
                for run in self.states:
                    if run.exited is None and run.status == "running":
                        run.status = "stopped"
        return changes

    def _collect_warnings(self, output: str | None) -> None:
        """Warnings the phases put in the state (``$.warnings`` from Validate, ``$.network.warnings``,
        ``$.resources.compute.warnings``), so a failed or running execution shows them too."""
        try:
            state = json.loads(output or "null")
        except ValueError:
            return
        if not isinstance(state, dict):
            return
        for warnings in _values_named("warnings", state, depth=3):
            if isinstance(warnings, list):
                self.warnings += [str(warning) for warning in warnings if str(warning) not in self.warnings]

    def _state_of(self, event: dict) -> StateRun | None:
        """The open state whose work ``event`` belongs to (parallel branches interleave their events)."""
        event_id = event.get("previousEventId", 0)
        while event_id and event_id not in self._entered:
            event_id = self._previous.get(event_id, 0)
        run = self._entered.get(event_id)
        return run if run and run.exited is None else None

    def _open(self, name: str) -> StateRun | None:
        return next((run for run in reversed(self.states) if run.name == name and run.exited is None), None)

    def _last_running(self) -> StateRun | None:
        return next((run for run in reversed(self.states) if run.exited is None), None)

    @property
    def transitions(self) -> int:
        return sum(1 for event in self.events if event["type"].endswith("StateEntered"))

    def summary(self) -> list[dict]:
        return [{"state": run.name, "status": run.status, "seconds": run.seconds, "started_at": iso(run.entered)} for run in self.states]

    def running(self) -> list[str]:
        return [run.name for run in self.states if run.exited is None and run.status == "running"]


def _values_named(key: str, document: dict, depth: int) -> list:
    """``document[key]`` and the same key in the dicts nested up to ``depth`` levels (``$.resources.compute``)."""
    found = [document[key]] if key in document else []
    if depth > 1:
        for value in document.values():
            if isinstance(value, dict):
                found += _values_named(key, value, depth - 1)
    return found


def follow(
    stepfunctions, execution_arn: str, on_change=None, poll_seconds: float = 0.05, timeout_seconds: float = 3600
) -> tuple[dict, HistoryView]:
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
    changes = view.add(events[len(view.events) :])
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


def iso(moment) -> str | None:
    """ISO 8601 in UTC, from a datetime (boto3) or epoch seconds (HistoryView)."""
    if moment is None or isinstance(moment, str):
        return moment
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, tz=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


# --- one execution at a time per deployment --------------------------------------------------

BUSY_ERROR = "Busy"  # the error of an execution refused by its deployment's lock (locking.py)
LOCK_STATE, BUSY_STATE = "Take deployment lock", "Deployment busy"  # the first state of both state machines, and its refusal
LOCK_DECISION_SECONDS = 10.0  # how long a start waits for its execution to take the lock (or be refused)


def busy_message(deployment_id: str, execution_arn: str, since: str | None) -> str:
    """Why a start is refused; ``Busy.from_cause`` reads the execution back out of it."""
    name = execution_arn.rsplit(":", 1)[-1]
    return (
        f"deployment {deployment_id!r} is busy: execution {name} is still running (started {since or 'unknown'}; {execution_arn}); "
        "wait for it to end, or stop it, then start again"
    )


class Busy(Exception):
    """Another execution of the deployment is running: starting a different one is refused."""

    def __init__(self, deployment_id: str, running: dict):
        self.deployment_id, self.running = deployment_id, running
        super().__init__(busy_message(deployment_id, running["executionArn"], iso(running["startDate"])))

    @classmethod
    def from_cause(cls, deployment_id: str, cause: str) -> "Busy":
        """The refusal an execution's lock state reported: its Cause is the Lambda error (JSON) or the message."""
        try:
            message = str(json.loads(cause).get("errorMessage", cause))
        except (ValueError, AttributeError):
            message = cause
        found = re.search(r"\(started (\S+); (arn:[^\s)]+)\)", message or "")
        since, arn = found.groups() if found else (None, "")
        return cls(
            deployment_id, {"name": arn.rsplit(":", 1)[-1], "executionArn": arn, "startDate": since, "stateMachineArn": machine_of(arn)}
        )

    def running_execution(self) -> dict:
        """The execution in the way, as the CLI and the API report it."""
        running = self.running
        return {"execution_name": running["name"], "execution_arn": running["executionArn"], "started_at": iso(running["startDate"])}


class NotFound(LookupError):
    """No execution of the deployment exists (in this state machine)."""


@dataclass(frozen=True)
class Start:
    execution_arn: str
    execution_name: str
    status: str
    started: bool  # False: an identical request had started it before; nothing new was started

    def to_dict(self) -> dict:
        return asdict(self)


def belongs_to(name: str, deployment_id: str) -> bool:
    """Execution names of one deployment: ``<id>-<16 hex>[-r<n>]``; another id may extend this one's prefix."""
    prefix = Names(deployment_id).execution_name("")
    return re.fullmatch(re.escape(prefix) + r"[0-9a-f]{16}(-r\d+)?(-b\d+)?", name) is not None


def first_name(name: str) -> str:
    """The name a start asked for: ``-b<n>`` marks a start again after its first name was refused as busy."""
    return re.sub(r"-b\d+$", "", name)


def region_of(arn: str) -> str:
    return arn.split(":")[3]


def execution_arn(machine_arn: str, name: str) -> str:
    return f"{machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}"


def machine_of(execution_arn: str) -> str:
    """The state machine of an execution ARN (``...:execution:<machine>:<name>``)."""
    return execution_arn.replace(":execution:", ":stateMachine:", 1).rsplit(":", 1)[0] if ":execution:" in execution_arn else ""


def executions_of(stepfunctions, machine_arn: str, deployment_id: str, status: str | None = None) -> list[dict]:
    """The deployment's executions of one state machine, newest first."""
    found = []
    pages = stepfunctions.get_paginator("list_executions").paginate(
        stateMachineArn=machine_arn, **({"statusFilter": status} if status else {})
    )
    for page in pages:
        found += [execution for execution in page["executions"] if belongs_to(execution["name"], deployment_id)]
    return sorted(found, key=lambda execution: execution["startDate"], reverse=True)


def latest(stepfunctions, machine_arn: str, deployment_id: str) -> dict:
    """The deployment's newest execution that ran: one its lock refused (``Busy``) never did."""
    for found in executions_of(stepfunctions, machine_arn, deployment_id):
        if found["status"] != "FAILED" or not refused_as_busy(stepfunctions.describe_execution(executionArn=found["executionArn"])):
            return found
    raise NotFound(f"no execution of deployment {deployment_id!r} in {machine_arn.rsplit(':', 1)[-1]}")


def refused_as_busy(described: dict) -> bool:
    return described["status"] == "FAILED" and described.get("error") == BUSY_ERROR


MAX_BUSY_RENAMES = 20


def next_attempt(stepfunctions, machine_arn: str, name: str, deployment_id: str) -> int:
    """The first ``--attempt`` of the request named ``name`` (its attempt-1 execution name) not yet run."""
    base = name.rsplit("-r", 1)[0] if re.search(r"-r\d+$", name) else name
    attempts = [
        1 if execution["name"] == base else int(execution["name"].rsplit("-r", 1)[1])
        for execution in executions_of(stepfunctions, machine_arn, deployment_id)
        if re.fullmatch(re.escape(base) + r"(-r\d+)?", execution["name"])
    ]
    return max(attempts, default=0) + 1


def start(
    stepfunctions, machine_arn: str, document: dict, deployment_id: str, attempt: int = 1, exclusive_with: tuple[str, ...] = ()
) -> Start:
    """Start ``document`` once per attempt; refuse (Busy) while another execution of the deployment runs,
    in this state machine or in ``exclusive_with`` (provisioning and teardown exclude each other).

    The list of running executions answers most refusals before anything starts; the guarantee is the
    deployment lock the execution's first state takes (locking.py), so a start that raced another one
    waits for that decision (``LOCK_DECISION_SECONDS`` at most) and is refused the same way.
    An identical repeated request answers with the execution the first one started, running or finished;
    one whose execution was refused as busy starts again under the next name (``-b2``, ``-b3``, ...).
    """
    name = execution_name(document, attempt, deployment_id)
    running = [
        execution
        for machine in (machine_arn, *exclusive_with)
        for execution in executions_of(stepfunctions, machine, deployment_id, RUNNING)
    ]
    for execution in running:
        if first_name(execution["name"]) == name and execution["stateMachineArn"] == machine_arn:
            return Start(execution["executionArn"], execution["name"], RUNNING, started=False)
    if running:
        raise Busy(deployment_id, running[0])
    for rename in range(1, MAX_BUSY_RENAMES + 1):
        candidate = name if rename == 1 else f"{name}-b{rename}"
        try:
            arn = stepfunctions.start_execution(stateMachineArn=machine_arn, name=candidate, input=json.dumps(document))["executionArn"]
        except ClientError as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                raise
            arn = execution_arn(machine_arn, candidate)  # names are unique per state machine for 90 days
            described = stepfunctions.describe_execution(executionArn=arn)
            if refused_as_busy(described):
                continue  # it never ran: this request may start under the next name
            return Start(arn, candidate, described["status"], started=False)
        lock_decision(stepfunctions, arn, deployment_id)
        return Start(arn, candidate, RUNNING, started=True)
    raise InputError(f"this request was refused as busy {MAX_BUSY_RENAMES} times; start it with the next attempt number")


def lock_decision(
    stepfunctions, arn: str, deployment_id: str, timeout_seconds: float = LOCK_DECISION_SECONDS, poll_seconds: float = 0.1
) -> None:
    """Return once the execution's first state took the deployment lock (or its state machine takes none,
    or it ended otherwise, or ``timeout_seconds`` passed undecided); raise Busy when the lock refused it."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        described = stepfunctions.describe_execution(executionArn=arn)
        if refused_as_busy(described):
            raise Busy.from_cause(deployment_id, described.get("cause") or "")
        if described["status"] != RUNNING:
            return
        events = stepfunctions.get_execution_history(executionArn=arn, maxResults=25)["events"]
        entered = [event["stateEnteredEventDetails"]["name"] for event in events if "stateEnteredEventDetails" in event]
        if entered and (entered[0] != LOCK_STATE or any(state not in (LOCK_STATE, BUSY_STATE) for state in entered[1:])):
            return
        if time.monotonic() > deadline:
            return
        time.sleep(poll_seconds)


def teardown_request(stepfunctions, provision_arn: str, deployment_id: str, settings: dict, region: str) -> dict:
    """The teardown input: the deployment's document (``settings["deployment"]``, else the input of its
    latest provisioning execution) plus the teardown settings; checked against the teardown schema."""
    from .phases.teardown.request import check

    request = dict(settings)
    if "deployment" not in request:
        latest_run = latest(stepfunctions, provision_arn, deployment_id)
        request["deployment"] = json.loads(stepfunctions.describe_execution(executionArn=latest_run["executionArn"])["input"])
    if not isinstance(request["deployment"], dict) or request["deployment"].get("deployment_id") != deployment_id:
        raise InputError(f"deployment.deployment_id: the teardown of {deployment_id!r} needs that deployment's own input document")
    check(request, region)
    return request


def describe(stepfunctions, execution_arn: str) -> dict:
    """What status, watch and GET /deployments/{id} show: status, per-state timing, output or error.

    Never the input or the states' data: only names, timings and the final output (secret-free by contract).
    """
    return status_document(*described_with_history(stepfunctions, execution_arn))


def described_with_history(stepfunctions, execution_arn: str) -> tuple[dict, HistoryView]:
    """DescribeExecution and the whole history folded into a view (for ``describe`` and the timeline)."""
    view = HistoryView()
    view.add(history(stepfunctions, execution_arn))
    return stepfunctions.describe_execution(executionArn=execution_arn), view


def status_document(described: dict, view: HistoryView) -> dict:
    status, started, stopped = described["status"], described["startDate"], described.get("stopDate")
    document = {
        "execution_name": described["name"],
        "execution_arn": described["executionArn"],
        "status": status,
        "started_at": iso(started),
        "stopped_at": iso(stopped),
        "elapsed_seconds": round(((stopped or datetime.now(UTC)) - started).total_seconds(), 3),
        "running_states": view.running() if status == RUNNING else [],
        "states": view.summary(),
        "state_transitions": view.transitions,
        "warnings": view.warnings,
    }
    if status == SUCCEEDED:
        document["output"] = json.loads(described.get("output") or "null")
        document["warnings"] = (document["output"] or {}).get("warnings") or view.warnings
    elif status != RUNNING:
        document["error"], document["cause"] = described.get("error"), described.get("cause")
    return document
