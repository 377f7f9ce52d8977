"""The Validate phase's read-only preflight: each refusal names the problem, nothing is created."""

import json
import re

import pytest

from analytics_provisioner.errors import InputError, OwnershipError, PreflightError
from analytics_provisioner.handler import invoke
from analytics_provisioner.local.emulator import ACCOUNT
from analytics_provisioner.naming import EMR_EC2_ROLE, TAG_DEPLOYMENT
from analytics_provisioner.phases import validate
from testkit import EDXAPP_ADMIN, ApiCalls, inventory


def run(doc):
    return invoke(validate.run, doc)


def test_good_input_resolves_network_and_versions(ready, minimal_input):
    result = run(minimal_input)
    deployment, facts = result["deployment"], result["preflight"]
    default_vpc = ready.client("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    assert deployment["network"]["vpc_id"] == default_vpc
    assert deployment["network"]["subnet_id"].startswith("subnet-")
    assert facts["network"]["internet_gateway_route"] is True
    assert facts["edxapp_db"]["db_instance_id"] == "acme-edxapp-db"
    options = deployment["options"]
    assert options["es_engine_version"] == "Elasticsearch_5.6"  # nearest offered to the runbook's 1.5
    assert options["es_instance_type"] == "t2.small.search"
    assert options["rds_engine_version"] == "8.4.4"  # newest 8.4 minor
    assert options["ubuntu_release"] == "20.04"
    assert any("Elasticsearch 1.5 is not offered" in w for w in result["warnings"])


def test_output_holds_no_secret_value(ready, minimal_input):
    assert EDXAPP_ADMIN["password"] not in json.dumps(run(minimal_input))


@pytest.mark.parametrize("username", ["admin", "analytics"])
def test_a_migration_user_named_like_an_analytics_server_account_is_refused(ready, minimal_input, username):
    """The analytics RDS master ('admin') or the analytics user would be taken over by DbSetup."""
    secret_id = minimal_input["edxapp"]["migration_secret_id"]
    ready.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=json.dumps({"username": username, "password": "pw"}))
    before = inventory(ready)
    with pytest.raises(
        PreflightError, match=rf"edxapp.migration_secret_id: the username in secret '{secret_id}' is '{username}'.*edxapp001"
    ):
        run(minimal_input)
    assert inventory(ready) == before


def test_a_read_only_user_named_like_the_edxapp_user_is_refused(ready, minimal_input):
    migration = json.loads(
        ready.client("secretsmanager").get_secret_value(SecretId=minimal_input["edxapp"]["migration_secret_id"])["SecretString"]
    )
    minimal_input["options"] = {"edxapp_ro_user": migration["username"]}
    before = inventory(ready)
    with pytest.raises(
        PreflightError, match=r"options.edxapp_ro_user: .* is the user of edxapp.migration_secret_id .*'acme-demo-edxapp-ro'"
    ):
        run(minimal_input)
    assert inventory(ready) == before


def test_bad_schema_is_refused_before_any_call(aws, minimal_input):
    minimal_input["deployment_id"] = "Bad_Id"
    with pytest.raises(InputError, match="deployment_id: 'Bad_Id' is not valid"):
        run(minimal_input)


def test_unknown_region(ready, minimal_input):
    minimal_input["region"] = "xx-nowhere-1"
    with pytest.raises(PreflightError, match="region: 'xx-nowhere-1' is not an AWS region"):
        run(minimal_input)


def test_unknown_vpc(ready, minimal_input):
    minimal_input["network"]["vpc_id"] = "vpc-0123456789abcdef0"
    with pytest.raises(PreflightError, match="network.vpc_id: VPC vpc-0123456789abcdef0 does not exist"):
        run(minimal_input)


def test_subnet_of_another_vpc(ready, minimal_input):
    ec2 = ready.client("ec2")
    other = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=other, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    minimal_input["network"]["subnet_id"] = subnet
    with pytest.raises(PreflightError, match=f"network.subnet_id: subnet {subnet} belongs to {other}"):
        run(minimal_input)


