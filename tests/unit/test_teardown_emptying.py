"""Emptying buckets is a resumable loop: one call deletes at most BATCH_VERSIONS object versions and
answers ``more`` while some remain, so no bucket's size can time the function out."""

import pytest

from analytics_provisioner.naming import Names
from analytics_provisioner.phases.teardown import check
from analytics_provisioner.phases.teardown import storage as teardown_storage
from analytics_provisioner.phases.teardown.request import TeardownRequest
from analytics_provisioner.phases.teardown.steps import run as teardown_step
from analytics_provisioner.settings import Settings

REGION = "us-east-1"
NAMES = Names("acme-demo")


@pytest.fixture
def full_bucket(aws, minimal_input, monkeypatch):
    from analytics_provisioner.phases import storage
    from samples import resolved

    monkeypatch.setenv("SECURE_REPO_BUCKET", "stack-secure-repo")
    aws.create_bucket("stack-secure-repo")
    storage.run(resolved(minimal_input, REGION))
    s3 = aws.client("s3")
    s3.put_bucket_versioning(Bucket=NAMES.emr_bucket, VersioningConfiguration={"Status": "Enabled"})
    for n in range(250):  # 250 versions of 50 keys, then a delete marker on each key: 300 to delete
        s3.put_object(Bucket=NAMES.emr_bucket, Key=f"logs/j-{n % 50}", Body=b"x")
    for n in range(50):
        s3.delete_object(Bucket=NAMES.emr_bucket, Key=f"logs/j-{n}")
    monkeypatch.setattr(teardown_storage, "BATCH_VERSIONS", 100)
    return s3


def test_a_bucket_bigger_than_one_call_is_emptied_over_several_turns(full_bucket, minimal_input):
    request = check({"deployment": minimal_input, "delete_data": True}, REGION)
    turns, answer = 0, None
    while answer is None or answer["more"]:
        answer = teardown_step({"action": "storage", "request": request["request"], "previous": answer}, Settings(REGION, secure_repo_bucket="stack-secure-repo"))
        turns += 1
        assert turns < 10
    assert turns == 4  # 300 versions at 100 a turn, then the bucket goes
    assert NAMES.emr_bucket in answer["buckets_deleted"] and NAMES.edxanalytics_bucket in answer["buckets_deleted"]
    assert NAMES.emr_bucket not in {b["Name"] for b in full_bucket.list_buckets()["Buckets"]}
    assert "grades_statement_removed" in answer


def test_buckets_kept_are_named_in_every_turn(full_bucket, minimal_input):
    request = TeardownRequest.from_event(check({"deployment": minimal_input}, REGION))
    answer = teardown_storage.run(request, "stack-secure-repo")  # without delete_data: the EMR bucket holds data and stays
    assert answer["more"] is False
    assert {kept["bucket"] for kept in answer["buckets_kept"]} == {NAMES.emr_bucket, "acme-demo-tracking-logs"}
