"""DbSetup phase: see analytics_provisioner.phases.dbsetup."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import dbsetup


@phase_handler("DbSetup")
def lambda_handler(event, context):
    return dbsetup.run(event)
