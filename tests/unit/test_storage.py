"""Storage: the runbook's buckets, each secured and tagged; the tracking-logs bucket adopted as it is;
the grades-download statement merged into the edxapp bucket's policy without losing anything."""

import json

import pytest
from botocore.exceptions import ClientError

from analytics_provisioner.errors import OwnershipError, PreflightError
from analytics_provisioner.handler import invoke
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import LEGACY_GRADES_POLICY_SID, TAG_ALLOW, TAG_DEPLOYMENT, TAG_MANAGED_BY, Names
from analytics_provisioner.phases import storage
from samples import resolved
from testkit import ApiCalls

REGION = "us-east-1"
PUBLIC_ACCESS_BLOCKED = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
READS = ("Get", "Head", "List")


def state_for(doc: dict) -> dict:
    return {"deployment": resolved(doc, REGION).to_state()}


def policy(s3, bucket: str) -> dict:
    return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])


def tags(s3, bucket: str) -> dict:
    return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}


def assert_secured(s3, bucket: str, deployment_id: str) -> None:
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == PUBLIC_ACCESS_BLOCKED
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (deny,) = [s for s in policy(s3, bucket)["Statement"] if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert sorted(deny["Resource"]) == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert tags(s3, bucket)[TAG_DEPLOYMENT] == deployment_id
    assert tags(s3, bucket)[TAG_MANAGED_BY] == "analytics-provisioner"


def test_minimal_input_creates_the_runbook_buckets_secured(aws, minimal_input):
    calls = ApiCalls("s3")
    result = invoke(storage.run, state_for(minimal_input))
    names, s3 = Names("acme-demo"), aws.client("s3")
    assert result["buckets"] == {
        "emr": names.emr_bucket,
        "emr_logs": names.emr_bucket,
        "edxanalytics": names.edxanalytics_bucket,
        "hadoop": names.edxanalytics_bucket,
        "reports": None,
        "tracking_logs": "acme-demo-tracking-logs",
    }
    assert sorted(result["created"]) == sorted([names.emr_bucket, names.edxanalytics_bucket, "acme-demo-tracking-logs"])
    assert result["adopted"] == [] and result["grades_policy_sid"] is None
    for bucket in result["created"]:
        assert_secured(s3, bucket, "acme-demo")
    creates = [params for name, params in calls.made if name == "CreateBucket"]
    assert all(params["ObjectOwnership"] == "BucketOwnerEnforced" for params in creates) and len(creates) == 3
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert names.reports_bucket not in existing and names.emr_logs_bucket not in existing and names.hadoop_bucket not in existing


def test_full_input_adds_separate_buckets_and_reports(aws, full_input):
    seed(aws, full_input)
    result = invoke(storage.run, state_for(full_input))
    names, s3 = Names("acme-prod"), aws.client("s3")
    buckets = result["buckets"]
    assert buckets["emr_logs"] == names.emr_logs_bucket and buckets["hadoop"] == names.hadoop_bucket
    assert buckets["reports"] == names.reports_bucket == "acme-prod-analytics-api-reports"
    ours = [names.emr_bucket, names.emr_logs_bucket, names.edxanalytics_bucket, names.hadoop_bucket, names.reports_bucket]
    assert sorted(result["created"]) == sorted(ours)
    for bucket in ours:
        assert_secured(s3, bucket, "acme-prod")


def test_existing_tracking_logs_bucket_is_adopted_untouched(aws, full_input):
    seed(aws, full_input)
    calls = ApiCalls("s3")
    result = invoke(storage.run, state_for(full_input))
    s3, tracking = aws.client("s3"), "acme-prod-tracking-logs"
    assert tracking in result["adopted"] and tracking not in result["created"]
    assert [name for name, params in calls.writes(READS) if params.get("Bucket") == tracking] == []
    assert s3.get_bucket_tagging(Bucket=tracking)["TagSet"] == [{"Key": TAG_ALLOW, "Value": "acme-prod"}]  # only its owner's opt-in
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=tracking)


