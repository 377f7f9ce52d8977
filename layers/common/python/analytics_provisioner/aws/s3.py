"""S3 lookups, the settings of the buckets we create, and the objects we write."""

import hashlib
import json
import shlex
from collections.abc import Callable

from botocore.exceptions import ClientError

from .. import naming, policies
from . import tags as tagging
from .clients import client, partition
from .errors import absent_on, error_code, gone_is_success, unless_exists

ABSENT, FOREIGN_ACCOUNT = "absent", "foreign-account"


def bucket_tags(name: str, region: str) -> dict | str:
    """The bucket's tags; ABSENT when no bucket has the name; FOREIGN_ACCOUNT when another account owns it."""
    s3 = client("s3", region)
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as exc:
        code = error_code(exc)
        if code in ("404", "NoSuchBucket", "NotFound"):
            return ABSENT
        if code in ("403", "AccessDenied", "Forbidden"):
            return FOREIGN_ACCOUNT
        raise
    try:
        return tagging.from_list(s3.get_bucket_tagging(Bucket=name)["TagSet"])
    except ClientError as exc:
        if error_code(exc) == "NoSuchTagSet":
            return {}
        raise


# --- buckets the input names: used only when their owner opted them in -----------------------------
COMMAND_TAGS_LIMIT = 1500  # characters of current tags the opt-in command may carry


def opt_in_command(name: str, tags: dict[str, str], value: str) -> str:
    """PutBucketTagging replaces the bucket's whole tag set: the command puts the current tags back with the allow tag."""
    kept = {key: tag for key, tag in tags.items() if key != naming.TAG_ALLOW}
    tag_set = json.dumps({"TagSet": tagging.as_list({**kept, naming.TAG_ALLOW: value})}, separators=(",", ":"))
    if len(tag_set) > COMMAND_TAGS_LIMIT:
        return (
            f'aws s3api get-bucket-tagging --bucket {name}, add {{"Key":"{naming.TAG_ALLOW}","Value":"{value}"}} to its '
            f"TagSet, and put the whole set back with aws s3api put-bucket-tagging --bucket {name} --tagging '<that JSON>' "
            "(put-bucket-tagging replaces all of a bucket's tags)"
        )
    kept_now = f"this command puts its {len(kept)} current tag(s) back with the new one" if kept else "it has none now"
    return (
        f"aws s3api put-bucket-tagging --bucket {name} --tagging {shlex.quote(tag_set)} "
        f"(put-bucket-tagging replaces all of a bucket's tags: {kept_now})"
    )


def require_opted_in(name: str, tags: dict[str, str], deployment_id: str, field: str) -> None:
    """NotOptedInError unless the bucket's owner tagged it for this deployment (``tags``: ``bucket_tags``' answer)."""
    tagging.require_opted_in(tags, deployment_id, field, f"S3 bucket {name!r}", lambda value: opt_in_command(name, tags, value))


# --- buckets we create: created tagged, then converged to the secure settings --------------------
PUBLIC_ACCESS_BLOCKED = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
OWNER_ENFORCED = "BucketOwnerEnforced"
TLS_ONLY_SID = "DenyInsecureTransport"
ENCRYPTING_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
NEW_POLICY_VERSION = "2012-10-17"


def bucket_arn(name: str, region: str, key: str = "") -> str:
    return policies.bucket_arn(partition(region), name) + (f"/{key}" if key else "")


def create_bucket(name: str, region: str, tags: dict[str, str]) -> bool:
    """Create with ACLs disabled (owner enforced) and tagged in the same call: the tag is what makes it
    ours on a re-run, so no moment may show it untagged (a re-run would refuse its own bucket). False
    when this account has a bucket of the name already (BucketAlreadyOwnedByYou, outside us-east-1: the
    SDK retried a call whose answer was lost, or a look-up moments before did not show it)."""
    configuration: dict[str, object] = {"Tags": tagging.as_list(tags)}
    if region != "us-east-1":  # us-east-1 takes no LocationConstraint
        configuration["LocationConstraint"] = region
    s3 = client("s3", region)
    created = unless_exists(
        lambda: s3.create_bucket(Bucket=name, ObjectOwnership=OWNER_ENFORCED, CreateBucketConfiguration=configuration),
        "BucketAlreadyOwnedByYou",
    )
    return created is not None


