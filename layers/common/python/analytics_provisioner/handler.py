"""The one decorator every Lambda handler uses.

It injects the Lambda context into the logger (never the event: it may hold the input document),
logs the phase's start and end with durations, and turns any failure into a typed error whose
message starts with the phase name, so the state machine's Retry/Catch and the failure report see
``TransientAwsError`` (retry) or a permanent error, never a bare botocore exception.
"""

import functools
import os
import time

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from .aws.errors import classify
from .errors import ProvisionerError

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "analytics-provisioner"))


def default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def phase_handler(phase: str):
    def decorate(handle):
        @functools.wraps(handle)
        @logger.inject_lambda_context(log_event=False, clear_state=True)
        def lambda_handler(event, context):
            started = time.monotonic()
            logger.info("phase started", extra={"phase": phase})
            try:
                result = handle(event, context)
            except ProvisionerError as exc:
                _log_failure(phase, exc, started)
                raise type(exc)(f"{phase}: {exc}") from None
            except (ClientError, BotoCoreError) as exc:
                typed = classify(exc, phase)
                _log_failure(phase, typed, started)
                raise typed from None
            logger.info("phase finished", extra={"phase": phase, "seconds": round(time.monotonic() - started, 3)})
            return result

        return lambda_handler

    return decorate


def _log_failure(phase: str, exc: Exception, started: float) -> None:
    logger.warning(
        "phase failed",
        extra={"phase": phase, "error": type(exc).__name__, "reason": str(exc), "seconds": round(time.monotonic() - started, 3)},
    )
