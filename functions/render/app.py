"""Render phase: see analytics_provisioner.phases.render."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import render

lambda_handler = phase_handler("Render", render.run)
