"""AWS's rules that moto lacks, as the emulator applies them in local mode and every test (``local/``).
Each test shows the rule bites: what the code did before the rule existed fails under it."""

import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from analytics_provisioner.local.catalog import CANONICAL
from analytics_provisioner.local.emulator import ACCOUNT
from analytics_provisioner.local.iam_propagation import PROPAGATION_SECONDS

XENIAL = ["ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*"]


# Deprecated images (local/deprecated_images.py) ---------------------------------------------------
def _canonical(ec2, patterns: list[str], **request) -> list[dict]:
    return ec2.describe_images(Owners=[CANONICAL], Filters=[{"Name": "name", "Values": patterns}], **request)["Images"]


def test_deprecated_images_are_listed_only_when_asked(aws):
    ec2 = aws.client("ec2")
    assert _canonical(ec2, XENIAL) == [], "the lookup before IncludeDeprecated finds no Ubuntu 16.04 image, as on AWS"
    [xenial] = _canonical(ec2, XENIAL, IncludeDeprecated=True)
    assert xenial["DeprecationTime"] == "2023-10-01T00:00:00.000Z"  # two years after its creation
    assert ec2.describe_images(ImageIds=[xenial["ImageId"]])["Images"][0]["ImageId"] == xenial["ImageId"]  # by id: always


def test_images_younger_than_two_years_are_listed_with_their_deprecation_time(aws):
    focal = _canonical(aws.client("ec2"), ["ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-*"])
    assert len(focal) == 1 and focal[0]["DeprecationTime"] > focal[0]["CreationDate"]


def test_the_owner_sees_its_deprecated_images(aws):
    from moto.ec2.models import ec2_backends

    ec2 = aws.client("ec2")
    instance_id = ec2.run_instances(ImageId=_canonical(ec2, XENIAL, IncludeDeprecated=True)[0]["ImageId"], MinCount=1, MaxCount=1)[
        "Instances"
    ][0]["InstanceId"]
    own = ec2.create_image(InstanceId=instance_id, Name="own-image")["ImageId"]
    ec2.modify_image_attribute(ImageId=own, LaunchPermission={"Add": [{"Group": "all"}]})  # public
    ec2_backends[ACCOUNT][aws.region].amis[own].creation_date = datetime(2020, 1, 1, tzinfo=UTC)
    [image] = ec2.describe_images(Owners=["self"])["Images"]
    assert image["ImageId"] == own and image["DeprecationTime"] == "2022-01-01T00:00:00.000Z"


# IAM propagation (local/iam_propagation.py) ------------------------------------------------------
def _access_policy(principal: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "es:*", "Resource": "*"}]}
    )


def _refusal(call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as refused:
        call()
    error = refused.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]


def test_an_access_policy_naming_a_fresh_principal_is_refused_until_iam_has_propagated_it(aws):
    user = aws.client("iam").create_user(UserName="fresh")["User"]["Arn"]
    opensearch = aws.client("opensearch")
    code, status, message = _refusal(lambda: opensearch.create_domain(DomainName="fresh", AccessPolicies=_access_policy(user)))
    assert (code, status) == ("InvalidTypeException", 409) and message.startswith("Error setting policy")
    aws.clock.wait(PROPAGATION_SECONDS - 1)
    assert _refusal(lambda: opensearch.create_domain(DomainName="fresh", AccessPolicies=_access_policy(user)))[0] == "InvalidTypeException"
    aws.clock.wait(1)
    opensearch.create_domain(DomainName="fresh", AccessPolicies=_access_policy(user))
    role = aws.client("iam").create_role(RoleName="fresh", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code, status, _ = _refusal(lambda: opensearch.update_domain_config(DomainName="fresh", AccessPolicies=_access_policy(role)))
    assert (code, status) == ("InvalidTypeException", 409)
    assert aws.iam_propagation.refused == [user, user, role]


def test_a_fresh_instance_profile_is_refused_until_iam_has_propagated_it(aws):
    iam, ec2 = aws.client("iam"), aws.client("ec2")
    iam.create_role(RoleName="fresh", AssumeRolePolicyDocument="{}")
    profile = iam.create_instance_profile(InstanceProfileName="fresh")["InstanceProfile"]
    aws.clock.wait(PROPAGATION_SECONDS)
    iam.add_role_to_instance_profile(InstanceProfileName="fresh", RoleName="fresh")  # propagation starts again
    image = _canonical(ec2, ["ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-*"])[0]["ImageId"]

    def launch(**profile_ref):
        return ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, IamInstanceProfile=profile_ref)

    code, status, message = _refusal(lambda: launch(Arn=profile["Arn"]))
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == f"Value ({profile['Arn']}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
    assert _refusal(lambda: launch(Name="fresh"))[2].endswith("Invalid IAM Instance Profile name")
    aws.clock.wait(PROPAGATION_SECONDS)
    assert launch(Name="fresh")["Instances"]


