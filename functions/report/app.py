"""Failure report: what failed, why, and what exists; written next to the secure-repo files."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import report


@phase_handler("Report")
def lambda_handler(event, context):
    return report.run(event)
