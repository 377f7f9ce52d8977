"""Teardown: delete what a deployment created, in dependency order; revert what existed before.

Only resources carrying the deployment's tag are deleted. What existed before is reverted, never
deleted: the EMR RDS group comes off the edxapp RDS instance, our statement comes out of the grades
bucket policy, the account-wide EMR roles and the per-VPC EMR security groups stay (our rules and
policy attachments come off them). Every step is an idempotent "ensure absent": re-running a
teardown, or running it after a failed provisioning, is safe.

Each module undoes the phase of the same name (``teardown/database.py`` undoes ``phases/database.py``;
``secrets.py`` schedules the secrets every phase wrote); ``steps.py`` makes the state machine's steps
of them, and every AWS call goes through an aws/ helper beside the create it undoes
(docs/where-things-live.md).

Order (the state machine's): MySQL users (dbsetup, its own function in the VPC) -> Elastic IPs and
instances (compute) -> start deleting the EMR clusters, the search domain and the RDS instances
(compute, search, database) -> wait until all of them and the instances are gone -> buckets
(storage) -> IAM (identity) -> key pairs and secrets (compute, secrets) -> DB subnet groups and
security groups last, after revoking cross-references (database, network).
"""

from .request import TeardownRequest, check

__all__ = ["TeardownRequest", "check"]
