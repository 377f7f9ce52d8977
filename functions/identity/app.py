"""Identity phase: see analytics_provisioner.phases.identity."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import identity

lambda_handler = phase_handler("Identity", identity.run)
