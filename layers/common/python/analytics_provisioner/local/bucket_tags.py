"""AWS rule: CreateBucket applies the tags of ``CreateBucketConfiguration`` with the bucket.

S3 takes tags at creation (``CreateBucketConfiguration.Tags``, s3:TagResource), so a bucket is never
seen without them; moto ignores them. Without this rule a bucket we create tagged would look foreign
to every later lookup, and with it gone the code would have to tag in a second call, leaving an
untagged bucket whenever it stops between the two (a re-run then refuses its own bucket).
"""

import threading

import xmltodict
from moto.s3.models import S3Backend
from moto.s3.responses import S3Response

_creating = threading.local()  # moto handles a request in the caller's thread
_ORIGINAL_PUT, _ORIGINAL_CREATE = S3Response._bucket_response_put, S3Backend.create_bucket


def creation_tags(body: bytes | str | None) -> dict[str, str]:
    """The Tags of a CreateBucket request's body (empty without any)."""
    if not body:
        return {}
    configuration = xmltodict.parse(body).get("CreateBucketConfiguration") or {}
    tags = (configuration.get("Tags") or {}).get("Tag") or []
    return {tag["Key"]: tag.get("Value") or "" for tag in (tags if isinstance(tags, list) else [tags])}


def _bucket_response_put(self, request, bucket_name, querystring):
    _creating.tags = {} if querystring else creation_tags(self.body)
    try:
        return _ORIGINAL_PUT(self, request, bucket_name, querystring)
    finally:
        _creating.tags = {}


def _create_bucket(self, bucket_name, region_name, *args, **kwargs):
    bucket = _ORIGINAL_CREATE(self, bucket_name, region_name, *args, **kwargs)
    tags = getattr(_creating, "tags", None)
    if tags:
        self.put_bucket_tagging(bucket_name, tags)
    return bucket


_installed = 0  # emulators nest (a test may run a clean one inside its own): the last one out uninstalls


def install() -> None:
    global _installed
    _installed += 1
    S3Response._bucket_response_put = _bucket_response_put  # type: ignore[method-assign]  # replacing moto's method is the point
    S3Backend.create_bucket = _create_bucket  # type: ignore[method-assign]  # replacing moto's method is the point


def uninstall() -> None:
    global _installed
    _installed -= 1
    if not _installed:
        S3Response._bucket_response_put = _ORIGINAL_PUT  # type: ignore[method-assign]  # moto's own again
        S3Backend.create_bucket = _ORIGINAL_CREATE  # type: ignore[method-assign]  # moto's own again
