"""Teardown: delete what a deployment created, in dependency order; revert what existed before.

Only resources carrying the deployment's tag are deleted. What existed before is reverted, never
deleted: the EMR RDS group comes off the edxapp RDS instance, our statement comes out of the grades
bucket policy, the account-wide EMR roles and the per-VPC EMR security groups stay (our rules and
policy attachments come off them). Every step is an idempotent "ensure absent": re-running a
teardown, or running it after a failed provisioning, is safe.

Order (the state machine's): instances and Elastic IP -> start deleting the search domain and RDS
-> wait until instances, domain and RDS are gone -> buckets -> IAM -> secrets and key pairs ->
security groups last, after revoking cross-references.
"""

from .request import TeardownRequest, check

__all__ = ["TeardownRequest", "check"]
