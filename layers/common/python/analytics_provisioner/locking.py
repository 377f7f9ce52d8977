"""One execution per deployment, whatever starts it: a lock item per deployment in DynamoDB.

The first state of both state machines (``Take deployment lock``) takes it with one conditional
write: the item names no holder, or names this very execution (a retried Lambda call re-enters).
Any other holder refuses the start with ``Busy`` naming it, unless that holder has ended (its
release was lost): then the lock is taken over, again conditionally, so two racers cannot both win.
Every terminal path releases it: the state machines' last states on success and failure, and for
every end (aborted and timed-out executions too) an EventBridge rule on Step Functions' "Execution
Status Change" events. A release only ever clears the lock the ending execution holds.

An execution that did not succeed may leave Lambda invocations running: Step Functions stops a
Parallel state whose branch failed, and an aborted or timed-out execution, but cannot stop a call
under way, which runs on up to its function's timeout and may still create what a teardown started at
once has already passed. So its release records ``settles_at``: the release time plus the longest
Timeout of the functions the state machines invoke (``LONGEST_FUNCTION_TIMEOUT``). Until then a
start does not take the lock: it answers ``wait_seconds`` and the state machine waits (*Wait for the
last run's functions to finish*) and asks again; no holder can push ``settles_at`` later meanwhile, so
the second ask takes it. A success clears it, and so does a failure that left nothing running (a
sequential phase failed: only the Parallel block's failure marks ``functions_may_still_run``).

The same item keeps the latest execution of each workflow of the deployment (``latest_provision``,
``latest_teardown``: name, status, when, warnings count), written when it ends, so the table is also
the list of deployments (``Locks.deployments``: ``analytics-provisioner list``, ``GET /deployments``).
"""

import json
import math
import re
import time
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from . import execution as executions
from .aws import clients
from .aws.errors import error_code
from .errors import Busy
from .naming import DEPLOYMENT_ID_PATTERN
from .settings import DEPLOYMENT_LOCKS_TABLE_ENV, Settings

TABLE_ENV = DEPLOYMENT_LOCKS_TABLE_ENV
WORKFLOWS = ("provision", "teardown")
ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
STATUS_CHANGE = "Step Functions Execution Status Change"
_HOLDER = "lock_execution_arn"


def deployment_id_of(document, workflow: str) -> str | None:
    """The deployment an execution input is for (provisioning: ``deployment_id``; teardown:
    ``deployment.deployment_id``), or None when it names none validly (Validate then refuses it)."""
    if workflow == "teardown":
        document = document.get("deployment") if isinstance(document, dict) else None
    deployment_id = document.get("deployment_id") if isinstance(document, dict) else None
    return deployment_id if isinstance(deployment_id, str) and re.fullmatch(DEPLOYMENT_ID_PATTERN, deployment_id) else None


def workflow_of(document) -> str:
    """Which workflow an execution input belongs to: a teardown request wraps the deployment's document."""
    return "teardown" if isinstance(document, dict) and "deployment" in document and "deployment_id" not in document else "provision"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def clock() -> float:
    """Seconds since the epoch for ``settles_at`` (local mode's simulated clock replaces it, so its Wait states pass it)."""
    return time.time()


