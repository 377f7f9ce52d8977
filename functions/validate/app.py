"""Validate: schema, defaults and the read-only preflight. Creates nothing."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import validate

lambda_handler = phase_handler("Validate", validate.run)
