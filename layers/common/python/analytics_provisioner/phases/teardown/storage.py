"""Buckets: emptied (every version) and deleted unless the request keeps data; the grades bucket
only loses our statement; the deployment's secure-repo files go too unless data is kept."""

import os

from ...aws import s3 as buckets
from ...aws import tags as tagging
from ...aws.clients import client
from ..storage import grades_download_statement, is_legacy_twin
from .request import TeardownRequest


def candidate_buckets(request: TeardownRequest) -> list[str]:
    names = request.deployment.names
    return [names.emr_bucket, names.emr_logs_bucket, names.edxanalytics_bucket, names.hadoop_bucket,
            names.reports_bucket, request.deployment.edxapp.tracking_logs_bucket]


def run(request: TeardownRequest) -> dict:
    deployment = request.deployment
    ours = [name for name in dict.fromkeys(candidate_buckets(request)) if _is_ours(name, request)]
    deleted, kept = [], []
    for name in ours:
        if request.keep_data:
            kept.append(name)
            continue
        empty(name, deployment.region)
        client("s3", deployment.region).delete_bucket(Bucket=name)
        deleted.append(name)
    if not request.keep_data:
        empty(os.environ["SECURE_REPO_BUCKET"], deployment.region, prefix=deployment.names.secure_repo_prefix)
    return {"buckets_deleted": deleted, "buckets_kept": kept, "grades_statement_removed": revert_grades_policy(request)}


def _is_ours(name: str, request: TeardownRequest) -> bool:
    tags = buckets.bucket_tags(name, request.deployment.region)
    return isinstance(tags, dict) and tagging.belongs_to(tags, request.deployment.deployment_id)


def empty(bucket: str, region: str, prefix: str = "") -> int:
    """Delete every object version and delete marker (under ``prefix``)."""
    s3, removed = client("s3", region), 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        batch = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if batch:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            removed += len(batch)
    return removed


def revert_grades_policy(request: TeardownRequest) -> bool:
    """Only this deployment's statement leaves the grades bucket's policy (and an earlier version's
    shared-Sid statement granting exactly the same): other deployments' statements stay."""
    deployment = request.deployment
    if not deployment.edxapp.grades_bucket:
        return False
    ours = grades_download_statement(deployment)
    removed = buckets.remove_policy_statements(
        deployment.edxapp.grades_bucket, deployment.region,
        lambda statement: statement.get("Sid") == ours["Sid"] or is_legacy_twin(statement, ours))
    return bool(removed)