def _moment(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def settles(status: str, state=None) -> bool:
    """Whether a function of an execution that ended with ``status`` may still run: not after a success;
    after a failure only if the Parallel block's did (its ``failure`` says so), or if unknown (``state``
    None: the EventBridge release, a takeover); always after an abort or a time-out."""
    if status == "SUCCEEDED":
        return False
    if status != "FAILED" or not isinstance(state, dict):
        return True
    failure = state.get("failure")
    return isinstance(failure, dict) and failure.get("functions_may_still_run") is True


class Locks:
    """The lock table (``DEPLOYMENT_LOCKS_TABLE``) of one region."""

    def __init__(self, region: str, table: str, settle_seconds: int = 0):
        if not table:
            raise KeyError(TABLE_ENV)  # the stack sets it on every function that locks: one without it is misdeployed
        self.region = region
        self.table = table
        self.settle_seconds = settle_seconds  # how long a function can outlive an execution that did not succeed
        self.dynamodb = clients.client("dynamodb", region)

    def acquire(self, deployment_id: str, execution_arn: str, workflow: str, attempts: int = 3) -> dict:
        """Take the deployment's lock for ``execution_arn`` (``wait_seconds`` 0), or answer how long to wait while
        the last execution's functions may still run (``locked`` False), or raise ``Busy`` naming the holder."""
        holder: dict = {}
        for _ in range(attempts):
            try:  # free and settled, or already ours (a retried call): keep the time it was first taken
                self._take(
                    deployment_id,
                    execution_arn,
                    workflow,
                    "(attribute_not_exists(#holder) AND (attribute_not_exists(settles_at) OR settles_at <= :clock)) OR #holder = :arn",
                    "if_not_exists(lock_acquired_at, :now)",
                    {":clock": {"S": _moment(clock())}},
                )
                return {"deployment_id": deployment_id, "locked": True, "took_over_from": None, "wait_seconds": 0}
            except ClientError as exc:
                holder = self._refused(exc) or self.holder(deployment_id)
            current = holder.get(_HOLDER)
            if current and self._running(current):
                raise Busy(executions.busy_message(deployment_id, current, holder.get("lock_acquired_at")))
            settles_at = self._settles_after(current) if current else holder.get("settles_at")
            if settles_at and settles_at > _moment(clock()):
                return self._wait(deployment_id, settles_at)
            if current:  # it ended and its release was lost (or is on its way): take over from that very holder only
                try:
                    self._take(deployment_id, execution_arn, workflow, "#holder = :stale", ":now", {":stale": {"S": current}})
                    return {"deployment_id": deployment_id, "locked": True, "took_over_from": current, "wait_seconds": 0}
                except ClientError as exc:
                    holder = self._refused(exc)  # another start took it over first: look again
        raise Busy(executions.busy_message(deployment_id, holder.get(_HOLDER) or "(changing hands)", holder.get("lock_acquired_at")))

    @staticmethod
    def _wait(deployment_id: str, settles_at: str) -> dict:
        seconds = (datetime.fromisoformat(settles_at) - datetime.fromtimestamp(clock(), UTC)).total_seconds()
        return {"deployment_id": deployment_id, "locked": False, "settles_at": settles_at, "wait_seconds": max(1, math.ceil(seconds))}

    def release(self, deployment_id: str, execution_arn: str, status: str, warnings: int | None = None, settle: bool = False) -> dict:
        """Clear the lock if ``execution_arn`` holds it, and record how that execution ended (and its warnings
        count); with ``settle``, when the functions it may have left running will have ended (``settles_at``)."""
        holder = self.holder(deployment_id)
        workflow = holder.get("lock_workflow") if holder.get(_HOLDER) == execution_arn else None
        if workflow not in WORKFLOWS:
            return {"deployment_id": deployment_id, "released": False}
        latest = {
            "M": {
                "execution_arn": {"S": execution_arn},
                "execution_name": {"S": execution_arn.rsplit(":", 1)[-1]},
                "status": {"S": status},
                "started_at": {"S": holder.get("lock_acquired_at", "")},
                "ended_at": {"S": _now()},
                **({"warnings": {"N": str(warnings)}} if warnings is not None else {}),
            }
        }
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key={"deployment_id": {"S": deployment_id}},
                UpdateExpression="REMOVE #holder, lock_workflow, lock_acquired_at SET #latest = :latest, settles_at = :settles"
                if settle
                else "REMOVE #holder, lock_workflow, lock_acquired_at, settles_at SET #latest = :latest",
                ConditionExpression="#holder = :arn",
                ExpressionAttributeNames={"#holder": _HOLDER, "#latest": f"latest_{workflow}"},
                ExpressionAttributeValues={
                    ":arn": {"S": execution_arn},
                    ":latest": latest,
                    **({":settles": {"S": _moment(clock() + self.settle_seconds)}} if settle else {}),
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return {"deployment_id": deployment_id, "released": False}  # released meanwhile (the other path)
        return {"deployment_id": deployment_id, "released": True}

    def deployments(self) -> list[dict]:
        """Every deployment an execution ever ran for, by id: what runs now, and how the latest of each workflow ended."""
        items = []
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=self.table, ConsistentRead=True):
            items += page["Items"]
        return sorted((summary(item) for item in items), key=lambda deployment: deployment["deployment_id"])

    def holder(self, deployment_id: str) -> dict:
        item = self.dynamodb.get_item(TableName=self.table, Key={"deployment_id": {"S": deployment_id}}, ConsistentRead=True).get("Item")
        return _plain(item)

    def _take(self, deployment_id: str, execution_arn: str, workflow: str, condition: str, since: str, values: dict | None = None) -> None:
        self.dynamodb.update_item(
            TableName=self.table,
            Key={"deployment_id": {"S": deployment_id}},
            UpdateExpression=f"SET #holder = :arn, lock_workflow = :workflow, lock_acquired_at = {since} REMOVE settles_at",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#holder": _HOLDER},
            ExpressionAttributeValues={":arn": {"S": execution_arn}, ":workflow": {"S": workflow}, ":now": {"S": _now()}, **(values or {})},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    @staticmethod
    def _refused(exc: ClientError) -> dict:
        """The item that made a conditional write fail (DynamoDB returns it with ALL_OLD); other errors propagate."""
        if error_code(exc) != "ConditionalCheckFailedException":
            raise exc
        return _plain(exc.response.get("Item"))

    def _settles_after(self, execution_arn: str) -> str | None:
        """When the functions of an ended holder whose release never came may have ended (None: nothing to wait for)."""
        sfn = clients.client("stepfunctions", executions.region_of(execution_arn))
        try:
            ended = sfn.describe_execution(executionArn=execution_arn)
        except ClientError as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return None
            raise
        if not settles(ended["status"]) or not isinstance(ended.get("stopDate"), datetime):
            return None
        return _moment(ended["stopDate"].timestamp() + self.settle_seconds)

    def _running(self, execution_arn: str) -> bool:
        sfn = clients.client("stepfunctions", executions.region_of(execution_arn))
        try:
            return sfn.describe_execution(executionArn=execution_arn)["status"] == executions.RUNNING
        except ClientError as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return False
            raise


def summary(item: dict) -> dict:
    """One deployment as the list shows it: ``provision`` and ``teardown`` are each workflow's running or latest
    execution (``execution_name``, ``status``, ``started_at``, ``ended_at``, ``warnings``), or None."""
    plain, shown = _plain(item), {"deployment_id": item["deployment_id"]["S"]}
    for workflow in WORKFLOWS:
        latest = {
            name: value.get("S", int(value["N"]) if "N" in value else None)
            for name, value in item.get(f"latest_{workflow}", {}).get("M", {}).items()
        }
        if plain.get("lock_workflow") == workflow and plain.get(_HOLDER):
            latest = {
                "execution_name": plain[_HOLDER].rsplit(":", 1)[-1],
                "execution_arn": plain[_HOLDER],
                "status": executions.RUNNING,
                "started_at": plain.get("lock_acquired_at"),
                "ended_at": None,
                "warnings": None,
            }
        shown[workflow] = (
            {key: latest.get(key) for key in ("execution_name", "execution_arn", "status", "started_at", "ended_at", "warnings")}
            if latest
            else None
        )
    return shown


def warnings_count(state) -> int | None:
    """How many warnings the state at the end of an execution holds (Render's output, or Validate's on a failure)."""
    warnings = state.get("warnings") if isinstance(state, dict) else None
    return len(warnings) if isinstance(warnings, list) else None


def _plain(item: dict | None) -> dict:
    """A DynamoDB item's string attributes as a plain dict (the lock's fields are strings)."""
    return {name: value["S"] for name, value in (item or {}).items() if "S" in value}


# --- the Lambda's three entry points ------------------------------------------------------------


def handle(event: dict, settings: Settings) -> dict:
    """``{"action": "acquire"|"release", "workflow", "execution_arn", "input", ["status"]}`` from a state
    machine, or an EventBridge "Execution Status Change" event of an ended execution."""
    region, table = settings.region, settings.deployment_locks_table
    if event.get("detail-type") == STATUS_CHANGE:
        return on_execution_ended(event["detail"], region, table, settings.longest_function_timeout)
    action, workflow = event["action"], event["workflow"]
    deployment_id = deployment_id_of(event.get("input"), workflow)
    if deployment_id is None:  # not a valid deployment: nothing to lock; Validate refuses it
        return {"deployment_id": None, "locked": False, "released": False, "wait_seconds": 0}
    locks = Locks(region, table, settings.longest_function_timeout)
    if action == "acquire":
        return locks.acquire(deployment_id, event["execution_arn"], workflow)
    if action == "release":
        state = event.get("state")
        return locks.release(deployment_id, event["execution_arn"], event["status"], warnings_count(state), settles(event["status"], state))
    raise ValueError(f"unknown lock action {action!r}")


def on_execution_ended(detail: dict, region: str, table: str, settle_seconds: int = 0) -> dict:
    """The safety net for every end, aborted and timed-out executions included: release what it holds."""
    if detail.get("status") not in ENDED:
        return {"released": False}
    document = detail.get("input")
    if document is None or not (detail.get("inputDetails") or {}).get("included", True):
        sfn = clients.client("stepfunctions", executions.region_of(detail["executionArn"]))
        document = sfn.describe_execution(executionArn=detail["executionArn"])["input"]
    try:
        document = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return {"released": False}
    deployment_id = deployment_id_of(document, workflow_of(document))
    if deployment_id is None:
        return {"released": False}
    status = detail["status"]
    return Locks(region, table, settle_seconds).release(deployment_id, detail["executionArn"], status, settle=settles(status))
