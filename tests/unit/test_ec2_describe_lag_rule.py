"""The emulator's rule "EC2's describe calls lag its writes" (local/ec2_describe_lag.py) and the fault
"a lost answer" (local/faults.py): each bites, and moto alone has neither."""

import threading

import pytest
from botocore.exceptions import ClientError

from analytics_provisioner.local import faults
from analytics_provisioner.local.clock import TaskThread
from analytics_provisioner.local.ec2_describe_lag import LAG_SECONDS
from analytics_provisioner.local.emulator import FAKE_ENV

WORLD = "0.0.0.0/0"


@pytest.fixture
def vpc_id(aws) -> str:
    return aws.client("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]


def _group_named(ec2, name: str, vpc_id: str) -> list[dict]:
    return ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [name]}])[
        "SecurityGroups"
    ]


def _sources(group: dict) -> set[tuple]:
    return {
        (p["IpProtocol"], p.get("FromPort"), item.get("CidrIp") or item.get("GroupId"))
        for p in group["IpPermissions"]
        for item in p.get("IpRanges", []) + p.get("UserIdGroupPairs", [])
    }


def test_a_fresh_group_is_missing_from_its_creators_describes_until_the_lag_has_passed(aws, vpc_id):
    ec2 = aws.client("ec2")
    with faults.recorded_as("NetworkFunction"):
        group_id = ec2.create_security_group(GroupName="fresh", Description="fresh", VpcId=vpc_id)["GroupId"]
        assert _group_named(ec2, "fresh", vpc_id) == []
        with pytest.raises(ClientError, match="InvalidGroup.Duplicate"):  # while a create already knows it
            ec2.create_security_group(GroupName="fresh", Description="fresh", VpcId=vpc_id)
        aws.clock.skip(LAG_SECONDS - 1)
        assert _group_named(ec2, "fresh", vpc_id) == []
        aws.clock.skip(1)
        assert [group["GroupId"] for group in _group_named(ec2, "fresh", vpc_id)] == [group_id]


def test_others_see_the_account_as_it_is(aws, vpc_id):
    ec2 = aws.client("ec2")
    with faults.recorded_as("NetworkFunction"):
        group_id = ec2.create_security_group(GroupName="fresh", Description="fresh", VpcId=vpc_id)["GroupId"]
    assert [group["GroupId"] for group in _group_named(ec2, "fresh", vpc_id)] == [group_id]  # the test's own look
    with faults.recorded_as("TeardownFunction"):  # a later phase: minutes later on AWS
        assert [group["GroupId"] for group in _group_named(ec2, "fresh", vpc_id)] == [group_id]
    seen = []

    def another_execution():
        with faults.recorded_as("NetworkFunction"):
            seen.extend(group["GroupId"] for group in _group_named(ec2, "fresh", vpc_id))

    thread = threading.Thread(target=another_execution)
    thread.start()
    thread.join()
    assert seen == [group_id]


def test_the_retries_of_the_task_that_made_it_see_the_lag(aws, vpc_id):
    """A state's Retry runs its Task on a new thread the state's thread starts (``clock.TaskThread``)."""
    ec2, seen = aws.client("ec2"), []

    def attempt(create: bool):
        with faults.recorded_as("NetworkFunction"):
            if create:
                ec2.create_security_group(GroupName="fresh", Description="fresh", VpcId=vpc_id)
            seen.append(len(_group_named(ec2, "fresh", vpc_id)))

    for create in (True, False):
        task = TaskThread(target=attempt, args=(create,))
        task.start()
        task.join()
    assert seen == [0, 0]


def test_a_fresh_rule_is_missing_from_a_group_that_shows(aws, vpc_id):
    ec2 = aws.client("ec2")
    group_id = ec2.create_security_group(GroupName="old", Description="old", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group_id, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
    )
    with faults.recorded_as("NetworkFunction"):
        ec2.authorize_security_group_ingress(
            GroupId=group_id,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "192.168.0.0/16"}]},
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": WORLD}]},
                {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group_id}]},
            ],
        )
        [shown] = _group_named(ec2, "old", vpc_id)
        assert _sources(shown) == {("tcp", 22, "10.0.0.0/8")}
        with pytest.raises(ClientError, match="InvalidPermission.Duplicate"):
            ec2.authorize_security_group_ingress(
                GroupId=group_id, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": WORLD}]}]
            )
        aws.clock.skip(LAG_SECONDS)
        [shown] = _group_named(ec2, "old", vpc_id)
    assert _sources(shown) == {("tcp", 22, "10.0.0.0/8"), ("tcp", 22, "192.168.0.0/16"), ("tcp", 443, WORLD), ("-1", None, group_id)}


def test_a_fresh_elastic_ip_is_missing_from_its_creators_describes(aws):
    ec2 = aws.client("ec2")
    with faults.recorded_as("ComputeFunction"):
        allocation_id = ec2.allocate_address(Domain="vpc")["AllocationId"]
        assert ec2.describe_addresses()["Addresses"] == []
        aws.clock.skip(LAG_SECONDS)
        assert [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]] == [allocation_id]


def test_a_lost_answer_reaches_aws_and_the_sdks_retry_sends_the_call_again(aws, vpc_id):
    """What a retry of a create without an idempotency token does: a second Elastic IP, a duplicate error."""
    ec2 = aws.client("ec2")
    aws.faults.lost_answer("ComputeFunction", "AllocateAddress")
    aws.faults.lost_answer("NetworkFunction", "CreateSecurityGroup")
    with faults.recorded_as("ComputeFunction"):
        ec2.allocate_address(Domain="vpc")
    assert len(ec2.describe_addresses()["Addresses"]) == 2
    with faults.recorded_as("NetworkFunction"), pytest.raises(ClientError, match="InvalidGroup.Duplicate"):
        ec2.create_security_group(GroupName="lost", Description="lost", VpcId=vpc_id)
    assert len(_group_named(ec2, "lost", vpc_id)) == 1
    assert [rule.lost for rule in aws.faults.lost_answers] == [1, 1]


def test_a_single_attempt_client_reports_the_lost_answer_and_what_it_made_lags_too(aws):
    from botocore.exceptions import ReadTimeoutError

    from analytics_provisioner.aws import clients

    aws.faults.lost_answer("ComputeFunction", "AllocateAddress")
    with faults.recorded_as("ComputeFunction"):
        with pytest.raises(ReadTimeoutError):
            clients.client("ec2", aws.region, retries=False).allocate_address(Domain="vpc")
        assert aws.client("ec2").describe_addresses()["Addresses"] == []
        aws.clock.skip(LAG_SECONDS)
        assert len(aws.client("ec2").describe_addresses()["Addresses"]) == 1


def test_canary_moto_alone_describes_a_fresh_group_rule_and_address_at_once(monkeypatch):
    import boto3
    from moto import mock_aws

    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        group_id = ec2.create_security_group(GroupName="fresh", Description="fresh", VpcId=vpc_id)["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=group_id, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": WORLD}]}]
        )
        ec2.allocate_address(Domain="vpc")
        [group] = _group_named(ec2, "fresh", vpc_id)
        addresses = ec2.describe_addresses()["Addresses"]
    assert (_sources(group), len(addresses)) == ({("tcp", 443, WORLD)}, 1), (
        "moto now lags EC2's describe calls itself: the rule may be redundant"
    )