def test_propagation_counts_the_waits_of_the_asking_thread_only(aws):
    """A Parallel branch's waits pass no time for another branch: the rule bites on every first use."""
    import threading

    user = aws.client("iam").create_user(UserName="fresh")["User"]["Arn"]
    other = threading.Thread(target=aws.clock.wait, args=(3600,))
    other.start()
    other.join()
    assert aws.iam_propagation.fresh(user)


# EC2 limits (local/ec2_limits.py) -----------------------------------------------------------------
def _default_subnet(ec2, zone: str) -> str:
    filters = [{"Name": "availability-zone", "Values": [zone]}, {"Name": "default-for-az", "Values": ["true"]}]
    return ec2.describe_subnets(Filters=filters)["Subnets"][0]["SubnetId"]


def test_a_security_group_name_starting_with_sg_is_refused(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    code, status, message = _refusal(lambda: ec2.create_security_group(GroupName="sg-acme-analytics", Description="x", VpcId=vpc))
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == "Value (sg-acme-analytics) for parameter GroupName is invalid. Group names may not be in the format sg-*."
    assert ec2.create_security_group(GroupName="acme-sg-analytics", Description="x", VpcId=vpc)["GroupId"].startswith("sg-")


def test_an_instance_type_runs_only_images_of_its_architectures(aws):
    ec2 = aws.client("ec2")
    x86 = _canonical(ec2, ["ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-*"])[0]["ImageId"]
    arm = _canonical(ec2, ["ubuntu/images/hvm-ssd/ubuntu-focal-20.04-arm64-server-*"])[0]["ImageId"]
    code, _, message = _refusal(lambda: ec2.run_instances(ImageId=arm, InstanceType="t2.medium", MinCount=1, MaxCount=1))
    assert code == "InvalidParameterValue" and message.startswith(
        "The architecture 'x86_64' of the specified instance type does not match the architecture 'arm64'"
    )
    assert _refusal(lambda: ec2.run_instances(ImageId=x86, InstanceType="t4g.medium", MinCount=1, MaxCount=1))[0] == "InvalidParameterValue"
    assert ec2.run_instances(ImageId=arm, InstanceType="t4g.medium", MinCount=1, MaxCount=1)["Instances"]


def test_an_instance_type_launches_only_in_a_zone_that_offers_it(aws):
    ec2 = aws.client("ec2")
    image = _canonical(ec2, ["ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-*"])[0]["ImageId"]

    def launch(zone: str, **request):
        interface = {"DeviceIndex": 0, "SubnetId": _default_subnet(ec2, zone)}
        return ec2.run_instances(ImageId=image, InstanceType="t3.medium", MinCount=1, MaxCount=1, NetworkInterfaces=[interface], **request)

    code, _, message = _refusal(lambda: launch("us-east-1e"))
    assert code == "Unsupported"
    assert message.startswith("Your requested instance type (t3.medium) is not supported in your requested Availability Zone (us-east-1e).")
    assert launch("us-east-1a")["Instances"]


# OpenSearch limits (local/search_limits.py and the catalogue) -------------------------------------
def _domain(opensearch, instance_type: str, size: int, encrypted: bool = False):
    return opensearch.create_domain(
        DomainName=f"d{size}{instance_type[:2]}{int(encrypted)}",
        EngineVersion="Elasticsearch_7.10",
        ClusterConfig={"InstanceType": instance_type, "InstanceCount": 1},
        EBSOptions={"EBSEnabled": True, "VolumeType": "gp2", "VolumeSize": size},
        EncryptionAtRestOptions={"Enabled": encrypted},
    )


def test_a_search_volume_beyond_the_instance_types_limit_is_refused(aws):
    opensearch = aws.client("opensearch")
    code, status, message = _refusal(lambda: _domain(opensearch, "t2.small.search", 36))
    assert (code, status) == ("ValidationException", 400)
    assert message == "Volume size must be between 10 and 35 for t2.small.search instance type and ElasticSearch version 7.10"
    assert _refusal(lambda: _domain(opensearch, "t3.small.search", 101))[2].startswith("Volume size must be between 10 and 100")
    assert _domain(opensearch, "t2.small.search", 35) and _domain(opensearch, "t3.small.search", 100)


def test_encryption_at_rest_is_refused_on_a_type_that_cannot(aws):
    opensearch = aws.client("opensearch")
    code, _, message = _refusal(lambda: _domain(opensearch, "t2.small.search", 10, encrypted=True))
    assert code == "ValidationException" and message == "Encryption at rest is not supported with t2.small.search instance type"
    assert _domain(opensearch, "t3.small.search", 10, encrypted=True)


def test_the_catalogue_answers_the_limits_and_details_the_rule_applies(aws):
    opensearch = aws.client("opensearch")
    limits = opensearch.describe_instance_type_limits(InstanceType="t2.small.search", EngineVersion="Elasticsearch_7.10")["LimitsByRole"]
    (gp2,) = [s for s in limits["data"]["StorageTypes"] if s["StorageSubTypeName"] == "gp2"]
    assert {limit["LimitName"]: limit["LimitValues"] for limit in gp2["StorageTypeLimits"]} == {
        "MinimumVolumeSize": ["10"],
        "MaximumVolumeSize": ["35"],
    }
    details = opensearch.list_instance_type_details(EngineVersion="Elasticsearch_7.10")["InstanceTypeDetails"]
    encrypts = {detail["InstanceType"]: detail["EncryptionEnabled"] for detail in details}
    assert encrypts["t2.small.search"] is False and encrypts["t3.small.search"] is True


# Restored instances take the snapshot's tags (local/rds_snapshot_tags.py) ----------------------------
def test_an_instance_restored_from_a_snapshot_carries_the_snapshots_tags_not_its_sources(aws):
    rds = aws.client("rds")
    for copy_tags in (False, True):
        source = f"source{int(copy_tags)}"
        rds.create_db_instance(
            DBInstanceIdentifier=source,
            Engine="mysql",
            DBInstanceClass="db.t3.small",
            MasterUsername="admin",
            ManageMasterUserPassword=True,
            AllocatedStorage=20,
            CopyTagsToSnapshot=copy_tags,
            Tags=[{"Key": "owner", "Value": "me"}],
        )
        rds.create_db_snapshot(DBInstanceIdentifier=source, DBSnapshotIdentifier=f"{source}-snap")
        restored = rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=f"{source}-copy", DBSnapshotIdentifier=f"{source}-snap")[
            "DBInstance"
        ]
        listed = rds.describe_db_instances(DBInstanceIdentifier=f"{source}-copy")["DBInstances"][0]
        expected = [{"Key": "owner", "Value": "me"}] if copy_tags else []
        assert restored.get("TagList", []) == listed.get("TagList", []) == expected, copy_tags
    given = rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier="given", DBSnapshotIdentifier="source1-snap", Tags=[{"Key": "a", "Value": "b"}]
    )
    assert given["DBInstance"]["TagList"] == [{"Key": "a", "Value": "b"}]


