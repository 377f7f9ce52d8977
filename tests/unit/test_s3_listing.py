"""local/s3_listing.py: ListObjectVersions answers as moto's own, at the cost of one page (moto's own
deep-copies the whole bucket for every page: 5 s a page at 25,000 versions)."""

import gc
import inspect

import boto3
from moto import mock_aws
from moto.s3 import models

from analytics_provisioner.local.emulator import ACCOUNT, FAKE_ENV
from analytics_provisioner.local.s3_listing import shallow_version_listing
from testkit import REGION, write_versions

BUCKET = "acme-demo-listing"


def _listing(s3) -> list[dict]:
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 7})
    return [{kind: page.get(kind) for kind in ("Versions", "DeleteMarkers", "NextKeyMarker", "NextVersionIdMarker")} for page in pages]


def test_the_listing_is_moto_s_own_and_leaves_the_stored_versions_readable(monkeypatch):
    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        write_versions(BUCKET, (f"logs/{n % 9}" for n in range(40)))
        s3.delete_object(Bucket=BUCKET, Key="logs/3")

        mottos = _listing(s3)
        with shallow_version_listing():
            ours = _listing(s3)
            gc.collect()  # the listed twins are gone: the stored versions' buffers must still be open
        assert ours == mottos and len(ours) == 6
        assert any(v["IsLatest"] for page in ours for v in page["Versions"]) and any(
            not v["IsLatest"] for page in ours for v in page["Versions"]
        )
        stored = [version for _, versions in models.s3_backends[ACCOUNT]["aws"].get_bucket(BUCKET).keys.iterlists() for version in versions]
        assert all(getattr(version, "is_latest", None) is not False for version in stored), "the listing marked a stored version"
        for page in ours:
            for version in page["Versions"]:
                assert s3.get_object(Bucket=BUCKET, Key=version["Key"], VersionId=version["VersionId"])["Body"].read() == b"x"
    assert models.copy.deepcopy is not None and inspect.ismodule(models.copy), "moto's own copy is back"


def test_canary_list_object_versions_is_the_one_deepcopy_in_moto_s3():
    source = inspect.getsource(models)
    assert source.count("copy.deepcopy(") == 1, "moto.s3.models deep-copies elsewhere now: the saving would change that too"
    assert "copy.deepcopy(" in inspect.getsource(models.S3Backend.list_object_versions), "moto lists versions another way now"
