"""Deployment lock: taken by the first state of both state machines, released by their last states
and, for every ended execution, by the EventBridge rule on Step Functions status changes (see locking)."""

from analytics_provisioner import locking
from analytics_provisioner.handler import phase_handler

lambda_handler = phase_handler("Lock", locking.handle)
