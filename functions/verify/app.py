"""Verify phase: the runbook's network paths on what AWS describes; "status" is one round of the RDS test's poll loop."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import verify

lambda_handler = phase_handler("Verify", verify.run, status=verify.status)
