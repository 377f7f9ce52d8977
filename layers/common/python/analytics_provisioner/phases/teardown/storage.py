"""Buckets: a teardown keeps data unless it is told to delete it.

- What the deployment itself wrote goes first: the pipeline's credentials files Render uploaded to
  the edxanalytics bucket (every version; the users they name are being deleted).
- The tracking-logs bucket, the LMS's raw event data, is kept even when the deployment created it,
  unless the request says ``delete_tracking_logs``; an adopted one is the site's and always stays.
- Any other bucket of ours that still holds objects is kept unless the request says ``delete_data``;
  empty ones are deleted. ``keep_data`` keeps every bucket and the secure-repo files.
- The output names every bucket kept and why (``buckets_kept``).
- The grades bucket only loses this deployment's statement; the deployment's secure-repo files (the
  credentials of what this teardown deletes) go unless ``keep_data``.
- One call deletes at most ``BATCH_VERSIONS`` object versions and answers ``more`` while some remain:
  the state machine calls again with the answer so far, so no bucket's size can time the function out.
"""

from ...aws import s3 as buckets
from ...aws import tags as tagging
from ...naming import EDXANALYTICS_CREDS, EDXAPP_CREDS
from ..storage import grades_download_statement, is_legacy_twin
from .request import TeardownRequest

KEEP_DATA = "keep_data: every bucket is kept"
TRACKING_LOGS = "the tracking-logs bucket (the LMS's raw event data): deleted only with delete_tracking_logs"
HOLDS_OBJECTS = "holds objects: deleted only with delete_data"
NOT_OURS = "the edxapp site's (adopted, not created by this deployment): never deleted"
BATCH_VERSIONS = 10_000  # 10 DeleteObjects calls of 1,000: seconds, far inside the function's timeout


def candidate_buckets(request: TeardownRequest) -> list[str]:
    names = request.deployment.names
    return [
        names.emr_bucket,
        names.emr_logs_bucket,
        names.edxanalytics_bucket,
        names.hadoop_bucket,
        names.reports_bucket,
        request.deployment.edxapp.tracking_logs_bucket,
    ]


def our_buckets(request: TeardownRequest) -> list[str]:
    return [name for name in dict.fromkeys(candidate_buckets(request)) if _is_ours(name, request)]


def adopted_tracking_logs(request: TeardownRequest, ours: list[str]) -> list[dict]:
    """The site's own tracking-logs bucket, which a teardown never touches (when it exists)."""
    tracking_logs, region = request.deployment.edxapp.tracking_logs_bucket, request.deployment.region
    if tracking_logs not in ours and isinstance(buckets.bucket_tags(tracking_logs, region), dict):
        return [{"bucket": tracking_logs, "reason": NOT_OURS}]
    return []


def preview(request: TeardownRequest) -> tuple[list[str], list[dict]]:
    """Read-only: the buckets this teardown would delete, and those it would keep with the reason (as
    their objects are now: the pipeline's credentials files it removes first still count here)."""
    ours = our_buckets(request)
    decisions = {name: _reason_to_keep(request, name) for name in ours}
    kept = adopted_tracking_logs(request, ours) + [{"bucket": name, "reason": reason} for name, reason in decisions.items() if reason]
    return [name for name, reason in decisions.items() if not reason], kept


def run(request: TeardownRequest, secure_repo_bucket: str, previous: dict | None = None) -> dict:
    """``secure_repo_bucket``: the stack's (``Settings.secure_repo_bucket``), where the deployment's prefix goes too."""
    """One turn of the emptying loop; ``previous`` is the last turn's answer (None on the first)."""
    deployment = request.deployment
    region = deployment.region
    ours = our_buckets(request)
    deleted, kept = list((previous or {}).get("buckets_deleted", [])), adopted_tracking_logs(request, ours)
    if not request.keep_data and deployment.names.edxanalytics_bucket in ours:
        for key in (EDXAPP_CREDS, EDXANALYTICS_CREDS):
            buckets.empty_bucket(deployment.names.edxanalytics_bucket, region, prefix=key, keys=(key,))
    plan = [(name, _reason_to_keep(request, name)) for name in ours]
    kept += [{"bucket": name, "reason": reason} for name, reason in plan if reason]
    budget = BATCH_VERSIONS
    for name in [name for name, reason in plan if not reason]:
        budget -= buckets.empty_bucket(name, region, limit=budget)
        if budget <= 0:
            return {"buckets_deleted": deleted, "buckets_kept": kept, "more": True}  # it may hold more: the next turn goes on
        buckets.delete_bucket(name, region)
        deleted.append(name)
    if (
        not request.keep_data
        and buckets.empty_bucket(secure_repo_bucket, region, prefix=deployment.names.secure_repo_prefix, limit=budget) >= budget
    ):
        return {"buckets_deleted": deleted, "buckets_kept": kept, "more": True}
    return {"buckets_deleted": deleted, "buckets_kept": kept, "grades_statement_removed": revert_grades_policy(request), "more": False}


def _reason_to_keep(request: TeardownRequest, name: str) -> str | None:
    if request.keep_data:
        return KEEP_DATA
    if name == request.deployment.edxapp.tracking_logs_bucket and not request.delete_tracking_logs:
        return TRACKING_LOGS
    if not request.delete_data and buckets.holds_objects(name, request.deployment.region):
        return HOLDS_OBJECTS
    return None


def _is_ours(name: str, request: TeardownRequest) -> bool:
    tags = buckets.bucket_tags(name, request.deployment.region)
    return isinstance(tags, dict) and tagging.belongs_to(tags, request.deployment.deployment_id)


def revert_grades_policy(request: TeardownRequest) -> bool:
    """Only this deployment's statement leaves the grades bucket's policy (and an earlier version's
    shared-Sid statement granting exactly the same): other deployments' statements stay."""
    deployment = request.deployment
    if not deployment.edxapp.grades_bucket:
        return False
    ours = grades_download_statement(deployment)
    removed = buckets.remove_policy_statements(
        deployment.edxapp.grades_bucket,
        deployment.region,
        lambda statement: statement.get("Sid") == ours["Sid"] or is_legacy_twin(statement, ours),
    )
    return bool(removed)
