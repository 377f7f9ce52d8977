"""The deployments API behind API Gateway (AWS_IAM on every route): start, follow and tear down.

    POST /deployments/{id}             body: the execution input of deployment {id} (its deployment_id must be {id}).
                                       202 started (execution ARN, status URL); 200 this exact input already ran
                                       (the existing execution); 400 bad input, nothing started; 409 another
                                       execution of the deployment is running.
    GET  /deployments/{id}             the latest execution: status, each state's outcome and timing, the
                                       output (secret-free by contract) or the error. ?workflow=teardown for teardowns.
    GET  /deployments                  every deployment: what runs now, the latest provisioning and teardown (status,
                                       when, warnings count); the one route without an id, for whoever may see them all.
    POST /deployments/{id}/teardown    body (optional): the teardown settings (keep_data, final_snapshot, ...) and
                                       "deployment" (default: the input of the latest provisioning execution).

Every route names its deployment in the path and acts on that deployment only, so an IAM policy can grant
``execute-api:Invoke`` on ``.../deployments/acme-*`` and nothing else (README, Trust model).
``?attempt=N`` (N > 1) runs an input that already ran once more. The rules (deterministic execution
names, one execution at a time per deployment) live in ``execution``, shared with the CLI.
"""

import base64
import json
import re

from botocore.exceptions import BotoCoreError, ClientError

from . import execution as executions
from . import locking
from .aws import clients
from .aws.errors import classify
from .deployment import validation_errors  # imports jsonschema only to describe a body that does not conform
from .errors import InputError, quote
from .handler import logger
from .naming import DEPLOYMENT_ID_PATTERN
from .schemacheck import MAX_PROBLEMS
from .settings import PROVISION_STATE_MACHINE_ENV, TEARDOWN_STATE_MACHINE_ENV, Settings

PROVISION_ENV, TEARDOWN_ENV = PROVISION_STATE_MACHINE_ENV, TEARDOWN_STATE_MACHINE_ENV
WORKFLOWS = ("provision", "teardown")
MAX_ATTEMPT = 99


class HttpError(Exception):
    def __init__(self, status: int, message: str, **details):
        super().__init__(message)
        self.status, self.details = status, details


# --- routes: each gets the API Gateway (REST, proxy integration) event, the settings and the path's parameters


def start_deployment(event: dict, settings: Settings, deployment_id: str) -> dict:
    _check_id(deployment_id)
    document = _json_body(event)
    problems = validation_errors(document)
    if document.get("deployment_id") != deployment_id:  # the path is what IAM authorised: the body may not name another
        problems = [
            f"deployment_id: {quote(document.get('deployment_id'))} is not the deployment of the path, {deployment_id!r}; "
            f"POST a deployment's input to /deployments/<its deployment_id>",
            *problems,
        ][:MAX_PROBLEMS]
    if problems:
        raise HttpError(400, "The execution input is invalid; nothing was started", errors=problems)
    provision, attempt = _machine("provision", settings), _attempt(event)
    teardown = settings.teardown_state_machine_arn
    started = executions.start(
        _stepfunctions(provision), provision, document, deployment_id, attempt, exclusive_with=(teardown,) if teardown else ()
    )
    return _started(event, deployment_id, "provision", started, attempt)


def deployment_status(event: dict, settings: Settings, deployment_id: str) -> dict:
    _check_id(deployment_id)
    workflow = _query(event, "workflow", "provision")
    if workflow not in WORKFLOWS:
        raise HttpError(400, f"workflow: {quote(workflow)} is not one of {list(WORKFLOWS)}")
    machine = _machine(workflow, settings)
    sfn = _stepfunctions(machine)
    status = executions.describe(sfn, executions.latest(sfn, machine, deployment_id)["executionArn"])
    return _json(200, {"deployment_id": deployment_id, "workflow": workflow, **status})


def start_teardown(event: dict, settings: Settings, deployment_id: str) -> dict:
    _check_id(deployment_id)
    teardown, provision, attempt = _machine("teardown", settings), _machine("provision", settings), _attempt(event)
    sfn = _stepfunctions(teardown)
    request = executions.teardown_request(sfn, provision, deployment_id, _json_body(event, required=False), executions.region_of(teardown))
    started = executions.start(sfn, teardown, request, deployment_id, attempt, exclusive_with=(provision,))
    return _started(event, deployment_id, "teardown", started, attempt)


def list_deployments(event: dict, settings: Settings) -> dict:
    table = settings.deployment_locks_table
    if not table:
        raise HttpError(501, f"the deployments list is not deployed in this stack ({locking.TABLE_ENV} is not set on the API function)")
    return _json(200, {"deployments": locking.Locks(settings.region, table).deployments()})


# --- dispatch ----------------------------------------------------------------------------------


class Api:
    """The route table: ``app.resolve(event, context)`` answers one API Gateway (REST proxy) request,
    a JSON 404 when no route matches, and turns what a route raises into its JSON error (``_error``)."""

    def __init__(self, routes):
        self.routes = [(method, re.compile(path), handle) for method, path, handle in routes]

    def match(self, method: str, path: str):
        """(handler, path parameters) of the route, or None; trailing slashes are ignored."""
        path = path.rstrip("/")
        for route_method, pattern, handle in self.routes:
            found = pattern.fullmatch(path)
            if found and route_method == method.upper():
                return handle, found.groupdict()
        return None

    def resolve(self, event: dict, context) -> dict:
        settings = Settings.from_environ()  # per request: the stack's, as the function's environment holds them
        try:
            route = self.match(event["httpMethod"], event["path"])
            if route is None:
                return _json(404, {"message": f"no such route: {quote(event['httpMethod'])} {quote(event['path'], 120)}"})
            handle, parameters = route
            return handle(event, settings, **parameters)
        except Exception as exc:
            return _error(exc, event, context, settings)


