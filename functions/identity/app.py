"""Identity phase: see analytics_provisioner.phases.identity."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import identity


@phase_handler("Identity")
def lambda_handler(event, context):
    return identity.run(event)
