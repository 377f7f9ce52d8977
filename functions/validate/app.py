"""Validate: schema, defaults and the read-only preflight. Creates nothing."""

from analytics_provisioner.handler import default_region, phase_handler
from analytics_provisioner.phases import validate


@phase_handler("Validate")
def lambda_handler(event, context):
    return validate.run(event, default_region())
