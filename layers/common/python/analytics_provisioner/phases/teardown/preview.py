"""What a teardown would delete, revert and keep, found by tag and read-only lookups before anything
starts: what ``analytics-provisioner teardown`` shows the operator to confirm."""

from ...aws import tags
from ...aws.clients import partition
from . import database, storage
from .request import TeardownRequest


def preview(request: TeardownRequest) -> dict:
    deployment = request.deployment
    region, names = deployment.region, deployment.names
    buckets_deleted, buckets_kept = storage.preview(request)
    kept_arns = {f"arn:{partition(region)}:s3:::{kept['bucket']}" for kept in buckets_kept}
    keep = [{"what": f"bucket {kept['bucket']}", "reason": kept["reason"]} for kept in buckets_kept]
    if request.final_snapshot:
        keep += [
            {"what": f"a final snapshot of RDS instance {instance['DBInstanceIdentifier']}", "reason": "final_snapshot (the default)"}
            for instance in database.our_instances(request)
        ]
    if request.keep_data:
        keep.append({"what": f"the secure-repo files under {names.secure_repo_prefix}", "reason": storage.KEEP_DATA})
    revert = []
    if deployment.edxapp.grades_bucket:
        revert.append(
            f"bucket policy of {deployment.edxapp.grades_bucket}: only this deployment's statement {names.grades_policy_sid} goes"
        )
    if deployment.edxapp.db_instance_id:
        revert.append(f"RDS instance {deployment.edxapp.db_instance_id}: the deployment's security groups come off it")
    delete = [arn for arn in tags.tagged_arns(region, deployment.deployment_id) if arn not in kept_arns and ":snapshot:" not in arn]
    return {
        "deployment_id": deployment.deployment_id,
        "delete": delete,
        "revert": revert,
        "keep": keep,
        "also_deleted": "IAM roles, users, policies and instance profiles named after the deployment, its secrets and key pairs",
        "buckets_deleted": buckets_deleted,
    }
