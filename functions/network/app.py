"""Network phase: see analytics_provisioner.phases.network."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import network


@phase_handler("Network")
def lambda_handler(event, context):
    return network.run(event)