def test_subnet_without_internet_gateway_gets_the_runbook_remedy(ready, minimal_input):
    ec2 = ready.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    minimal_input["network"].update(vpc_id=vpc, subnet_id=subnet)
    with pytest.raises(PreflightError, match="no route to an internet gateway.*create an Internet Gateway, attach it"):
        run(minimal_input)


def test_missing_edxapp_database(ready, minimal_input):
    minimal_input["edxapp"]["db_instance_id"] = "nope-db"
    with pytest.raises(PreflightError, match="edxapp.db_instance_id: no RDS instance 'nope-db'"):
        run(minimal_input)


def test_unreadable_secret(ready, minimal_input):
    minimal_input["edxapp"]["migration_secret_id"] = "acme/does-not-exist"
    with pytest.raises(PreflightError, match=r"secret 'acme/does-not-exist' \(edxapp.migration_secret_id\) is not readable"):
        run(minimal_input)


def test_secret_without_required_keys_names_them_not_the_values(ready, minimal_input):
    ready.client("secretsmanager").put_secret_value(
        SecretId=minimal_input["edxapp"]["db_admin_secret_id"], SecretString=json.dumps({"username": "admin", "password": "s3cr3t-value"})
    )
    with pytest.raises(PreflightError, match="lacks the key\\(s\\) host, port") as refused:
        run(minimal_input)
    assert "s3cr3t-value" not in str(refused.value)


def test_secret_that_is_not_json(ready, minimal_input):
    ready.client("secretsmanager").put_secret_value(SecretId=minimal_input["edxapp"]["migration_secret_id"], SecretString="hunter2")
    with pytest.raises(PreflightError, match="is not a JSON object") as refused:
        run(minimal_input)
    assert "hunter2" not in str(refused.value)


def test_search_version_not_offered(ready, minimal_input):
    minimal_input["options"] = {"es_engine_version": "Elasticsearch_1.5"}
    with pytest.raises(PreflightError, match="options.es_engine_version: Elasticsearch_1.5 is not offered in us-east-1; offered: "):
        run(minimal_input)


def test_search_instance_type_not_offered(ready, minimal_input):
    minimal_input["options"] = {"es_engine_version": "OpenSearch_2.17", "es_instance_type": "t2.small.elasticsearch"}
    with pytest.raises(PreflightError, match="options.es_instance_type: t2.small.elasticsearch is not offered for OpenSearch_2.17"):
        run(minimal_input)


def test_ec2_type_not_offered(ready, minimal_input):
    minimal_input["options"] = {"analytics_instance_type": "zz9.huge"}
    with pytest.raises(PreflightError, match="options.analytics_instance_type: zz9.huge is not offered"):
        run(minimal_input)


def test_the_newest_canonical_image_is_resolved_for_compute(ready, minimal_input):
    ami_id = run(minimal_input)["deployment"]["options"]["ami_id"]
    image = ready.client("ec2").describe_images(ImageIds=[ami_id])["Images"][0]
    assert image["Name"].startswith("ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-")


def test_ironwood_finds_ubuntu_16_04_though_every_image_of_it_is_deprecated_and_warns(ready, minimal_input):
    minimal_input["options"] = {"openedx_release": "open-release/ironwood.master"}
    result = run(minimal_input)
    ami_id = result["deployment"]["options"]["ami_id"]
    image = ready.client("ec2").describe_images(ImageIds=[ami_id])["Images"][0]
    assert image["Name"].startswith("ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-")
    assert f"the instances' image {ami_id} ({image['Name']}) is deprecated since 2023-10-01" in " ".join(result["warnings"])


def test_an_image_younger_than_two_years_gives_no_deprecation_warning(ready, minimal_input):
    assert not [warning for warning in run(minimal_input)["warnings"] if "deprecated" in warning]