def holds_objects(name: str, region: str) -> bool:
    """True when any object version is stored (current or not); delete markers alone hold no data."""
    pages = client("s3", region).get_paginator("list_object_versions").paginate(Bucket=name)
    return any(page.get("Versions") for page in pages)


def empty_bucket(name: str, region: str, prefix: str = "", keys: tuple[str, ...] | None = None, limit: int | None = None) -> int:
    """Delete every object version and delete marker (under ``prefix``; of exactly ``keys`` when given),
    or, with ``limit``, about that many (whole pages): the caller asks again while the answer reaches
    ``limit``. Returns how many were deleted.

    Each page is listed afresh once the last one is deleted (past the last key kept, when ``keys``
    keeps some): never from a marker naming a version this call deleted, where moto lists nothing
    (the turn ended early and DeleteBucket met BucketNotEmpty)."""
    s3, removed = client("s3", region), 0
    after: dict[str, str] = {}
    page_size = min(limit, 1000) if limit else 1000  # DeleteObjects takes 1,000 keys at most
    while True:
        page = s3.list_object_versions(Bucket=name, Prefix=prefix, MaxKeys=page_size, **after)
        listed = page.get("Versions", []) + page.get("DeleteMarkers", [])
        batch = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in listed if keys is None or v["Key"] in keys]
        if batch:
            s3.delete_objects(Bucket=name, Delete={"Objects": batch, "Quiet": True})
            removed += len(batch)
        if not page.get("IsTruncated") or (limit is not None and removed >= limit):
            return removed
        kept = [v["Key"] for v in listed if keys is not None and v["Key"] not in keys]
        after = {"KeyMarker": max(kept)} if kept else after


def delete_bucket(name: str, region: str) -> bool:
    """``create_bucket``'s partner, for an emptied bucket; False when it was already gone."""
    return gone_is_success(lambda: client("s3", region).delete_bucket(Bucket=name), "NoSuchBucket")


def public_access_blocked(name: str, region: str) -> bool:
    s3 = client("s3", region)
    current = absent_on(
        lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"], "NoSuchPublicAccessBlockConfiguration"
    )
    return current == PUBLIC_ACCESS_BLOCKED


def block_public_access(name: str, region: str) -> bool:
    """All four Block Public Access flags on; True when this call changed them."""
    if public_access_blocked(name, region):
        return False
    client("s3", region).put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCKED)
    return True