def test_grades_statement_is_merged_keeping_every_other_statement(aws, full_input):
    seed(aws, full_input)
    s3, bucket = aws.client("s3"), "acme-prod-edxapp"
    others = [
        {
            "Sid": "ExistingLmsWrite",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/backup"},
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
        },
    ]
    stale_ours = {
        "Sid": Names("acme-prod").grades_policy_sid,
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:user/old"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/grades-download/*",
    }
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2008-10-17", "Id": "edxapp-policy", "Statement": [others[0], stale_ours, others[1]]})
    )

    result = invoke(storage.run, state_for(full_input))

    merged = policy(s3, bucket)
    assert result["grades_policy_sid"] == Names("acme-prod").grades_policy_sid
    assert merged["Version"] == "2008-10-17" and merged["Id"] == "edxapp-policy"
    assert merged["Statement"][0] == others[0] and merged["Statement"][2] == others[1]
    ours = [s for s in merged["Statement"] if s.get("Sid") == Names("acme-prod").grades_policy_sid]
    assert ours == [
        {
            "Sid": Names("acme-prod").grades_policy_sid,
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/acme-edxapp"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/grades-download/*",
        }
    ]
    assert len(merged["Statement"]) == 3
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [
        {"Key": TAG_ALLOW, "Value": "acme-prod"}
    ]  # someone else's: never tagged by us


def test_grades_bucket_without_policy_gets_one_statement(aws, full_input):
    seed(aws, full_input)
    s3, bucket = aws.client("s3"), "acme-prod-edxapp"
    s3.delete_bucket_policy(Bucket=bucket)
    invoke(storage.run, state_for(full_input))
    merged = policy(s3, bucket)
    assert merged["Version"] == "2012-10-17"
    assert [s["Sid"] for s in merged["Statement"]] == [Names("acme-prod").grades_policy_sid]


def test_missing_grades_bucket_is_refused(aws, full_input):
    full_input["edxapp"]["grades_bucket"] = "acme-prod-no-such-bucket"
    with pytest.raises(PreflightError, match="edxapp.grades_bucket: bucket acme-prod-no-such-bucket does not exist"):
        invoke(storage.run, state_for(full_input))


def test_rerun_creates_nothing_and_writes_nothing(aws, full_input):
    seed(aws, full_input)
    first = invoke(storage.run, state_for(full_input))
    s3 = aws.client("s3")
    grades_before = policy(s3, "acme-prod-edxapp")
    calls = ApiCalls("s3")
    second = invoke(storage.run, state_for(full_input))
    assert second["created"] == []
    assert sorted(second["adopted"]) == sorted(first["created"] + first["adopted"])
    assert second["buckets"] == first["buckets"]
    assert calls.writes(READS) == []
    assert policy(s3, "acme-prod-edxapp") == grades_before


def test_our_bucket_with_missing_settings_is_converged(aws, minimal_input):
    invoke(storage.run, state_for(minimal_input))
    s3, bucket = aws.client("s3"), Names("acme-demo").emr_bucket
    s3.delete_public_access_block(Bucket=bucket)
    s3.delete_bucket_policy(Bucket=bucket)
    result = invoke(storage.run, state_for(minimal_input))
    assert bucket in result["adopted"]
    assert_secured(s3, bucket, "acme-demo")


def test_bucket_name_taken_by_someone_else_is_refused(aws, minimal_input):
    aws.create_bucket(Names("acme-demo").edxanalytics_bucket)
    with pytest.raises(
        OwnershipError,
        match=rf"S3 bucket 'acme-demo-edxanalytics' exists and is not ours \(no deployment tag; expected the tag {TAG_DEPLOYMENT}=acme-demo\)",
    ):
        invoke(storage.run, state_for(minimal_input))


