"""Teardown: one action per state of the teardown state machine (see phases/teardown)."""

from analytics_provisioner.handler import default_region, phase_handler
from analytics_provisioner.phases.teardown import steps


@phase_handler("Teardown")
def lambda_handler(event, context):
    return steps.run(event, default_region())
