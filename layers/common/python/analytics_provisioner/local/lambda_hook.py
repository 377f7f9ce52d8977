"""Route moto's Lambda invocations to our real handlers, in this process.

moto's ``LambdaSimpleBackend.invoke`` never runs code; we replace it (a private API: moto is pinned
to a minor range and ``tests/static/test_moto_canary.py`` fails loudly if this stops working). A
handler's exception becomes the Lambda service's error contract (``x-amz-function-error`` and
``{"errorType", "errorMessage"}``), so the interpreter's Retry/Catch see the same names as on AWS.
"""

import importlib.util
import json
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend

from . import faults
from .template import FunctionSpec


class Context:
    """The attributes Powertools reads from a Lambda context."""

    def __init__(self, function_name: str, timeout: int):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:aws:lambda:local:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._timeout_ms = timeout * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


def _load_handler(spec: FunctionSpec):
    module_file, attribute = spec.handler.rsplit(".", 1)
    path = Path(spec.code_dir) / f"{module_file}.py"
    module_spec = importlib.util.spec_from_file_location(f"_ap_function_{spec.code_dir.name}", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return getattr(module, attribute)


class LambdaHook:
    """Installed while the emulator runs. ``before_invoke`` callbacks let tests inject faults."""

    def __init__(self, functions_by_name: dict[str, FunctionSpec]):
        self.functions = functions_by_name
        self.handlers = {name: _load_handler(spec) for name, spec in functions_by_name.items()}
        self.before_invoke: list = []
        self.invocations: list[tuple[str, str]] = []
        self._running, self._ended = 0, threading.Condition()  # invocations under way, and their ends
        self._lock = threading.Lock()
        self._original: Callable[..., Any] | None = None

    def install(self) -> None:
        hook = self
        self._original = LambdaSimpleBackend.invoke

        def invoke(backend, function_name, qualifier, body, headers, response_headers):
            return hook.invoke(function_name, body, response_headers)

        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]  # replacing moto's method is the point

    def uninstall(self) -> None:
        if self._original is not None:
            LambdaSimpleBackend.invoke = self._original  # type: ignore[method-assign]  # moto's own again

    def invoke(self, function_name: str, body, response_headers: dict) -> bytes:
        name = function_name.rsplit(":", 1)[-1]
        event = json.loads(body or "{}")
        faults.current.function = name
        with self._ended:
            self._running += 1
        try:
            for callback in self.before_invoke:
                callback(name, event)
            result = self.handlers[name](event, Context(name, self.functions[name].timeout))
            outcome = "ok"
            return json.dumps(result).encode()
        except Exception as exc:  # the Lambda service reports any exception this way
            outcome = getattr(exc, "error_name", type(exc).__name__)
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": outcome, "errorMessage": str(exc)}).encode()
        finally:
            faults.current.function = None
            with self._ended:
                self._running -= 1
                self._ended.notify_all()
            with self._lock:
                self.invocations.append((name, outcome))

    def wait_idle(self, timeout: float = 120) -> None:
        """Until no handler runs. An execution that failed in one branch of a Parallel state has ended
        while the other branches' Lambda invocations may still run (as on AWS: Step Functions stops the
        branches but cannot stop a function it invoked)."""
        with self._ended:
            if not self._ended.wait_for(lambda: self._running == 0, timeout):
                raise TimeoutError(f"{self._running} Lambda invocation(s) still running after {timeout:.0f} s")
