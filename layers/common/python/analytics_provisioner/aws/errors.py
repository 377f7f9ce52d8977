"""Classify botocore errors into our typed errors (retryable vs permanent)."""

import contextlib

from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

from ..errors import AwsCallError, IamPropagationError, ProvisionerError, TransientAwsError

TRANSIENT_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "InternalServerError",
    "InternalException",
    "RequestTimeout",
    "RequestTimeoutException",
    "ConcurrentModification",
    "ConcurrentModificationException",
    "OperationAborted",
    "IncorrectState",
    "InvalidInstanceID.NotFound",
    "InvalidGroup.NotFound",
}


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def absent_on(call, *codes: str):
    """``call()``, or None when AWS answers with one of ``codes`` (the "no such thing" of each API)."""
    try:
        return call()
    except ClientError as exc:
        if error_code(exc) in codes:
            return None
        raise


def gone_is_success(call, *codes: str) -> bool:
    """Run a delete (or a detach, a release, a revoke): True when it took effect now, False when AWS
    answers with one of ``codes``, that API's "no such thing". Already gone is what a delete wants, so
    that answer is success: a retried or repeated teardown finds nothing left to do. Every delete
    helper in aws/ goes through here, none reads NotFound codes itself."""
    try:
        call()
    except ClientError as exc:
        if error_code(exc) in codes:
            return False
        raise
    return True


def unless_exists(call, *codes: str):
    """``call()``, a create, or None when AWS answers with one of ``codes``: it exists already (a look-up
    moments before did not show it yet, or the SDK retried a call whose answer was lost)."""
    return absent_on(call, *codes)


def answer_lost(exc: Exception) -> bool:
    """The call reached AWS, or may have, but no answer came back (a read timeout, a dropped connection,
    a 5xx): whether it took effect only a look-up can tell."""
    if isinstance(exc, (ReadTimeoutError, ConnectionClosedError)):
        return True
    return isinstance(exc, ClientError) and exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500


def is_transient(exc: Exception) -> bool:
    if isinstance(exc, (BotoConnectionError, ReadTimeoutError)):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in TRANSIENT_CODES or status >= 500
    return False


def iam_not_propagated(exc: Exception) -> bool:
    """How services answer while a fresh IAM principal or instance profile propagates (seconds to minutes):
    OpenSearch refuses an access policy naming it, EC2 an instance profile."""
    if not isinstance(exc, ClientError):
        return False
    code, message = error_code(exc), exc.response.get("Error", {}).get("Message", "").lower()
    return (code == "InvalidTypeException" and "error setting policy" in message) or (
        code == "InvalidParameterValue" and "invalid iam instance profile" in message
    )


def classify(exc: Exception, doing: str) -> ProvisionerError:
    """A typed error for a botocore failure; the message names the call but never echoes parameters."""
    if isinstance(exc, ClientError):
        operation = exc.operation_name
        detail = f"{error_code(exc)}: {exc.response.get('Error', {}).get('Message', '')}"
    else:
        operation, detail = doing, type(exc).__name__
    message = f"{doing}: AWS {operation} failed ({detail})"
    if iam_not_propagated(exc):
        return IamPropagationError(f"{message}; IAM has not propagated a principal created moments ago, retried shortly")
    if is_transient(exc):
        return TransientAwsError(message)
    return AwsCallError(message)


@contextlib.contextmanager
def aws_call(doing: str):
    """Wrap AWS calls so failures surface as TransientAwsError / AwsCallError naming what we were doing."""
    try:
        yield
    except (ClientError, BotoConnectionError, ReadTimeoutError) as exc:
        raise classify(exc, doing) from exc
