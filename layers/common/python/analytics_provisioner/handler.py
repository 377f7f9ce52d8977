"""The one decorator every Lambda handler uses.

It injects the Lambda context into the logger (never the event: it may hold the input document),
logs the phase's start and end with durations, and turns any failure into a typed error whose
message starts with the phase name, so the state machine's Retry/Catch and the failure report see
``TransientAwsError`` (retry) or a permanent error, never a bare botocore exception; an exception
nobody expected becomes ``InternalError`` naming its type (its message may carry data, so neither the
error nor the log repeats it: the log gets the traceback's frames).

Given the phase's function (``phase_handler("Compute", compute.run)``), it also does the typed part
(``invoke``): each parameter of the function is the state key of its name, rebuilt as its annotation
says (``state.py``'s outputs, ``ResolvedDeployment``; ``settings: Settings`` gets the settings read once
per cold start; ``event: dict`` the event as it came), and the dataclass the function returns becomes its
state dict. A key the function needs but the state lacks (a phase that did not finish) is a
ResourceStateError naming every such key, raised before the function does anything.
"""

import functools
import inspect
import json
import logging
import os
import sys
import time
import traceback
import typing
from collections.abc import Callable
from typing import Any, overload

from botocore.exceptions import BotoCoreError, ClientError

from .aws.errors import classify
from .errors import InternalError, ProvisionerError
from .record import dump, lacking, load
from .settings import Settings, region_of

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "analytics-provisioner")
API_GATEWAY_REQUEST_ID = ("requestContext", "requestId")
_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the keys powertools' Logger wrote (level, location, message,
    timestamp, service, the Lambda context, the ``extra`` fields): a dozen lines of the standard
    library instead of importing powertools, whose package also loads its metrics and tracer
    (about 7 % of a cold start, docs/performance.md)."""

    def __init__(self):
        super().__init__()
        self.context: dict = {}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created)) + f",{int(record.msecs):03d}+0000",
            "service": SERVICE,
            **self.context,
            **{key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES},
        }
        if record.exc_info and record.exc_info[0]:
            entry["exception"] = self.formatException(record.exc_info)
            entry["exception_name"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


class Logger(logging.LoggerAdapter):
    """The functions' logger: JSON lines on stdout, the Lambda context injected per invocation."""

    def __init__(self, service: str):
        base = logging.getLogger(service)
        base.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))
        base.propagate = False
        self.formatter = JsonFormatter()
        if not base.handlers:
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(self.formatter)
            base.addHandler(handler)
        else:
            self.formatter = typing.cast(JsonFormatter, base.handlers[0].formatter)  # ours, from an earlier Logger(service)
        super().__init__(base, {})
        self.handlers = base.handlers
        self._cold_start = True

    def process(self, msg, kwargs):
        return msg, kwargs

    def inject_lambda_context(self, log_event: bool = False, clear_state: bool = True, correlation_id_path: tuple[str, ...] | None = None):
        """Adds the invocation's context to every line it logs; never the event (``log_event`` must stay False)."""
        if log_event:
            raise ValueError("the event may hold the input document: it is never logged")

        def decorate(handle):
            @functools.wraps(handle)
            def wrapped(event, context):
                self.formatter.context = {
                    "cold_start": self._cold_start,
                    "function_name": getattr(context, "function_name", None),
                    "function_memory_size": getattr(context, "memory_limit_in_mb", None),
                    "function_arn": getattr(context, "invoked_function_arn", None),
                    "function_request_id": getattr(context, "aws_request_id", None),
                }
                self._cold_start = False
                if correlation_id_path:
                    found = event
                    for key in correlation_id_path:
                        found = found.get(key) if isinstance(found, dict) else None
                    self.formatter.context["correlation_id"] = found
                return handle(event, context)

            return wrapped

        return decorate


logger = Logger(SERVICE)


def default_region() -> str:
    return region_of(os.environ)


Handler = Callable[[dict, Any], Any]


@overload
def phase_handler(phase: str) -> Callable[[Handler], Handler]: ...
@overload
def phase_handler(phase: str, run: Callable[..., Any], **actions: Callable[..., Any]) -> Handler: ...
def phase_handler(phase: str, run: Callable[..., Any] | None = None, **actions: Callable[..., Any]):
    """``@phase_handler(phase)`` decorates a handler of (event, context). ``phase_handler(phase, run, **actions)``
    is the handler of a typed phase: ``actions[event["action"]]`` if the event names one of them, else ``run``,
    called through ``invoke``."""
    if run is None:
        return _decorate(phase)
    settings: list[Settings] = []  # read on the first invocation: once per cold start

    def typed(event: dict, context) -> Any:
        if not settings:
            settings.append(Settings.from_environ())
        action = event.get("action") or ""
        return invoke(actions.get(action, run), event, settings[0])

    return _decorate(phase)(typed)


def invoke(run: Callable[..., Any], event: dict, settings: Settings | None = None) -> Any:
    """``run`` called with its parameters rebuilt from ``event`` (see the module's docstring); its result as state."""
    return dump(run(**arguments(run, event, settings or Settings.from_environ())))


def arguments(run: Callable[..., Any], event: dict, settings: Settings) -> dict[str, Any]:
    """``run``'s parameters rebuilt from ``event``; ResourceStateError naming every key the event lacks."""
    found: dict[str, Any] = {}
    missing: list[str] = []
    for name, hint, required in _parameters(run):
        if hint is Settings:
            found[name] = settings
        elif name == "event":
            found[name] = event
        elif event.get(name) is not None or required:
            found[name] = load(hint, event.get(name), name, missing)
    if missing:
        raise lacking(missing)
    return found


@functools.cache
def _parameters(run: Callable[..., Any]) -> tuple[tuple[str, Any, bool], ...]:
    """(name, annotation, required) of each of ``run``'s parameters: read once per function, not per invocation."""
    hints = typing.get_type_hints(run)
    return tuple(
        (name, hints.get(name), parameter.default is inspect.Parameter.empty)
        for name, parameter in inspect.signature(run).parameters.items()
    )


def _decorate(phase: str) -> Callable[[Handler], Handler]:
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
            except Exception as exc:  # a defect: typed, named, and logged with its traceback for whoever fixes it
                frames = "".join(traceback.format_tb(exc.__traceback__))  # where, not the message: it may carry data
                logger.error("phase failed unexpectedly", extra={"phase": phase, "error": type(exc).__name__, "traceback": frames})
                raise InternalError(f"{phase}: unexpected {type(exc).__name__} (a defect; the function's log has the traceback)") from None
            logger.info("phase finished", extra={"phase": phase, "seconds": round(time.monotonic() - started, 3)})
            return result

        return lambda_handler

    return decorate


def _log_failure(phase: str, exc: Exception, started: float) -> None:
    logger.warning(
        "phase failed",
        extra={"phase": phase, "error": type(exc).__name__, "reason": str(exc), "seconds": round(time.monotonic() - started, 3)},
    )
