"""Storage: the runbook's S3 buckets and the grades-download statement on the edxapp bucket.

Buckets (runbook, "Create the required S3 buckets"): the EMR bucket (+ an optional separate EMR-logs
bucket), the edxanalytics bucket (+ an optional separate hadoop bucket), the reports bucket (only
with features.reports), and the tracking-logs bucket, which usually exists already: adopted as it is
when it does, created otherwise. Every bucket we create is tagged, blocks public access, encrypts by
default, refuses plain HTTP and disables ACLs. The grades bucket is the edxapp site's: we only merge
one statement, by its Sid, into its policy.
"""

from ..aws import account, s3
from ..aws import tags as tagging
from ..aws.errors import aws_call
from ..deployment import Deployment, ResolvedDeployment
from ..errors import OwnershipError, PreflightError
from ..naming import LEGACY_GRADES_POLICY_SID, is_valid_bucket_name
from ..plan import Change, create, keep, modify
from ..state import BucketNames, StorageOutput
from . import polling

CREATED, ADOPTED = "created", "adopted"
GRADES_PREFIX = "grades-download/"


def run(deployment: ResolvedDeployment) -> StorageOutput:
    buckets = bucket_names(deployment)
    check_bucket_names(buckets)
    outcome: dict[str, list[str]] = {CREATED: [], ADOPTED: []}
    with aws_call("ensure S3 buckets"):
        for name in our_buckets(buckets):
            outcome[ensure_our_bucket(deployment, name)].append(name)
        outcome[ensure_tracking_logs_bucket(deployment)].append(buckets["tracking_logs"])
        grades_sid = ensure_grades_download_statement(deployment)
    return StorageOutput(buckets=BucketNames(**buckets), created=outcome[CREATED], adopted=outcome[ADOPTED], grades_policy_sid=grades_sid)


def bucket_names(deployment: Deployment) -> dict:
    """Role -> bucket. Without a separate bucket, EMR logs go to the EMR bucket and hadoop data to edxanalytics."""
    names, options = deployment.names, deployment.options
    return {
        "emr": names.emr_bucket,
        "emr_logs": names.emr_logs_bucket if options.separate_emr_logs_bucket else names.emr_bucket,
        "edxanalytics": names.edxanalytics_bucket,
        "hadoop": names.hadoop_bucket if options.separate_hadoop_bucket else names.edxanalytics_bucket,
        "reports": names.reports_bucket if deployment.features.reports else None,
        "tracking_logs": deployment.edxapp.tracking_logs_bucket,
    }


def our_buckets(buckets: dict) -> list[str]:
    roles = ("emr", "emr_logs", "edxanalytics", "hadoop", "reports")
    return list(dict.fromkeys(buckets[role] for role in roles if buckets[role]))


def check_bucket_names(buckets: dict) -> None:
    for role, name in buckets.items():
        if name and not is_valid_bucket_name(name):
            field = "edxapp.tracking_logs_bucket" if role == "tracking_logs" else "deployment_id"
            raise PreflightError(f"{field}: the bucket name {name!r} breaks the S3 naming rules; choose another {field}")


def ensure_our_bucket(deployment: Deployment, name: str) -> str:
    tags = s3.bucket_tags(name, deployment.region)
    if tags == s3.ABSENT and create_secure_bucket(deployment, name):
        return CREATED
    tags = existing_tags(deployment, name, tags)
    if not isinstance(tags, dict):  # FOREIGN_ACCOUNT
        raise OwnershipError(
            f"S3 bucket {name!r} exists and is not ours (another AWS account); delete or rename it, or choose another deployment_id"
        )
    tagging.require_ours(tags, deployment.deployment_id, f"S3 bucket {name!r}")
    secure(name, deployment.region)
    return ADOPTED


def ensure_tracking_logs_bucket(deployment: Deployment) -> str:
    """Created with the full treatment when missing; an existing one is the edxapp site's and stays untouched."""
    name, region = deployment.edxapp.tracking_logs_bucket, deployment.region
    tags = s3.bucket_tags(name, region)
    if tags == s3.ABSENT and create_secure_bucket(deployment, name):
        return CREATED
    tags = existing_tags(deployment, name, tags)
    if not isinstance(tags, dict):  # FOREIGN_ACCOUNT
        raise PreflightError(tracking_logs_unreadable(name))
    if tagging.belongs_to(tags, deployment.deployment_id):
        secure(name, region)
    else:
        s3.require_opted_in(name, tags, deployment.deployment_id, "edxapp.tracking_logs_bucket")
    return ADOPTED


def tracking_logs_unreadable(name: str) -> str:
    return f"edxapp.tracking_logs_bucket: bucket {name} exists but this account cannot read it; grant this account access or name the right bucket"


def grades_bucket_missing(name: str) -> str:
    return f"edxapp.grades_bucket: bucket {name} does not exist or this account cannot read it; give the bucket EDXAPP_GRADE_BUCKET names"


def create_secure_bucket(deployment: Deployment, name: str) -> bool:
    """False when S3 answers that this account has the bucket already (then it is looked at as found)."""
    if not s3.create_bucket(name, deployment.region, tagging.ours(deployment.deployment_id)):
        return False
    secure(name, deployment.region)
    return True