DEPLOYMENT = "/deployments/(?P<deployment_id>[^/]+)"
app = Api(
    [
        ("GET", "/deployments", list_deployments),
        ("POST", DEPLOYMENT, start_deployment),
        ("GET", DEPLOYMENT, deployment_status),
        ("POST", f"{DEPLOYMENT}/teardown", start_teardown),
    ]
)


def _error(exc: Exception, event: dict, context, settings: Settings) -> dict:
    """The JSON answer for what a route raised (call it in the ``except`` block: it may log the traceback)."""
    if isinstance(exc, HttpError):
        return _json(exc.status, {"message": str(exc), **exc.details})
    if isinstance(exc, InputError):
        return _json(400, {"message": f"{exc}; nothing was started"})
    if isinstance(exc, executions.NotFound):
        return _json(404, {"message": str(exc)})
    if isinstance(exc, executions.Busy):
        return _busy(exc, event, settings)
    if isinstance(exc, (ClientError, BotoCoreError)):
        typed = classify(exc, "deployments API")
        logger.warning("AWS call failed", extra={"error": type(typed).__name__, "reason": str(typed)})
        if typed.retryable:
            return _json(503, {"message": f"{typed}; retry later"}, headers={"Retry-After": "5"})
        return _json(502, {"message": str(typed)})
    logger.exception("unexpected error")
    return _json(500, {"message": f"internal error ({type(exc).__name__}); see the function's log, request {context.aws_request_id}"})


def _busy(exc: executions.Busy, event: dict, settings: Settings) -> dict:
    workflow = "teardown" if exc.running["stateMachineArn"] == settings.teardown_state_machine_arn else "provision"
    return _json(
        409,
        {
            "message": str(exc),
            "running_execution": {**exc.running_execution(), "workflow": workflow},
            "status_url": _status_url(event, exc.deployment_id, workflow),
        },
    )


# --- helpers ---------------------------------------------------------------------------------


def _machine(workflow: str, settings: Settings) -> str:
    arn = settings.provision_state_machine_arn if workflow == "provision" else settings.teardown_state_machine_arn
    if arn:
        return arn
    if workflow == "teardown":
        raise HttpError(501, f"the teardown workflow is not deployed in this stack ({TEARDOWN_ENV} is not set on the API function)")
    raise HttpError(500, f"the API is not configured: {PROVISION_ENV} is not set on the API function")


def _stepfunctions(machine_arn: str):
    return clients.client("stepfunctions", executions.region_of(machine_arn))


def _query(event: dict, name: str, default: str) -> str:
    return (event.get("queryStringParameters") or {}).get(name, default)


def _json_body(event: dict, required: bool = True) -> dict:
    """The body's JSON object; an empty one for no body when none is ``required``."""
    raw = event.get("body")
    if not raw:
        if required:
            raise HttpError(400, "the body must be the execution input, a JSON object (see events/input-minimal.json)")
        return {}
    try:
        body = json.loads(base64.b64decode(raw).decode() if event.get("isBase64Encoded") else raw)
    except (ValueError, RecursionError):  # RecursionError: arrays/objects nested thousands deep
        raise HttpError(400, "the body is not valid JSON, or nests deeper than JSON input here may") from None
    if not isinstance(body, dict):
        raise HttpError(400, "the body must be a JSON object")
    return body


def _attempt(event: dict) -> int:
    raw = _query(event, "attempt", "1")
    if not re.fullmatch(r"[0-9]{1,2}", raw) or not 1 <= int(raw) <= MAX_ATTEMPT:  # str.isdigit() also accepts "²"
        raise HttpError(400, f"attempt: {quote(raw)} is not a whole number from 1 to {MAX_ATTEMPT}")
    return int(raw)


def _check_id(deployment_id: str) -> None:
    if not re.fullmatch(DEPLOYMENT_ID_PATTERN, deployment_id):
        raise HttpError(
            400, f"deployment id {quote(deployment_id)} is not valid; expected 3-31 of a-z, 0-9 and '-', starting with a letter"
        )


def _status_url(event: dict, deployment_id: str, workflow: str) -> str:
    """Absolute when API Gateway tells us where we are (its domain and the path before our route)."""
    context, route_path = event["requestContext"], event["path"]
    full_path = context["path"] or ""
    base = full_path[: -len(route_path)] if route_path and full_path.endswith(route_path) else f"/{context['stage']}"
    path = f"{base}/deployments/{deployment_id}" + ("?workflow=teardown" if workflow == "teardown" else "")
    domain = context.get("domainName")
    return f"https://{domain}{path}" if domain else path


def _started(event: dict, deployment_id: str, workflow: str, started: executions.Start, attempt: int) -> dict:
    url = _status_url(event, deployment_id, workflow)
    body = {"deployment_id": deployment_id, "workflow": workflow, **started.to_dict(), "status_url": url}
    if started.status == executions.RUNNING:
        if not started.started:
            body["message"] = "an identical request started this execution already; it is still running"
        logger.info(
            "execution started" if started.started else "execution already running",
            extra={"deployment_id": deployment_id, "workflow": workflow, "execution_name": started.execution_name},
        )
        return _json(202, body, headers={"Location": url})
    body["message"] = (
        f"this exact request already ran ({started.status}); nothing new was started. To run it again, POST it with ?attempt={attempt + 1}"
    )
    return _json(200, body, headers={"Location": url})


def _json(status: int, body: dict, headers: dict | None = None) -> dict:
    """A REST proxy integration answer: a compact JSON body, every header as a one-value list."""
    headers = {**(headers or {}), "Content-Type": "application/json"}
    return {
        "statusCode": status,
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
    }
