"""Ownership does not travel to snapshots: an instance restored from one of our snapshots is the
operator's, and neither teardown nor provisioning takes it for ours."""

import pytest

from analytics_provisioner.aws import tags as tagging
from analytics_provisioner.deployment import Deployment
from analytics_provisioner.errors import OwnershipError
from analytics_provisioner.naming import TAG_DEPLOYMENT
from analytics_provisioner.phases import database
from analytics_provisioner.phases.teardown import database as teardown_database
from analytics_provisioner.phases.teardown.request import TeardownRequest

REGION = "us-east-1"
OURS = "acme-demo-analytics"


@pytest.fixture
def deployment(aws, minimal_input) -> Deployment:
    ec2 = aws.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    return Deployment.from_input(minimal_input, REGION).with_network(vpc, subnet)


def _create(aws, deployment: Deployment, **overrides) -> dict:
    group = aws.client("ec2").create_security_group(GroupName="acme-demo-emr-rds", Description="x", VpcId=deployment.network.vpc_id)[
        "GroupId"
    ]
    params = {**database.instance_params(deployment, database.ensure_subnet_group(deployment), group), **overrides}
    aws.client("rds").create_db_instance(**params, Tags=tagging.as_list(tagging.ours(deployment.deployment_id)))
    return aws.client("rds").describe_db_instances(DBInstanceIdentifier=params["DBInstanceIdentifier"])["DBInstances"][0]


def _torn_down_with_final_snapshot(aws, request: TeardownRequest) -> str:
    teardown_database.start(request)
    snapshots = aws.client("rds").describe_db_snapshots(DBInstanceIdentifier=OURS, SnapshotType="manual")["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"] for s in snapshots if s["DBSnapshotIdentifier"].startswith(f"{OURS}-final-")], snapshots
    return snapshots[0]["DBSnapshotIdentifier"]


def _restore(aws, snapshot: str, identifier: str) -> dict:
    return aws.client("rds").restore_db_instance_from_db_snapshot(DBInstanceIdentifier=identifier, DBSnapshotIdentifier=snapshot)[
        "DBInstance"
    ]


def _tags(instance: dict) -> dict:
    return tagging.from_list(instance.get("TagList"))


def test_the_final_snapshot_and_a_copy_restored_from_it_carry_no_ownership_tag(aws, deployment):
    instance = _create(aws, deployment)
    assert instance["CopyTagsToSnapshot"] is False  # True before: every snapshot carried the deployment tag
    request = TeardownRequest(deployment)
    snapshot = _torn_down_with_final_snapshot(aws, request)
    tags = aws.client("rds").describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"][0].get("TagList", [])
    assert TAG_DEPLOYMENT not in tagging.from_list(tags)
    restored = _restore(aws, snapshot, "acme-restored-analytics")
    assert TAG_DEPLOYMENT not in _tags(restored)
    assert teardown_database.our_instances(request) == []
    assert teardown_database.start(request)["db_instances_deleting"] == []


def test_a_restored_copy_that_carries_our_tag_under_another_name_is_left_alone(aws, deployment):
    """A snapshot of an instance created before CopyTagsToSnapshot was off carries the tag, and so does
    its restored copy: teardown owns by name and tag together (by the tag alone, it deleted the copy)."""
    _create(aws, deployment, CopyTagsToSnapshot=True)
    request = TeardownRequest(deployment)
    snapshot = _torn_down_with_final_snapshot(aws, request)
    restored = _restore(aws, snapshot, f"{OURS}-restored")
    assert _tags(restored)[TAG_DEPLOYMENT] == "acme-demo"
    assert teardown_database.our_instances(request) == []
    assert teardown_database.start(request)["db_instances_deleting"] == []
    assert (
        aws.client("rds").describe_db_instances(DBInstanceIdentifier=f"{OURS}-restored")["DBInstances"][0]["DBInstanceStatus"]
        == "available"
    )


def test_a_copy_restored_under_our_name_is_not_adopted_by_provisioning(aws, deployment):
    _create(aws, deployment)
    snapshot = _torn_down_with_final_snapshot(aws, TeardownRequest(deployment))
    _restore(aws, snapshot, OURS)
    with pytest.raises(OwnershipError, match=f"RDS instance '{OURS}' exists and is not ours"):
        database.ensure_instance(deployment, OURS, "sg-0123456789abcdef0")


def test_teardown_still_finds_every_generation_of_ours(aws, deployment):
    request = TeardownRequest(deployment)
    _create(aws, deployment)
    assert [i["DBInstanceIdentifier"] for i in teardown_database.our_instances(request)] == [OURS]