def test_release_without_an_image_is_refused_before_anything_exists(ready, minimal_input):
    from moto.ec2.models import ec2_backends

    amis = ec2_backends[ACCOUNT]["us-east-1"].amis
    for image_id in [i for i, image in amis.items() if "bionic-18.04" in (image.name or "")]:
        del amis[image_id]
    minimal_input["options"] = {"ubuntu_release": "18.04"}
    with pytest.raises(PreflightError, match=r"options.ubuntu_release: no Canonical Ubuntu 18\.04 x86_64 image found in us-east-1"):
        run(minimal_input)


def test_pinned_image_that_does_not_exist(ready, minimal_input):
    minimal_input["options"] = {"ami_id": "ami-0123456789abcdef0"}
    with pytest.raises(PreflightError, match="options.ami_id: image ami-0123456789abcdef0 does not exist in us-east-1"):
        run(minimal_input)


DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})


def _fill_emr_ec2_role(iam, policies: int) -> list[str]:
    iam.create_role(RoleName=EMR_EC2_ROLE, AssumeRolePolicyDocument="{}")
    arns = [iam.create_policy(PolicyName=f"someone-else-{n}", PolicyDocument=DOCUMENT)["Policy"]["Arn"] for n in range(policies)]
    for arn in arns:
        iam.attach_role_policy(RoleName=EMR_EC2_ROLE, PolicyArn=arn)
    return arns


def test_a_full_shared_emr_role_no_longer_matters(ready, minimal_input):
    """Each deployment's EMR instances have a role of their own: nothing is attached to the shared one,
    so its 10-policy quota (AttachedPoliciesPerRoleQuota) cannot refuse a deployment."""
    _fill_emr_ec2_role(ready.client("iam"), 10)
    run(minimal_input)


def test_rds_class_not_offered(ready, minimal_input):
    minimal_input["options"] = {"rds_instance_class": "db.zz9.huge"}
    with pytest.raises(PreflightError, match="options.rds_instance_class: db.zz9.huge is not offered for MySQL 8.4.4"):
        run(minimal_input)


def test_name_taken_by_someone_else_is_named(ready, minimal_input):
    ready.client("iam").create_role(RoleName="acme-demo-edxanalytics", AssumeRolePolicyDocument="{}")
    ready.client("s3").create_bucket(
        Bucket="acme-demo-edxanalytics",
    )
    ready.client("s3").put_bucket_tagging(Bucket="acme-demo-edxanalytics", Tagging={"TagSet": [{"Key": TAG_DEPLOYMENT, "Value": "other"}]})
    with pytest.raises(OwnershipError) as refused:
        run(minimal_input)
    message = str(refused.value)
    assert "IAM role 'acme-demo-edxanalytics' exists and is not ours (no deployment tag)" in message
    assert "S3 bucket 'acme-demo-edxanalytics' exists and is not ours (deployment other)" in message


def test_names_already_ours_are_fine(ready, minimal_input):
    ready.client("iam").create_role(
        RoleName="acme-demo-edxanalytics", AssumeRolePolicyDocument="{}", Tags=[{"Key": TAG_DEPLOYMENT, "Value": "acme-demo"}]
    )
    assert run(minimal_input)["deployment"]["deployment_id"] == "acme-demo"


def test_warnings_for_world_ssh_and_dns_hostnames(ready, minimal_input):
    ec2 = ready.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": False})
    minimal_input["network"]["director_ssh_cidrs"] = ["0.0.0.0/0"]
    warnings = run(minimal_input)["warnings"]
    assert any("SSH to the director is open to the whole internet" in w for w in warnings)
    assert any("DNS hostnames disabled" in w for w in warnings)


def test_preflight_creates_nothing(ready, minimal_input):
    before = inventory(ready)
    run(minimal_input)
    assert inventory(ready) == before


