"""Storage phase: see analytics_provisioner.phases.storage."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import storage

lambda_handler = phase_handler("Storage", storage.run)
