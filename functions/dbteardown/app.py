"""Teardown's database step (in the VPC, like DbSetup): see analytics_provisioner.phases.teardown.dbsetup."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases.teardown import dbsetup
from analytics_provisioner.phases.teardown.request import TeardownRequest


@phase_handler("DbTeardown")
def lambda_handler(event, context):
    return dbsetup.run(TeardownRequest.from_event(event))