def test_a_poll_schedule_that_would_overflow_the_execution_history_is_refused_before_any_call(aws, minimal_input):
    minimal_input["options"] = {"poll_interval_seconds": 1, "poll_watch_seconds": 0, "search_timeout_minutes": 600}
    with pytest.raises(
        InputError,
        match=r"options.poll_interval_seconds: every 1 s with poll_watch_seconds 0, .* Step Functions ends "
        r"an execution at 25000; raise poll_interval_seconds or poll_watch_seconds",
    ):
        run(minimal_input)  # the bare account has no VPC: any AWS check would fail with PreflightError


def test_the_same_interval_with_a_watch_fits(ready, minimal_input):
    minimal_input["options"] = {"poll_interval_seconds": 1, "poll_watch_seconds": 300, "search_timeout_minutes": 600}
    assert run(minimal_input)["deployment"]["options"]["poll_watch_seconds"] == 300


# The limits AWS applies only when it creates a resource (phases/limits.py), each refused up front ----
def _refused(ready, doc, error=PreflightError) -> str:
    before = inventory(ready)
    with pytest.raises(error) as refused:
        run(doc)
    assert inventory(ready) == before
    return str(refused.value)


@pytest.mark.parametrize(
    "instance_type, size, working",
    [
        ("t2.small.search", 100, "give at most 35"),
        ("t3.small.search", 101, "give at most 100"),
    ],
)
def test_a_search_volume_beyond_the_instance_types_limit_is_refused_with_one_that_fits(ready, minimal_input, instance_type, size, working):
    minimal_input["options"] = {"es_engine_version": "Elasticsearch_7.10", "es_instance_type": instance_type, "es_volume_gb": size}
    message = _refused(ready, minimal_input)
    assert message.startswith(f"options.es_volume_gb: {size} GiB is outside what a {instance_type} data node takes") and working in message


def test_search_volumes_within_the_limits_are_taken(ready, minimal_input):
    minimal_input["options"] = {"es_engine_version": "Elasticsearch_7.10", "es_instance_type": "t3.small.search", "es_volume_gb": 100}
    assert run(minimal_input)["deployment"]["options"]["es_volume_gb"] == 100


def test_encryption_at_rest_follows_the_instance_type_details(ready, minimal_input):
    minimal_input["options"] = {"es_engine_version": "OpenSearch_2.17", "es_instance_type": "t3.small.search"}
    result = run(minimal_input)
    assert result["deployment"]["options"]["es_encryption_at_rest"] is True
    assert not [w for w in result["warnings"] if "not encrypted at rest" in w]
    minimal_input["options"] = {"es_engine_version": "Elasticsearch_7.10", "es_instance_type": "t2.small.search"}
    result = run(minimal_input)
    assert result["deployment"]["options"]["es_encryption_at_rest"] is False
    assert any("the search domain (t2.small.search) is not encrypted at rest" in w for w in result["warnings"])


def test_encryption_asked_of_a_type_that_cannot_is_refused_with_one_that_can(ready, minimal_input):
    minimal_input["options"] = {
        "es_engine_version": "Elasticsearch_7.10",
        "es_instance_type": "t2.small.search",
        "es_encryption_at_rest": True,
    }
    message = _refused(ready, minimal_input)
    assert message.startswith("options.es_encryption_at_rest: t2.small.search cannot encrypt at rest with Elasticsearch_7.10")
    assert 'choose options.es_instance_type "t3.small.search"' in message


def test_arm64_with_an_x86_only_type_is_refused_with_an_arm_type(ready, minimal_input):
    minimal_input["options"] = {"architecture": "arm64"}
    message = _refused(ready, minimal_input)
    assert message == (
        "options.analytics_instance_type: t2.medium runs i386, x86_64, not options.architecture 'arm64'; "
        "choose a type such as \"t4g.medium\", or set options.architecture to 'x86_64'"
    )


