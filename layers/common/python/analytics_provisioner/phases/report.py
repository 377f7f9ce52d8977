"""Failure report: which phase failed, why, and what exists, written next to the secure-repo files.

The Fail state that follows uses this function's ``error`` and ``cause``, so the execution's own
error names the phase. Only ids, ARNs and endpoints from the state are copied: never a secret.
"""

import json
import re
from datetime import UTC, datetime

from ..aws import s3, tags
from ..naming import DEPLOYMENT_ID_PATTERN, Names
from ..settings import Settings

PHASE_OUTPUT_KEYS = ("identity", "network", "resources", "render")
FAILURE_REPORT = "failure-report.json"


def run(event: dict, settings: Settings) -> dict:
    """``event``: the failure and the state as it was (any part of it may be missing)."""
    failure, state = event["failure"], event.get("state", {})
    phase = failure.get("phase", "Unknown")
    error, message = _error_and_message(failure)
    if not message.startswith(f"{phase}:"):
        message = f"{phase}: {message}"
    deployment = state.get("deployment") or {}
    deployment_id = deployment.get("deployment_id") or state.get("deployment_id")
    region = deployment.get("region") or settings.region
    has_valid_id = isinstance(deployment_id, str) and re.fullmatch(DEPLOYMENT_ID_PATTERN, deployment_id) is not None
    body = {
        "status": "FAILED",
        "phase": phase,
        "error": error,
        "message": message,
        "execution": event.get("execution_name"),
        "written_at": datetime.now(UTC).isoformat(),
        "deployment_id": deployment_id,
        "created_before_the_failure": {key: state[key] for key in PHASE_OUTPUT_KEYS if key in state},
        # Found by tag, not from the state (a parallel branch stopped by another's failure hands nothing
        # on): what carries the deployment tag now, from this run or an earlier one.
        "tagged_resources": tags.tagged_arns(region, deployment_id) if has_valid_id else [],
        "nothing_created": phase == "Validate",
        "next": "Fix the cause and start the same input again: every phase adopts what it created before.",
    }
    key = _report_key(deployment_id, event.get("execution_name", "unknown"))
    bucket = settings.require_secure_repo_bucket()
    uri = s3.put_json(bucket, key, body, region)
    return {"error": f"{phase}.{error}", "cause": f"{message} (failure report: {uri})", "report_uri": uri}


def _error_and_message(failure: dict) -> tuple[str, str]:
    cause = failure.get("Cause") or ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "errorType" in parsed:
        return parsed["errorType"], parsed.get("errorMessage", "")
    return failure.get("Error", "Error"), cause


def _report_key(deployment_id: str | None, execution_name: str) -> str:
    if isinstance(deployment_id, str) and re.fullmatch(DEPLOYMENT_ID_PATTERN, deployment_id):
        return f"{Names(deployment_id).secure_repo_prefix}{FAILURE_REPORT}"
    return f"_rejected/{execution_name}/{FAILURE_REPORT}"
