"""Compute phase: see analytics_provisioner.phases.compute."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import compute

lambda_handler = phase_handler("Compute", compute.run)