def test_bucket_of_another_deployment_is_refused(aws, minimal_input):
    s3, bucket = aws.client("s3"), Names("acme-demo").emr_bucket
    aws.create_bucket(bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": TAG_DEPLOYMENT, "Value": "acme-other"}]})
    with pytest.raises(OwnershipError, match=rf"\(deployment acme-other; expected the tag {TAG_DEPLOYMENT}=acme-demo\)"):
        invoke(storage.run, state_for(minimal_input))


def test_names_breaking_s3_rules_are_refused_before_anything_is_created(aws, minimal_input):
    minimal_input["deployment_id"] = "sthree-acme"  # valid deployment id, but S3 reserves the prefix
    before = aws.client("s3").list_buckets()["Buckets"]
    with pytest.raises(PreflightError, match="deployment_id: the bucket name 'sthree-acme-analytics-emr' breaks the S3 naming rules"):
        invoke(storage.run, state_for(minimal_input))
    assert aws.client("s3").list_buckets()["Buckets"] == before


def _sharing_grades_bucket(full_input: dict, deployment_id: str, user: str) -> dict:
    doc = json.loads(json.dumps(full_input))
    doc["deployment_id"] = deployment_id
    doc["edxapp"]["tracking_logs_bucket"] = f"{deployment_id}-tracking-logs"
    doc["edxapp"]["aws_user_arn"] = f"arn:aws:iam::123456789012:user/{user}"
    return doc


def _grades_sids(s3) -> list[str]:
    return [s.get("Sid") for s in policy(s3, "acme-prod-edxapp")["Statement"]]


def test_deployments_sharing_a_grades_bucket_keep_each_others_statement_through_teardown(aws, full_input):
    from analytics_provisioner.phases.teardown import check
    from analytics_provisioner.phases.teardown import storage as teardown_storage
    from analytics_provisioner.phases.teardown.request import TeardownRequest

    prod, stage = full_input, _sharing_grades_bucket(full_input, "acme-stage", "acme-stage-edxapp")
    for doc in (prod, stage):
        seed(aws, doc)  # the bucket's owner opts both in
        invoke(storage.run, state_for(doc))
    s3, prod_sid, stage_sid = aws.client("s3"), Names("acme-prod").grades_policy_sid, Names("acme-stage").grades_policy_sid
    site = _grades_sids(s3)[0]  # the edxapp site's own statement, first
    assert _grades_sids(s3) == [site, prod_sid, stage_sid]  # the second deployment did not replace the first

    stage_request = TeardownRequest.from_event(check({"deployment": stage}, REGION))
    assert teardown_storage.revert_grades_policy(stage_request) is True
    (kept,) = [s for s in policy(s3, "acme-prod-edxapp")["Statement"] if s.get("Sid") == prod_sid]
    assert kept["Principal"] == {"AWS": "arn:aws:iam::123456789012:user/acme-edxapp"}
    assert _grades_sids(s3) == [site, prod_sid]
    assert teardown_storage.revert_grades_policy(stage_request) is False  # again: nothing of its own left

    assert teardown_storage.revert_grades_policy(TeardownRequest.from_event(check({"deployment": prod}, REGION))) is True
    assert _grades_sids(s3) == [site]  # the site's statement stays when ours are gone


def test_the_shared_statement_an_earlier_version_wrote_is_replaced_only_by_its_twin(aws, full_input):
    seed(aws, full_input)
    s3, bucket = aws.client("s3"), "acme-prod-edxapp"
    grant = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/grades-download/*"}
    ours_before = {"Sid": LEGACY_GRADES_POLICY_SID, "Principal": {"AWS": "arn:aws:iam::123456789012:user/acme-edxapp"}, **grant}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [ours_before]}))
    invoke(storage.run, state_for(full_input))
    assert _grades_sids(s3) == [Names("acme-prod").grades_policy_sid]  # the same grant, now under the deployment's Sid

    another_deployments = {**ours_before, "Principal": {"AWS": "arn:aws:iam::123456789012:user/someone-else"}}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [another_deployments]}))
    invoke(storage.run, state_for(full_input))
    assert _grades_sids(s3) == [LEGACY_GRADES_POLICY_SID, Names("acme-prod").grades_policy_sid]  # not ours to take away


def test_a_lost_create_bucket_answer_outside_us_east_1_finds_the_bucket_ours(minimal_input):
    """The SDK sends CreateBucket again; outside us-east-1 S3 answers BucketAlreadyOwnedByYou."""
    from analytics_provisioner.local import faults
    from analytics_provisioner.local.emulator import Emulator

    doc = {**minimal_input, "region": "eu-west-1"}
    with Emulator(region="eu-west-1", deploy=False) as aws:
        lost = aws.faults.lost_answer("StorageFunction", "CreateBucket")
        with faults.recorded_as("StorageFunction"):
            result = invoke(storage.run, {"deployment": resolved(doc, "eu-west-1").to_state()})
        assert lost.lost == 1
        assert len(result["created"]) == 2 and len(result["adopted"]) == 1
        for bucket in result["created"] + result["adopted"]:
            assert_secured(aws.client("s3"), bucket, "acme-demo")
