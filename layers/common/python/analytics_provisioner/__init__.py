"""analytics-provisioner: the edX analytics AWS runbook as a Step Functions workflow."""

__version__ = "0.1.0"
TOOL_NAME = "analytics-provisioner"
