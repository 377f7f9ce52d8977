"""Canary: local mode patches a private moto API. If moto changes, this fails loudly, first."""

import json

from analytics_provisioner.local.emulator import Emulator
from analytics_provisioner.local.lambda_hook import LambdaHook
from analytics_provisioner.local.runner import execute


def test_the_lambda_hook_runs_our_handler_and_reports_errors_like_lambda(monkeypatch):
    with Emulator() as emu:
        assert isinstance(emu.hook, LambdaHook)
        calls = []
        emu.hook.before_invoke.append(lambda name, event: calls.append(name))
        result = execute(emu, {"deployment_id": "Not Valid"}, name="canary")
        assert calls and calls[0] == "ValidateFunction", "moto no longer routes Lambda tasks through LambdaSimpleBackend.invoke"
        assert result.status == "FAILED"
        assert result.error == "Validate.InputError", result.error
        assert "deployment_id: 'Not Valid' is not valid" in result.cause


def test_interpreter_executes_and_waits_are_scaled():
    with Emulator() as emu:
        sfn = emu.client("stepfunctions")
        definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "Next": "P"}, "P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}
        arn = sfn.create_state_machine(name="canary-wait", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/x")["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, name="c1", input="{}")["executionArn"]
        from analytics_provisioner.execution import follow

        described, _ = follow(sfn, execution, timeout_seconds=30)
        assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"ok": True}
