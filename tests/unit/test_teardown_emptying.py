"""Emptying buckets is a resumable loop: one call deletes at most BATCH_VERSIONS object versions and
answers ``more`` while some remain, so no bucket's size can time the function out."""

import pytest

from analytics_provisioner.naming import Names
from analytics_provisioner.phases.teardown import check
from analytics_provisioner.phases.teardown import storage as teardown_storage
from analytics_provisioner.phases.teardown.request import TeardownRequest
from analytics_provisioner.phases.teardown.steps import run as teardown_step
from analytics_provisioner.settings import Settings
from testkit import write_versions

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
        answer = teardown_step(
            {"action": "storage", "request": request["request"], "previous": answer},
            Settings(REGION, secure_repo_bucket="stack-secure-repo"),
        )
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


def test_one_call_without_a_limit_empties_a_bucket_of_many_pages_and_spares_the_keys_not_asked_for(aws):
    from analytics_provisioner.aws import s3 as buckets

    s3 = aws.client("s3")
    aws.create_bucket("acme-demo-pages")
    s3.put_bucket_versioning(Bucket="acme-demo-pages", VersioningConfiguration={"Status": "Enabled"})
    write_versions("acme-demo-pages", (f"{'a' if n % 2 else 'z'}/{n % 700}" for n in range(2_100)))
    s3.delete_object(Bucket="acme-demo-pages", Key="z/0")  # and a delete marker

    assert buckets.empty_bucket("acme-demo-pages", REGION) == 2_101  # three pages, each listed afresh, not after a deleted version
    assert s3.list_object_versions(Bucket="acme-demo-pages").get("Versions", []) == []

    write_versions(
        "acme-demo-pages", [f"0/{n}" for n in range(1_200)] + [f"a/{n}" for n in range(1_500)]
    )  # a page and more not asked for first
    asked = frozenset(f"a/{n}" for n in range(1_500))
    assert buckets.empty_bucket("acme-demo-pages", REGION, keys=tuple(asked)) == 1_500
    left = [v["Key"] for page in s3.get_paginator("list_object_versions").paginate(Bucket="acme-demo-pages") for v in page["Versions"]]
    assert len(left) == 1_200 and not asked & set(left)
