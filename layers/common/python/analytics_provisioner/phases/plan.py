"""``plan``: Validate's schema check and read-only preflight, then every phase's read-only plan.

Raises what Validate raises (InputError, PreflightError, NotOptedInError, OwnershipError) for an input
the workflow would refuse, so a plan and an execution refuse alike. Every AWS call is a read
(Describe*, Get*, List*, Head*); MySQL is never reached. Returns ``plan.document``.
"""

from ..aws.errors import aws_call
from ..deployment import Deployment
from ..plan import Change, document
from . import compute, database, dbsetup, identity, network, render, search, storage, validate


def run(input_document: dict, default_region: str, secure_repo_bucket: str) -> dict:
    validated = validate.run(input_document, default_region)
    deployment = Deployment.from_state(validated["deployment"])
    with aws_call("plan the deployment"):
        phases = by_phase(deployment, secure_repo_bucket)
    return document(deployment.deployment_id, deployment.region, phases, validated["warnings"])


def by_phase(deployment: Deployment, secure_repo_bucket: str) -> list[tuple[str, list[Change]]]:
    """In the workflow's order, under its state names: Identity, Network, the four parallel branches, Render."""
    return [
        ("Ensure IAM roles and users", identity.plan(deployment)),
        ("Ensure network and security groups", network.plan(deployment)),
        ("Create search domain", search.plan(deployment)),
        ("Create analytics RDS instance", database.plan(deployment)),
        ("Create databases and users", dbsetup.plan(deployment)),
        ("Ensure S3 buckets", storage.plan(deployment)),
        ("Launch instances", compute.plan(deployment)),
        ("Render secure-repo files", render.plan(deployment, secure_repo_bucket)),
    ]