def test_arm64_with_arm_types_is_taken(ready, minimal_input):
    minimal_input["options"] = {"architecture": "arm64", "analytics_instance_type": "t4g.medium", "director_instance_type": "t4g.micro"}
    ami_id = run(minimal_input)["deployment"]["options"]["ami_id"]
    assert ready.client("ec2").describe_images(ImageIds=[ami_id])["Images"][0]["Architecture"] == "arm64"


def test_a_type_the_subnets_zone_does_not_offer_is_refused_though_the_region_offers_it(ready, minimal_input):
    ec2 = ready.client("ec2")
    subnet = ec2.describe_subnets(
        Filters=[{"Name": "availability-zone", "Values": ["us-east-1e"]}, {"Name": "default-for-az", "Values": ["true"]}]
    )["Subnets"][0]["SubnetId"]
    minimal_input["network"]["subnet_id"] = subnet
    minimal_input["options"] = {"analytics_instance_type": "t3.medium"}
    assert _refused(ready, minimal_input) == (
        f"options.analytics_instance_type: t3.medium is not offered in us-east-1e, the Availability Zone of network.subnet_id {subnet}; "
        'choose a type offered there such as "t2.medium", or a subnet in us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f'
    )
    minimal_input["options"] = {"analytics_instance_type": "t2.medium"}
    assert run(minimal_input)["preflight"]["network"]["availability_zone"] == "us-east-1e"


@pytest.mark.parametrize(
    "deployment_id, message",
    [
        (
            "sg-acme",
            "deployment_id: 'sg-acme' makes names AWS refuses: the security group name 'sg-acme-analytics' starts with 'sg-', "
            "which EC2 refuses; choose another id such as 'acme-sg'",
        ),
        (
            "acme--demo",
            "deployment_id: 'acme--demo' makes names AWS refuses: the RDS identifier 'acme--demo-analytics' contains '--' "
            "or ends with '-', which RDS refuses; choose another id such as 'acme-demo'",
        ),
    ],
)
def test_an_id_that_makes_names_aws_refuses_is_refused_before_any_call(aws, minimal_input, deployment_id, message):
    minimal_input["deployment_id"] = deployment_id
    calls = ApiCalls("ec2")
    with pytest.raises(InputError, match=re.escape(message)):
        run(minimal_input)
    assert calls.named("DescribeVpcs") == []


# RDS Extended Support (options.rds_engine_lifecycle_support) -----------------------------------------
def test_a_mysql_major_past_standard_support_is_refused_unless_extended_support_is_asked_for(ready, minimal_input):
    minimal_input["options"] = {"rds_engine_version": "8.0"}
    assert _refused(ready, minimal_input) == (
        "options.rds_engine_version: MySQL 8.0 left RDS standard support on 2026-07-31, and RDS creates no new instance of it with "
        'options.rds_engine_lifecycle_support "open-source-rds-extended-support-disabled"; choose options.rds_engine_version "8.4", '
        'or set options.rds_engine_lifecycle_support to "open-source-rds-extended-support" (paid RDS Extended Support)'
    )
    minimal_input["options"]["rds_engine_lifecycle_support"] = "open-source-rds-extended-support"
    assert run(minimal_input)["deployment"]["options"]["rds_engine_version"] == "8.0.41"


def test_an_existing_analytics_instance_on_an_old_major_is_not_refused_again(ready, minimal_input):
    ready.client("rds").create_db_instance(
        DBInstanceIdentifier="acme-demo-analytics",
        Engine="mysql",
        EngineVersion="8.0.41",
        DBInstanceClass="db.t3.small",
        AllocatedStorage=20,
        MasterUsername="admin",
        ManageMasterUserPassword=True,
        EngineLifecycleSupport="open-source-rds-extended-support",
        Tags=[{"Key": TAG_DEPLOYMENT, "Value": "acme-demo"}],
    )
    minimal_input["options"] = {"rds_engine_version": "8.0"}
    assert run(minimal_input)["deployment"]["options"]["rds_engine_lifecycle_support"] == "open-source-rds-extended-support-disabled"
