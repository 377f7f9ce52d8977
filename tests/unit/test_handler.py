"""The handler decorator: any failure leaves a function as a typed error that names its phase."""

import pytest

from analytics_provisioner.errors import InternalError, PreflightError
from analytics_provisioner.handler import phase_handler
from analytics_provisioner.local.lambda_hook import Context


def _failing(exc: Exception):
    @phase_handler("Storage")
    def handle(event, context):
        raise exc

    return handle


def test_an_unexpected_exception_becomes_an_internal_error_naming_its_type_not_its_message(caplog):
    with pytest.raises(InternalError) as raised:
        _failing(KeyError("s3cr3t-value"))({}, Context("StorageFunction", 30))
    assert str(raised.value).startswith("Storage: unexpected KeyError")
    assert "s3cr3t-value" not in str(raised.value) and "s3cr3t-value" not in caplog.text
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_typed_error_keeps_its_type_and_gains_the_phase():
    with pytest.raises(PreflightError, match="^Storage: bucket x is missing$"):
        _failing(PreflightError("bucket x is missing"))({}, Context("StorageFunction", 30))
