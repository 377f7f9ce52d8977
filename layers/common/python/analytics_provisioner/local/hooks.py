"""botocore handlers that every client created inside the emulator gets (the catalogue, AWS's rules).

An entry is ``(event name, handler)`` as in ``botocore.handlers.BUILTIN_HANDLERS``: ``before-call.*``
handlers may answer instead of moto, ``after-call.*`` handlers may change what moto answered. Both
see the call's parameters when ``remember_request`` is registered for its ``provide-client-params``.
"""

import contextlib
from collections.abc import Callable
from typing import Any

from botocore import handlers
from botocore.awsrequest import AWSResponse

Entry = tuple[str, Callable[..., Any]]  # (event name, handler)


@contextlib.contextmanager
def installed(entries: list[Entry]):
    added = [entry for entry in entries if entry not in handlers.BUILTIN_HANDLERS]
    handlers.BUILTIN_HANDLERS.extend(added)
    try:
        yield
    finally:
        for entry in added:
            handlers.BUILTIN_HANDLERS.remove(entry)


_REQUEST = "analytics_provisioner.request"


def remember_request(params, context, **_):
    """A ``provide-client-params`` handler: keeps the call's parameters where ``request`` finds them."""
    context[_REQUEST] = dict(params)


def request(context: dict) -> dict:
    return context.get(_REQUEST, {})


def aws_error(code: str, message: str, status: int = 400) -> tuple[AWSResponse, dict]:
    """What a before-call handler returns to answer with AWS's error instead of moto's result."""
    response = AWSResponse(url="https://emulated.local/", status_code=status, headers={}, raw=None)
    return response, {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "emulated"}}


def aws_answer(parsed: dict) -> tuple[AWSResponse, dict]:
    """What a before-call handler returns to answer for a call moto does not implement (or answers wrongly)."""
    response = AWSResponse(url="https://emulated.local/", status_code=200, headers={}, raw=None)
    return response, {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "emulated"}}
