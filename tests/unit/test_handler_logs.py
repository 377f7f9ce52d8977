"""The functions' log lines: one JSON object each, with the invocation's Lambda context and the ``extra``
fields, and never the event."""

import io
import json

import pytest

from analytics_provisioner import handler
from analytics_provisioner.errors import PreflightError


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "NetworkFunction", 256, "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:NetworkFunction"


@pytest.fixture
def lines(monkeypatch):
    stream = io.StringIO()
    (stream_handler,) = handler.logger.handlers
    previous = stream_handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    stream_handler.setStream(previous)


def test_a_phase_logs_its_start_and_end_as_json_with_the_lambda_context(lines):
    @handler.phase_handler("Network")
    def run(event, context):
        return {"ok": True}

    assert run({"deployment_id": "acme-demo", "secret": "s3cr3t"}, Context()) == {"ok": True}
    started, finished = lines()
    assert started["message"] == "phase started" and started["phase"] == "Network" and started["level"] == "INFO"
    assert started["function_request_id"] == "req-1" and started["function_name"] == "NetworkFunction"
    assert started["service"] == "analytics-provisioner" and "timestamp" in started and "cold_start" in started
    assert finished["message"] == "phase finished" and finished["seconds"] >= 0
    assert "s3cr3t" not in json.dumps(lines())  # the event is never logged


def test_a_failure_is_logged_with_its_type_and_raised_named_after_the_phase(lines):
    @handler.phase_handler("Validate")
    def run(event, context):
        raise PreflightError("network.vpc_id: no such VPC")

    with pytest.raises(PreflightError, match="^Validate: network.vpc_id: no such VPC$"):
        run({}, Context())
    (failed,) = [line for line in lines() if line["message"] == "phase failed"]
    assert failed["error"] == "PreflightError" and failed["level"] == "WARNING"


def test_logging_the_event_is_refused():
    with pytest.raises(ValueError, match="never logged"):
        handler.logger.inject_lambda_context(log_event=True)


def test_the_api_logs_the_request_id_as_correlation_id(lines):
    @handler.logger.inject_lambda_context(correlation_id_path=handler.API_GATEWAY_REQUEST_ID)
    def api(event, context):
        handler.logger.info("answered")

    api({"requestContext": {"requestId": "gw-42"}}, Context())
    (line,) = lines()
    assert line["correlation_id"] == "gw-42"
