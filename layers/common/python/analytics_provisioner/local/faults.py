"""Fault injection for the reliability suite: AWS errors inside one phase's calls, Lambda failures.

``Faults`` is installed by the emulator. The Lambda hook records which function runs on each
thread; a rule such as ``faults.aws("IdentityFunction", times=2, code="ThrottlingException")``
makes that function's next AWS calls fail as AWS would (HTTP status and error code), after which
they go through to moto again. ``faults.lambda_failure("NetworkFunction")`` makes the next
invocation fail before the handler runs, reported with the error name Step Functions gives a Lambda
service failure (moto reports invoke-API errors of bare-ARN tasks as a plain "Exception").
``faults.lost_answer("ComputeFunction", "AllocateAddress")`` loses the answer to that function's next
such call: AWS did it (moto handles the request), but the caller's read times out, as when a
connection drops after the request arrived; the SDK then sends the call again, as botocore's
retries do.
"""

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from botocore import handlers
from botocore.exceptions import ReadTimeoutError
from moto.core.models import botocore_stubber

from . import hooks

current = threading.local()


@contextmanager
def outside_functions():
    """The emulator's own AWS calls on a function's thread: neither recorded as the function's calls
    nor subject to its fault rules. Yields the function that runs on this thread (None outside one)."""
    function = getattr(current, "function", None)
    current.function = None
    try:
        yield function
    finally:
        current.function = function


@contextmanager
def recorded_as(function: str):
    """This thread's AWS calls recorded (and subject to fault rules) as ``function``'s, as a Lambda
    function's are: for what runs outside one, such as a plan or a CLI command."""
    previous = getattr(current, "function", None)
    current.function = function
    try:
        yield
    finally:
        current.function = previous


@dataclass
class AwsRule:
    function: str
    remaining: int
    code: str
    status: int
    operation: str | None = None
    after: str | None = None  # armed once the function has made this call (it goes through)
    injected: int = 0

    def matches(self, function: str, operation: str) -> bool:
        if self.function != function or self.remaining <= 0:
            return False
        if self.after is not None:
            self.after = None if operation == self.after else self.after
            return False
        return self.operation in (None, operation)


@dataclass
class LostAnswer:
    function: str
    operation: str
    remaining: int
    lost: int = 0


class AwsCall(NamedTuple):
    function: str
    service: str  # the signing name, which is the IAM action prefix for every service we call ("es" for OpenSearch)
    operation: str


class LambdaServiceFault(Exception):
    """Raised by the hook instead of running the handler; reported as ``error_name``."""

    def __init__(self, error_name: str):
        super().__init__(f"injected {error_name}")
        self.error_name = error_name


class Faults:
    EVENT = "before-call"
    # More specific than moto's "before-send", so it runs first and hands the request to moto itself.
    SEND_EVENT = "before-send.*.*"

    def __init__(self):
        self.aws_rules: list[AwsRule] = []
        self.lost_answers: list[LostAnswer] = []
        self.lambda_rules: dict[str, list[str]] = {}
        self.lambda_injected = 0
        self.calls: list[AwsCall] = []  # every AWS call a handler made
        self._lock = threading.Lock()
        self._entry = (self.EVENT, self._before_call)
        self._send_entry = (self.SEND_EVENT, self._before_send)

    # rules -------------------------------------------------------------------------------------
    def aws(
        self,
        function: str,
        times: int = 1,
        code: str = "ThrottlingException",
        status: int = 400,
        operation: str | None = None,
        after: str | None = None,
    ) -> AwsRule:
        rule = AwsRule(function, times, code, status, operation, after)
        self.aws_rules.append(rule)
        return rule

    def lost_answer(self, function: str, operation: str, times: int = 1) -> LostAnswer:
        rule = LostAnswer(function, operation, times)
        self.lost_answers.append(rule)
        return rule

    def lambda_failure(self, function: str, error_name: str = "Lambda.ServiceException", times: int = 1) -> None:
        self.lambda_rules.setdefault(function, []).extend([error_name] * times)

    @property
    def aws_injected(self) -> int:
        return sum(rule.injected for rule in self.aws_rules)

    # hooks -------------------------------------------------------------------------------------
    def install(self) -> None:
        handlers.BUILTIN_HANDLERS.extend([self._entry, self._send_entry])

    def uninstall(self) -> None:
        for entry in (self._entry, self._send_entry):
            if entry in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.remove(entry)

    def before_invoke(self, function: str, event: dict) -> None:
        with self._lock:
            pending = self.lambda_rules.get(function)
            error_name = pending.pop(0) if pending else None
            if error_name:
                self.lambda_injected += 1
        if error_name:
            raise LambdaServiceFault(error_name)

    def _before_call(self, model, **kwargs):
        function = getattr(current, "function", None)
        if function is None:
            return None
        with self._lock:
            self.calls.append(AwsCall(function, model.service_model.signing_name, model.name))
            for rule in self.aws_rules:
                if rule.matches(function, model.name):
                    rule.remaining -= 1
                    rule.injected += 1
                    return hooks.aws_error(rule.code, f"injected {rule.code} on {model.name}", rule.status)
        return None

    def _before_send(self, request, event_name: str, **_):
        """Each attempt of a call (the SDK's retries included): a lost answer lets moto do the call, then times out."""
        function, operation = getattr(current, "function", None), event_name.rsplit(".", 1)[-1]
        if function is None:
            return
        with self._lock:
            rule = next((r for r in self.lost_answers if (r.function, r.operation) == (function, operation) and r.remaining > 0), None)
            if rule is not None:
                rule.remaining -= 1
                rule.lost += 1
        if rule is None:
            return
        botocore_stubber(event_name=event_name, request=request)
        raise ReadTimeoutError(endpoint_url=request.url)
