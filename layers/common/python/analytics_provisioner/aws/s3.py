"""S3 lookups."""

from botocore.exceptions import ClientError

from . import tags as tagging
from .clients import client
from .errors import error_code

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
