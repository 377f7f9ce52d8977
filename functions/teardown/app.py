"""Teardown: one action per state of the teardown state machine (see phases/teardown)."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases.teardown import steps

lambda_handler = phase_handler("Teardown", steps.run)
