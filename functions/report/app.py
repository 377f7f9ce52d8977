"""Failure report: what failed, why, and what exists; written next to the secure-repo files."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import report

lambda_handler = phase_handler("Report", report.run)
