"""Render phase: see analytics_provisioner.phases.render."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import render


@phase_handler("Render")
def lambda_handler(event, context):
    return render.run(event)
