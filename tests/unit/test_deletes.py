"""The delete helpers of aws/: each deletes what it is given, and one that is already gone is success
(``aws.errors.gone_is_success``), so a retried or repeated teardown step has nothing left to do.
Each case deletes a real (emulated) resource twice: the first call deletes it, the second finds it gone."""

import pytest
from botocore.exceptions import ClientError

from analytics_provisioner.aws import ec2, iam, instances, rds, s3, search, secrets
from analytics_provisioner.aws.errors import gone_is_success
from analytics_provisioner.local.catalog import CANONICAL

REGION = "us-east-1"
FOCAL = "ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-*"


def _raise(code: str):
    raise ClientError({"Error": {"Code": code, "Message": "m"}}, "DeleteThing")


def test_gone_is_success_answers_whether_the_call_took_effect():
    assert gone_is_success(lambda: None, "NoSuchThing") is True
    assert gone_is_success(lambda: _raise("NoSuchThing"), "NoSuchThing", "NotFound") is False


def test_gone_is_success_lets_every_other_answer_through():
    with pytest.raises(ClientError, match="AccessDenied"):
        gone_is_success(lambda: _raise("AccessDenied"), "NoSuchThing")


def test_a_bucket(aws):
    aws.client("s3").create_bucket(Bucket="acme-gone")
    assert s3.delete_bucket("acme-gone", REGION) is True
    assert s3.delete_bucket("acme-gone", REGION) is False


def test_an_rds_instance(aws):
    aws.client("rds").create_db_instance(
        DBInstanceIdentifier="acme-gone",
        Engine="mysql",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin",
        ManageMasterUserPassword=True,
        AllocatedStorage=20,
    )
    instance = rds.db_instance("acme-gone", REGION)
    assert rds.delete_instance(instance, REGION, None) == rds.DELETING
    assert rds.db_instance("acme-gone", REGION) is None
    assert rds.delete_instance(instance, REGION, None) == rds.GONE


def test_a_db_subnet_group(aws):
    ec2 = aws.client("ec2")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"][:2]]
    aws.client("rds").create_db_subnet_group(DBSubnetGroupName="acme-gone", DBSubnetGroupDescription="x", SubnetIds=subnets)
    assert rds.delete_subnet_group("acme-gone", REGION) is True
    assert rds.delete_subnet_group("acme-gone", REGION) is False


def test_a_search_domain(aws):
    aws.client("opensearch").create_domain(DomainName="acme-gone")
    assert search.delete_domain("acme-gone", REGION) is True
    assert search.domain("acme-gone", REGION) is None
    assert search.delete_domain("acme-gone", REGION) is False


def test_a_key_pair(aws):
    aws.client("ec2").create_key_pair(KeyName="acme-gone")
    assert instances.delete_key_pair("acme-gone", REGION) is True
    assert instances.key_pair("acme-gone", REGION) is None
    instances.delete_key_pair("acme-gone", REGION)  # EC2 answers success for a key pair that is gone


def test_an_elastic_ip_on_an_instance(aws):
    ec2 = aws.client("ec2")
    image = ec2.describe_images(Owners=[CANONICAL], Filters=[{"Name": "name", "Values": [FOCAL]}])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]["InstanceId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=allocation, InstanceId=instance)
    [address] = ec2.describe_addresses(AllocationIds=[allocation])["Addresses"]
    assert instances.release_address(address, REGION) is True
    assert ec2.describe_addresses()["Addresses"] == []
    assert instances.release_address(address, REGION) is False


def test_a_secret(aws):
    arn = aws.client("secretsmanager").create_secret(Name="acme-gone", SecretString="{}")["ARN"]
    assert secrets.schedule_deletion(arn, REGION, 7) is True
    assert secrets.describe(arn, REGION)["DeletedDate"]
    aws.client("secretsmanager").delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert secrets.schedule_deletion(arn, REGION, 7) is False


def test_a_security_group(aws):
    vpc = aws.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    group = aws.client("ec2").create_security_group(GroupName="acme-gone", Description="x", VpcId=vpc)["GroupId"]
    assert ec2.delete_security_group(group, REGION) is True
    assert ec2.delete_security_group(group, REGION) is False


TRUST = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
DOCUMENT = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}'


def test_iam_users_roles_profiles_and_policies_with_what_they_hold(aws):
    api = aws.client("iam")
    arn = api.create_policy(PolicyName="acme-gone", PolicyDocument=DOCUMENT)["Policy"]["Arn"]
    api.create_policy_version(PolicyArn=arn, PolicyDocument=DOCUMENT, SetAsDefault=True)
    api.create_user(UserName="acme-gone")
    api.create_access_key(UserName="acme-gone")
    api.put_user_policy(UserName="acme-gone", PolicyName="inline", PolicyDocument=DOCUMENT)
    api.attach_user_policy(UserName="acme-gone", PolicyArn=arn)
    api.create_role(RoleName="acme-gone", AssumeRolePolicyDocument=TRUST)
    api.put_role_policy(RoleName="acme-gone", PolicyName="inline", PolicyDocument=DOCUMENT)
    api.attach_role_policy(RoleName="acme-gone", PolicyArn=arn)
    api.create_instance_profile(InstanceProfileName="acme-gone")
    api.add_role_to_instance_profile(InstanceProfileName="acme-gone", RoleName="acme-gone")
    for delete, key in (
        (iam.delete_instance_profile, "acme-gone"),
        (iam.delete_role, "acme-gone"),
        (iam.delete_user, "acme-gone"),
        (iam.delete_policy, arn),
    ):
        assert delete(key, REGION) is True, delete.__name__
        assert delete(key, REGION) is False, delete.__name__
    assert (iam.instance_profile("acme-gone", REGION), iam.role("acme-gone", REGION), iam.user("acme-gone", REGION)) == (None, None, None)
    assert iam.managed_policy(arn, REGION) is None
