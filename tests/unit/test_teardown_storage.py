"""Teardown keeps data: the tracking-logs bucket stays unless asked for, every bucket of ours that holds
objects stays unless the request says delete_data, and the output names each bucket kept and why."""

import pytest

from analytics_provisioner.errors import InputError
from analytics_provisioner.naming import EDXANALYTICS_CREDS, EDXAPP_CREDS, Names
from analytics_provisioner.phases import storage
from analytics_provisioner.phases.teardown import check
from analytics_provisioner.phases.teardown import storage as teardown_storage
from analytics_provisioner.phases.teardown.request import TeardownRequest
from samples import resolved

REGION = "us-east-1"
SECURE_REPO = "stack-secure-repo"
NAMES = Names("acme-demo")
TRACKING_LOGS = "acme-demo-tracking-logs"


@pytest.fixture
def provisioned(aws, minimal_input, monkeypatch):
    """The minimal deployment's buckets (EMR, edxanalytics and a tracking-logs bucket it created), with
    what Render writes: the pipeline's creds files in edxanalytics and the secure-repo files."""
    monkeypatch.setenv("SECURE_REPO_BUCKET", SECURE_REPO)
    aws.create_bucket(SECURE_REPO)
    storage.run(resolved(minimal_input, REGION))
    s3 = aws.client("s3")
    for key in (EDXAPP_CREDS, EDXANALYTICS_CREDS):
        s3.put_object(Bucket=NAMES.edxanalytics_bucket, Key=key, Body=b"{}")
    s3.put_object(Bucket=SECURE_REPO, Key=f"{NAMES.secure_repo_prefix}vars-analytics.yml", Body=b"x: 1")
    return s3


def teardown(document: dict, **settings) -> dict:
    return teardown_storage.run(TeardownRequest.from_event(check({"deployment": document, **settings}, REGION)), SECURE_REPO)


def buckets(s3) -> set[str]:
    return {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}


def kept(result: dict) -> dict[str, str]:
    return {entry["bucket"]: entry["reason"] for entry in result["buckets_kept"]}


def test_by_default_the_tracking_logs_and_every_bucket_with_data_stay_and_the_output_says_why(provisioned, minimal_input):
    s3 = provisioned
    s3.put_object(Bucket=NAMES.emr_bucket, Key="packages/edx-analytics-hadoop-util.jar", Body=b"jar")  # the operator's upload

    result = teardown(minimal_input)

    assert kept(result) == {TRACKING_LOGS: teardown_storage.TRACKING_LOGS, NAMES.emr_bucket: teardown_storage.HOLDS_OBJECTS}
    assert "delete_tracking_logs" in teardown_storage.TRACKING_LOGS and "delete_data" in teardown_storage.HOLDS_OBJECTS
    # edxanalytics held only what the deployment wrote itself (the creds of users teardown deletes): it goes
    assert result["buckets_deleted"] == [NAMES.edxanalytics_bucket]
    assert {TRACKING_LOGS, NAMES.emr_bucket} <= buckets(s3) and NAMES.edxanalytics_bucket not in buckets(s3)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=NAMES.emr_bucket)["Contents"]] == ["packages/edx-analytics-hadoop-util.jar"]
    assert s3.list_objects_v2(Bucket=SECURE_REPO).get("KeyCount") == 0  # the secure-repo files hold credentials of what is gone

    assert teardown(minimal_input)["buckets_kept"] == result["buckets_kept"]  # again: the same answer, nothing more deleted


def test_a_bucket_with_old_versions_only_still_holds_data(provisioned, minimal_input):
    s3 = provisioned
    s3.put_bucket_versioning(Bucket=NAMES.emr_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=NAMES.emr_bucket, Key="install-sqoop", Body=b"#!/bin/sh")
    s3.delete_object(Bucket=NAMES.emr_bucket, Key="install-sqoop")  # a delete marker on top of the version
    assert s3.list_objects_v2(Bucket=NAMES.emr_bucket)["KeyCount"] == 0
    assert kept(teardown(minimal_input))[NAMES.emr_bucket] == teardown_storage.HOLDS_OBJECTS


def test_delete_data_empties_buckets_but_the_tracking_logs_need_their_own_flag(provisioned, minimal_input):
    s3 = provisioned
    s3.put_object(Bucket=NAMES.emr_bucket, Key="install-sqoop", Body=b"#!/bin/sh")
    s3.put_object(Bucket=TRACKING_LOGS, Key="logs/tracking/tracking.log-20261130.gz", Body=b"events")

    result = teardown(minimal_input, delete_data=True)
    assert kept(result) == {TRACKING_LOGS: teardown_storage.TRACKING_LOGS}
    assert sorted(result["buckets_deleted"]) == sorted([NAMES.emr_bucket, NAMES.edxanalytics_bucket])

    result = teardown(minimal_input, delete_tracking_logs=True)  # asked for, but it holds events
    assert kept(result) == {TRACKING_LOGS: teardown_storage.HOLDS_OBJECTS}

    result = teardown(minimal_input, delete_tracking_logs=True, delete_data=True)
    assert result["buckets_kept"] == [] and result["buckets_deleted"] == [TRACKING_LOGS]
    assert TRACKING_LOGS not in buckets(s3)


def test_an_adopted_tracking_logs_bucket_always_stays(provisioned, minimal_input, aws):
    minimal_input["edxapp"]["tracking_logs_bucket"] = "acme-site-tracking-logs"
    aws.create_bucket("acme-site-tracking-logs")
    result = teardown(minimal_input, delete_tracking_logs=True, delete_data=True)
    assert kept(result) == {"acme-site-tracking-logs": teardown_storage.NOT_OURS}
    assert "acme-site-tracking-logs" in buckets(provisioned)


def test_keep_data_keeps_every_bucket_and_the_secure_repo_files(provisioned, minimal_input):
    result = teardown(minimal_input, keep_data=True)
    assert result["buckets_deleted"] == []
    assert set(kept(result).values()) == {teardown_storage.KEEP_DATA} and NAMES.edxanalytics_bucket in kept(result)
    assert provisioned.list_objects_v2(Bucket=SECURE_REPO)["KeyCount"] == 1
    assert provisioned.list_objects_v2(Bucket=NAMES.edxanalytics_bucket)["KeyCount"] == 2


@pytest.mark.parametrize("contradiction", [{"delete_data": True}, {"delete_tracking_logs": True}])
def test_keep_data_with_a_delete_flag_is_refused(minimal_input, contradiction):
    with pytest.raises(InputError, match="keep_data: true keeps every bucket, which contradicts delete_data / delete_tracking_logs"):
        check({"deployment": minimal_input, "keep_data": True, **contradiction}, REGION)


def test_the_flags_default_to_keeping(minimal_input):
    request = TeardownRequest.from_event(check({"deployment": minimal_input}, REGION))
    assert (request.delete_data, request.delete_tracking_logs, request.keep_data) == (False, False, False)
