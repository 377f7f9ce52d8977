"""The emulator's rule "a create whose name is taken is refused" (local/create_duplicates.py): it
bites, and moto alone replaces the existing subnet group and domain."""

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from analytics_provisioner.local.emulator import FAKE_ENV

DOMAIN = {
    "DomainName": "taken",
    "EngineVersion": "Elasticsearch_7.10",
    "ClusterConfig": {"InstanceType": "t3.small.search", "InstanceCount": 1},
}


def _subnet_group(rds, ec2, description: str) -> dict:
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    return rds.create_db_subnet_group(DBSubnetGroupName="taken", DBSubnetGroupDescription=description, SubnetIds=subnets)


def test_a_second_db_subnet_group_of_a_name_is_refused(aws):
    rds, ec2 = aws.client("rds"), aws.client("ec2")
    _subnet_group(rds, ec2, "first")
    with pytest.raises(ClientError, match="DBSubnetGroupAlreadyExists"):
        _subnet_group(rds, ec2, "second")
    assert rds.describe_db_subnet_groups(DBSubnetGroupName="taken")["DBSubnetGroups"][0]["DBSubnetGroupDescription"] == "first"


def test_a_second_domain_of_a_name_is_refused(aws):
    opensearch = aws.client("opensearch")
    opensearch.create_domain(**DOMAIN)
    with pytest.raises(ClientError) as refused:
        opensearch.create_domain(**DOMAIN)
    assert (refused.value.response["Error"]["Code"], refused.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ResourceAlreadyExistsException",
        409,
    )


def test_canary_moto_alone_replaces_a_subnet_group_and_a_domain(monkeypatch):
    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        rds, ec2 = boto3.client("rds", region_name="us-east-1"), boto3.client("ec2", region_name="us-east-1")
        _subnet_group(rds, ec2, "first")
        _subnet_group(rds, ec2, "second")
        opensearch = boto3.client("opensearch", region_name="us-east-1")
        opensearch.create_domain(**DOMAIN)
        opensearch.create_domain(**DOMAIN)
        description = rds.describe_db_subnet_groups(DBSubnetGroupName="taken")["DBSubnetGroups"][0]["DBSubnetGroupDescription"]
    assert description == "second", "moto now refuses a taken subnet group name: local/create_duplicates.py may go"
