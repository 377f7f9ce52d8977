"""DbSetup phase: see analytics_provisioner.phases.dbsetup."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import dbsetup

lambda_handler = phase_handler("DbSetup", dbsetup.run)