def existing_tags(deployment: Deployment, name: str, tags: dict | str) -> dict | str:
    """``bucket_tags``' answer for a bucket that exists: read again when the first look missed it (S3
    answered BucketAlreadyOwnedByYou), until it shows."""
    if tags != s3.ABSENT:
        return tags
    [found] = polling.until_found(
        lambda: None if (read := s3.bucket_tags(name, deployment.region)) == s3.ABSENT else [read],
        f"S3 bucket {name!r}",
        "S3 answered BucketAlreadyOwnedByYou",
    )
    return found


def secure(name: str, region: str) -> None:
    """Converge one of our buckets to the secure settings; writes only what differs."""
    s3.block_public_access(name, region)
    s3.encrypt_by_default(name, region)
    s3.enforce_owner(name, region)
    s3.merge_policy_statements(name, region, [s3.tls_only_statement(name, region)])


def ensure_grades_download_statement(deployment: Deployment) -> str | None:
    """The runbook's grades-download permission: the edxapp user may read grades-download/* (merged by
    the deployment's own Sid; the statement an earlier version wrote under the shared Sid, granting
    exactly the same, is replaced by it)."""
    if deployment.edxapp.grades_download is None:
        return None
    bucket, user_arn = deployment.edxapp.grades_download
    tags = s3.bucket_tags(bucket, deployment.region)
    if not isinstance(tags, dict):  # ABSENT or FOREIGN_ACCOUNT
        raise PreflightError(grades_bucket_missing(bucket))
    s3.require_opted_in(bucket, tags, deployment.deployment_id, "edxapp.grades_bucket")
    account.require_this_account(user_arn, deployment.region, "edxapp.aws_user_arn")
    statement = grades_download_statement(deployment)
    s3.merge_policy_statements(bucket, deployment.region, [statement], drop=lambda existing: is_legacy_twin(existing, statement))
    return statement["Sid"]


def grades_download_statement(deployment: Deployment) -> dict:
    if deployment.edxapp.grades_download is None:
        raise ValueError("the input names no edxapp.grades_bucket: there is no grades-download statement")  # callers check first
    bucket, user_arn = deployment.edxapp.grades_download
    return {
        "Sid": deployment.names.grades_policy_sid,
        "Effect": "Allow",
        "Principal": {"AWS": user_arn},
        "Action": "s3:GetObject",
        "Resource": s3.bucket_arn(bucket, deployment.region, GRADES_PREFIX + "*"),
    }


def is_legacy_twin(existing: dict, statement: dict) -> bool:
    """The shared-Sid statement of an earlier version that grants exactly what ``statement`` grants."""

    def without_sid(s: dict) -> dict:
        return {key: value for key, value in s.items() if key != "Sid"}

    return existing.get("Sid") == LEGACY_GRADES_POLICY_SID and without_sid(existing) == without_sid(statement)


# The plan: what run() would do, found with reads only ---------------------------------------------
SECURE = "tagged, private, encrypted, TLS only, ACLs off"


def plan(deployment: Deployment) -> list[Change]:
    buckets, region = bucket_names(deployment), deployment.region
    changes = [plan_our_bucket(name, s3.bucket_tags(name, region), region) for name in our_buckets(buckets)]
    tracking = buckets["tracking_logs"]
    tags = s3.bucket_tags(tracking, region)
    if tags == s3.ABSENT or (isinstance(tags, dict) and tagging.belongs_to(tags, deployment.deployment_id)):
        changes.append(plan_our_bucket(tracking, tags, region))
    else:
        changes.append(keep("S3 bucket", tracking, "the edxapp site's tracking logs, opted in: used as it is"))
    if deployment.edxapp.grades_download:
        changes.append(plan_grades_download_statement(deployment, deployment.edxapp.grades_download[0]))
    return changes


def plan_our_bucket(name: str, tags, region: str) -> Change:
    if tags == s3.ABSENT:
        return create("S3 bucket", name, SECURE)
    unset = unsecured(name, region)
    return (
        modify("S3 bucket", name, "exists and is ours; converged: " + ", ".join(unset))
        if unset
        else keep("S3 bucket", name, f"exists and is ours, {SECURE}")
    )


def unsecured(name: str, region: str) -> list[str]:
    """What ``secure`` would change on the bucket."""
    checks = {
        "public access blocked": s3.public_access_blocked,
        "default encryption": s3.encrypts_by_default,
        "ACLs off": s3.owner_enforced,
        "TLS-only statement": lambda bucket, where: s3.merged_policy(bucket, where, [s3.tls_only_statement(bucket, where)]) is None,
    }
    return [setting for setting, holds in checks.items() if not holds(name, region)]


def plan_grades_download_statement(deployment: Deployment, bucket: str) -> Change:
    statement = grades_download_statement(deployment)
    kind, name = "bucket policy statement", f"{bucket} {statement['Sid']}"
    existing = {found.get("Sid"): found for found in s3.policy_statements(bucket, deployment.region)}
    if existing.get(statement["Sid"]) == statement:
        return keep(kind, name, f"{deployment.edxapp.aws_user_arn} may read {GRADES_PREFIX}*; the bucket's other statements stay")
    if statement["Sid"] in existing:
        return modify(kind, name, "differs: replaced by Sid; the bucket's other statements stay")
    twin = LEGACY_GRADES_POLICY_SID in existing and is_legacy_twin(existing[LEGACY_GRADES_POLICY_SID], statement)
    return create(
        kind,
        name,
        f"{deployment.edxapp.aws_user_arn} may read {GRADES_PREFIX}*; "
        + ("replaces an earlier version's identical shared-Sid statement" if twin else "the bucket's other statements stay"),
    )