def encrypts_by_default(name: str, region: str) -> bool:
    s3 = client("s3", region)
    rules = absent_on(
        lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"],
        "ServerSideEncryptionConfigurationNotFoundError",
    )
    return any(rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") in ENCRYPTING_ALGORITHMS for rule in rules or [])


def encrypt_by_default(name: str, region: str) -> bool:
    """SSE-S3 unless the bucket already encrypts by default (a KMS setting is kept); True when changed."""
    if encrypts_by_default(name, region):
        return False
    client("s3", region).put_bucket_encryption(
        Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    )
    return True


def owner_enforced(name: str, region: str) -> bool:
    s3 = client("s3", region)
    rules = absent_on(lambda: s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"], "OwnershipControlsNotFoundError")
    return rules == [{"ObjectOwnership": OWNER_ENFORCED}]


def enforce_owner(name: str, region: str) -> bool:
    """Object ownership BucketOwnerEnforced (ACLs disabled); True when changed."""
    if owner_enforced(name, region):
        return False
    client("s3", region).put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": OWNER_ENFORCED}]})
    return True


def tls_only_statement(name: str, region: str) -> dict:
    return {
        "Sid": TLS_ONLY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn(name, region), bucket_arn(name, region, "*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def bucket_policy(name: str, region: str) -> dict | None:
    s3 = client("s3", region)
    text = absent_on(lambda: s3.get_bucket_policy(Bucket=name)["Policy"], "NoSuchBucketPolicy")
    return None if text is None else json.loads(text)


def policy_statements(name: str, region: str) -> list[dict]:
    """The statements of the bucket's policy ([] without a policy)."""
    return _statements(bucket_policy(name, region) or {})


def _statements(policy: dict) -> list[dict]:
    existing = policy.get("Statement", [])
    return [existing] if isinstance(existing, dict) else list(existing)


def merge_policy_statements(name: str, region: str, statements: list[dict], drop: Callable[[dict], bool] | None = None) -> bool:
    """Put ``statements`` into the bucket policy by ``Sid``: a statement with the same Sid is replaced in
    place, every other statement (except those ``drop`` picks), the Version and the Id are kept
    (PutBucketPolicy replaces the whole document). True when the policy changed; an identical policy is
    not written again."""
    merged = merged_policy(name, region, statements, drop)
    if merged is None:
        return False
    client("s3", region).put_bucket_policy(Bucket=name, Policy=json.dumps(merged))
    return True


def merged_policy(name: str, region: str, statements: list[dict], drop: Callable[[dict], bool] | None = None) -> dict | None:
    """The policy ``merge_policy_statements`` would write, or None when the bucket's policy already is it."""
    current = bucket_policy(name, region)
    policy = current or {"Version": NEW_POLICY_VERSION, "Statement": []}
    existing = _statements(policy)
    ours = {statement["Sid"]: statement for statement in statements}
    merged = [
        ours.get(statement.get("Sid"), statement)
        for statement in existing
        if statement.get("Sid") in ours or not (drop and drop(statement))
    ]
    present = {statement.get("Sid") for statement in existing}
    merged += [statement for sid, statement in ours.items() if sid not in present]
    if current is not None and merged == existing:
        return None
    return {**policy, "Statement": merged}


def remove_policy_statements(name: str, region: str, unwanted: Callable[[dict], bool]) -> list[str]:
    """``merge_policy_statements``' partner: take the statements ``unwanted`` picks out of the bucket
    policy, keeping every other statement, the Version and the Id; the policy is deleted when nothing
    is left. Returns the Sids removed; a bucket or policy that is gone removes nothing."""
    s3 = client("s3", region)
    text = absent_on(lambda: s3.get_bucket_policy(Bucket=name)["Policy"], "NoSuchBucketPolicy", "NoSuchBucket")
    if text is None:
        return []
    policy = json.loads(text)
    existing = _statements(policy)
    kept = [statement for statement in existing if not unwanted(statement)]
    if len(kept) == len(existing):
        return []
    if kept:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({**policy, "Statement": kept}))
    else:
        gone_is_success(lambda: s3.delete_bucket_policy(Bucket=name), "NoSuchBucket")
    return [statement.get("Sid", "") for statement in existing if unwanted(statement)]


# --- objects: the secure-repo files and the pipeline's credentials files ----------------------------
def head(bucket: str, key: str, region: str) -> dict | None:
    """The object's metadata, or None when it (or its bucket) does not exist."""
    return absent_on(lambda: client("s3", region).head_object(Bucket=bucket, Key=key), "404", "NoSuchKey", "NotFound", "NoSuchBucket")


def put_if_changed(bucket: str, key: str, body: bytes, region: str, content_type: str) -> dict:
    """Store ``body`` unless the object already holds exactly it (a re-run adds no version).

    The bucket's default encryption applies. Returns {"uri", "version_id", "changed"}.
    """
    digest = hashlib.sha256(body).hexdigest()
    current = head(bucket, key, region)
    if current is not None and current.get("Metadata", {}).get("sha256") == digest:
        return {"uri": f"s3://{bucket}/{key}", "version_id": current.get("VersionId"), "changed": False}
    stored = client("s3", region).put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata={"sha256": digest})
    return {"uri": f"s3://{bucket}/{key}", "version_id": stored.get("VersionId"), "changed": True}


def put_json(bucket: str, key: str, document: dict, region: str) -> str:
    """Store ``document`` as indented JSON (what JSON lacks, such as datetimes, as text); returns its S3 URI."""
    body = json.dumps(document, indent=2, default=str).encode()
    client("s3", region).put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return f"s3://{bucket}/{key}"


def delete_if_present(bucket: str, key: str, region: str) -> bool:
    """``put_if_changed``'s partner; False when the object (or its bucket) was already gone. S3 answers
    success for a key that does not exist, so only the bucket can be "gone"."""
    if head(bucket, key, region) is None:
        return False
    return gone_is_success(lambda: client("s3", region).delete_object(Bucket=bucket, Key=key), "NoSuchBucket")
