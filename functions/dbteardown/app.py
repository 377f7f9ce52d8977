"""Teardown's database step (in the VPC, like DbSetup): see analytics_provisioner.phases.teardown.databases."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases.teardown import databases
from analytics_provisioner.phases.teardown.request import TeardownRequest


@phase_handler("DbTeardown")
def lambda_handler(event, context):
    return databases.run(TeardownRequest.from_event(event))
