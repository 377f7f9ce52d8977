"""Compute phase: see analytics_provisioner.phases.compute."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import compute


@phase_handler("Compute")
def lambda_handler(event, context):
    return compute.run(event)
