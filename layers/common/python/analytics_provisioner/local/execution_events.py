"""AWS rule: an ended execution is an EventBridge event, and EventBridge invokes the Lambda targets
of the rules it matches.

Step Functions sends "Step Functions Execution Status Change" (source ``aws.states``) to the
account's default event bus whenever a standard workflow's execution changes status: SUCCEEDED,
FAILED, TIMED_OUT and ABORTED included, whatever ended it (a Fail state, StopExecution, the
execution's timeout). EventBridge delivers it to every enabled rule whose pattern matches, and
invokes the rule's Lambda targets (asynchronously, retried on failure). moto does neither: its
interpreter emits no event, and its EventBridge delivers to logs, SQS and buses but never to a
Lambda function (``tests/static/test_moto_canary.py`` checks both). Here, right after an execution
ends, the event (with AWS's fields) goes through moto's rules and pattern matching, and each matching
Lambda target is invoked through the Lambda API (so the handler runs in-process, as every Task does),
retried twice on a function error as Lambda retries an asynchronous invocation.
"""

import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.events.utils import EventMessageType
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

from ..aws import clients

STATUS_CHANGE, SOURCE = "Step Functions Execution Status Change", "aws.states"
LAMBDA_ATTEMPTS = 3  # an asynchronous invocation and Lambda's two retries


def _millis(moment) -> int | None:
    return int(moment.timestamp() * 1000) if isinstance(moment, datetime) else None


def _text(value) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value)


def status_change_event(execution) -> EventMessageType:
    """The event Step Functions sends for an execution's (new) status, as documented."""
    status = execution.exec_status.value if hasattr(execution.exec_status, "value") else str(execution.exec_status)
    output = _text(execution.output) if status == "SUCCEEDED" else None
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": STATUS_CHANGE,
        "source": SOURCE,
        "account": execution.account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": execution.region_name,
        "resources": [execution.exec_arn],
        "detail": {
            "executionArn": execution.exec_arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": status,
            "startDate": _millis(execution.start_date),
            "stopDate": _millis(execution.stop_date),
            "input": _text(execution.input_data),
            "output": output,
            "inputDetails": {"included": True},
            "outputDetails": {"included": True} if output is not None else None,
            "error": _text(execution.error),
            "cause": _text(execution.cause),
        },
    }


class ExecutionEvents:
    def __init__(self):
        self.delivered: list[tuple[str, str, str]] = []  # (execution ARN, status, target ARN), for tests
        self._original: Callable[..., Any] | None = None

    def install(self) -> None:
        rule = self
        self._original = original = BaseExecutionWorkerCommunication.terminated

        def terminated(communication):
            original(communication)
            try:
                rule.send(status_change_event(communication.execution))
            except Exception:  # noqa: BLE001  # a delivery failure never changes how the execution ended, as on AWS
                logging.getLogger(__name__).exception("status change event not delivered")

        BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]  # replacing moto's method is the point

    def uninstall(self) -> None:
        if self._original is not None:
            BaseExecutionWorkerCommunication.terminated = self._original  # type: ignore[method-assign]  # moto's own again

    def send(self, event: EventMessageType) -> None:
        """Deliver ``event`` as EventBridge would: to the Lambda targets of the matching default-bus rules."""
        from moto.events.models import events_backends

        backend = events_backends[event["account"]][event["region"]]
        bus = backend.event_buses.get("default")
        for rule in list(bus.rules.values()) if bus else []:
            if rule.state != "ENABLED" or not rule.event_pattern.matches_event(event):
                continue
            for target in rule.targets:
                if ":lambda:" in target["Arn"]:
                    self._invoke(target["Arn"], event)

    def _invoke(self, function_arn: str, event: EventMessageType) -> None:
        awslambda = clients.client("lambda", event["region"])
        for _ in range(LAMBDA_ATTEMPTS):
            answer = awslambda.invoke(FunctionName=function_arn, Payload=json.dumps(event))
            answer["Payload"].read()
            if not answer.get("FunctionError"):
                break
        self.delivered.append((event["detail"]["executionArn"], event["detail"]["status"], function_arn))
