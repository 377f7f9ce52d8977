"""Network phase: see analytics_provisioner.phases.network."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import network

lambda_handler = phase_handler("Network", network.run)