# RDS Extended Support (local/rds_lifecycle.py) -----------------------------------------------------
def _mysql(rds, identifier: str, version: str, **request) -> dict:
    return rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="mysql",
        EngineVersion=version,
        DBInstanceClass="db.t3.small",
        AllocatedStorage=20,
        MasterUsername="admin",
        ManageMasterUserPassword=True,
        **request,
    )["DBInstance"]


def test_a_new_mysql_instance_is_enrolled_in_paid_extended_support_unless_told_otherwise(aws):
    rds = aws.client("rds")
    assert _mysql(rds, "unasked", "8.4.4")["EngineLifecycleSupport"] == "open-source-rds-extended-support"  # what the code did before
    _mysql(rds, "disabled", "8.4.4", EngineLifecycleSupport="open-source-rds-extended-support-disabled")
    listed = {i["DBInstanceIdentifier"]: i["EngineLifecycleSupport"] for i in rds.describe_db_instances()["DBInstances"]}
    assert listed == {"unasked": "open-source-rds-extended-support", "disabled": "open-source-rds-extended-support-disabled"}


def test_without_extended_support_rds_creates_no_instance_of_a_major_past_standard_support(aws):
    rds = aws.client("rds")
    code, _, message = _refusal(lambda: _mysql(rds, "old", "8.0.41", EngineLifecycleSupport="open-source-rds-extended-support-disabled"))
    assert code == "InvalidParameterCombination" and "past its end of standard support date (2026-07-31)" in message
    assert _mysql(rds, "old", "8.0.41")["EngineLifecycleSupport"] == "open-source-rds-extended-support"


def test_the_catalogue_answers_each_majors_support_dates(aws):
    majors = aws.client("rds").describe_db_major_engine_versions(Engine="mysql")["DBMajorEngineVersions"]
    ends = {
        m["MajorEngineVersion"]: [
            (lc["LifecycleSupportName"], f"{lc['LifecycleSupportEndDate']:%Y-%m-%d}") for lc in m["SupportedEngineLifecycles"]
        ]
        for m in majors
    }
    assert ends["8.0"] == [("open-source-rds-standard-support", "2026-07-31"), ("open-source-rds-extended-support", "2029-07-31")]
