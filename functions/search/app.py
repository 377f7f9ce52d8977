"""Search phase: "ensure" starts the resource, "status" is one round of the state machine's poll loop."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import search

lambda_handler = phase_handler("Search", search.run, status=search.status)
