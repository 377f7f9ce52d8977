"""``plan``: Validate's schema check and read-only preflight, then every phase's read-only plan.

Raises what Validate raises (InputError, PreflightError, NotOptedInError, OwnershipError) for an input
the workflow would refuse, so a plan and an execution refuse alike. Every AWS call is a read
(Describe*, Get*, List*, Head*); MySQL is never reached. Returns ``plan.document``.
"""

import dataclasses

from ..aws.errors import aws_call
from ..deployment import ResolvedDeployment
from ..plan import Change, document
from ..settings import Settings
from . import compute, database, dbsetup, identity, network, render, search, storage, validate


def run(input_document: dict, default_region: str, secure_repo_bucket: str) -> dict:
    """The stack's other settings (the DbSetup group, trusted image owners) from the environment, as the functions read them."""
    settings = dataclasses.replace(Settings.from_environ(), region=default_region, secure_repo_bucket=secure_repo_bucket)
    validated = validate.run(input_document, settings)
    with aws_call("plan the deployment"):
        phases = by_phase(validated.deployment, settings)
    return document(validated.deployment.deployment_id, validated.deployment.region, phases, validated.warnings)


def by_phase(deployment: ResolvedDeployment, settings: Settings) -> list[tuple[str, list[Change]]]:
    """In the workflow's order, under its state names: Identity, Network, the four parallel branches, Render."""
    return [
        ("Ensure IAM roles and users", identity.plan(deployment)),
        ("Ensure network and security groups", network.plan(deployment, settings.db_setup_security_group_id)),
        ("Create search domain", search.plan(deployment)),
        ("Create analytics RDS instance", database.plan(deployment)),
        ("Create databases and users", dbsetup.plan(deployment)),
        ("Ensure S3 buckets", storage.plan(deployment)),
        ("Launch instances", compute.plan(deployment)),
        ("Render secure-repo files", render.plan(deployment, settings.secure_repo_bucket)),
    ]
