"""The Compute phase against moto: the image it picks, what it launches and with which security
parameters, the Elastic IP, and what a re-run does with what it finds."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from analytics_provisioner.aws import secrets
from analytics_provisioner.aws import tags as tagging
from analytics_provisioner.deployment import Deployment
from analytics_provisioner.errors import (
    AwsCallError,
    IamPropagationError,
    OwnershipError,
    PreflightError,
    ResourceStateError,
    TransientAwsError,
)
from analytics_provisioner.handler import invoke
from analytics_provisioner.local import faults
from analytics_provisioner.local.ec2_describe_lag import LAG_SECONDS
from analytics_provisioner.local.emulator import ACCOUNT
from analytics_provisioner.local.iam_propagation import PROPAGATION_SECONDS
from analytics_provisioner.naming import TAG_DEPLOYMENT, Names
from analytics_provisioner.phases import compute
from analytics_provisioner.state import IdentityOutput, NetworkOutput, SecurityGroups
from samples import resolved, sample

REGION = "us-east-1"
CANONICAL = "099720109477"
NAMES = Names("acme-demo")
FOCAL = "ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-{}"


def register_image(name: str, created: str, architecture: str = "x86_64", owner: str = CANONICAL) -> str:
    """An image as Canonical publishes it (moto's catalogue has no recent Ubuntu, and RegisterImage
    cannot set another owner)."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.amis import Ami
    from moto.ec2.utils import random_ami_id

    backend = ec2_backends[ACCOUNT][REGION]
    image = Ami(
        backend,
        random_ami_id(),
        name=name,
        owner_id=owner,
        architecture=architecture,
        public=True,
        creation_date=datetime.fromisoformat(created).replace(tzinfo=UTC),
        virtualization_type="hvm",
        root_device_type="ebs",
        root_device_name="/dev/sda1",
    )
    backend.amis[image.id] = image
    return image.id


class _Http:
    headers: dict = {}

    def __init__(self, status_code: int):
        self.status_code = status_code


def answer_once(aws, operation: str, code: str, message: str) -> None:
    """The next ``operation`` call gets the error the real EC2 gives, then calls reach moto again."""
    answered = []

    def answer(**_):
        if not answered:
            answered.append(operation)
            return _Http(400), {"Error": {"Code": code, "Message": message}}
        return None

    aws.client("ec2").meta.events.register(f"before-call.ec2.{operation}", answer)


@pytest.fixture
def client_tokens(aws):
    """EC2 remembers a RunInstances ClientToken (moto does not): the same token answers with its
    instance, terminated or not, or with IdempotentParameterMismatch when the request changed."""
    ec2 = aws.client("ec2")
    spent = []

    def answer(params, **_):
        body = params["body"]
        earlier = [i for i in _all_instances(ec2) if i.get("ClientToken") == body["ClientToken"]]
        if not earlier:
            return None
        spent.append(body["ClientToken"])
        if (earlier[0]["ImageId"], earlier[0]["InstanceType"]) != (body["ImageId"], body["InstanceType"]):
            return _Http(400), {
                "Error": {"Code": "IdempotentParameterMismatch", "Message": "Arguments on this idempotent request are inconsistent"}
            }
        return _Http(200), {"ReservationId": "r-replayed", "OwnerId": ACCOUNT, "Instances": earlier}

    ec2.meta.events.register("before-call.ec2.RunInstances", answer)
    return spent


def _all_instances(ec2, **filters) -> list[dict]:
    kwargs = {"Filters": [{"Name": k, "Values": [v]} for k, v in filters.items()]} if filters else {}
    return [i for r in ec2.describe_instances(**kwargs)["Reservations"] for i in r["Instances"]]


def _instance(ec2, instance_id: str) -> dict:
    return _all_instances(ec2, **{"instance-id": instance_id})[0]


@pytest.fixture
def images(aws):
    """Later than the emulator's public catalogue, so the newest is always one of these."""
    return {
        "old": register_image(FOCAL.format("20230101"), "2033-01-01T00:00:00"),
        "newest": register_image(FOCAL.format("20240605"), "2034-06-05T00:00:00"),
        "older_than_newest": register_image(FOCAL.format("20240101"), "2034-01-01T00:00:00"),
        "arm64": register_image("ubuntu/images/hvm-ssd/ubuntu-focal-20.04-arm64-server-20240301", "2034-03-01T00:00:00", "arm64"),
        "impostor": register_image(FOCAL.format("20250101"), "2035-01-01T00:00:00", owner="111122223333"),
        "pro": register_image("ubuntu-pro-server/images/hvm-ssd/ubuntu-focal-20.04-amd64-pro-server-20250101", "2035-01-01T00:00:00"),
        "jammy_gp2": register_image("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20230801", "2033-08-01T00:00:00"),
        "jammy_gp3": register_image("ubuntu/images/hvm-ssd-gp3/ubuntu-jammy-22.04-amd64-server-20240801", "2034-08-01T00:00:00"),
    }


@pytest.fixture
def state(aws, images, minimal_input):
    """The state after Network, as docs/state.md describes it, built directly in moto."""
    ec2, iam = aws.client("ec2"), aws.client("iam")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnet_id = sorted(
        ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"], key=lambda s: s["AvailabilityZone"]
    )[0]["SubnetId"]
    groups = {
        "default": ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"][0]["GroupId"]
    }
    for role, name in (("analytics", NAMES.analytics_security_group), ("director", NAMES.director_security_group)):
        groups[role] = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]
    iam.create_role(RoleName=NAMES.analytics_role, AssumeRolePolicyDocument="{}")
    profile = iam.create_instance_profile(InstanceProfileName=NAMES.analytics_instance_profile)["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=NAMES.analytics_instance_profile, RoleName=NAMES.analytics_role)
    aws.clock.wait(PROPAGATION_SECONDS)  # Identity ran a while ago: IAM has propagated the profile
    deployment = resolved(minimal_input, REGION, vpc_id, subnet_id, ami_id=images["newest"])  # the image Validate chose
    groups = sample(SecurityGroups, **groups)  # the EMR and EMR RDS groups are not Compute's
    return {
        "deployment": deployment.to_state(),
        "identity": sample(
            IdentityOutput, analytics_instance_profile_name=profile["InstanceProfileName"], analytics_instance_profile_arn=profile["Arn"]
        ).to_state(),
        "network": sample(NetworkOutput, vpc_id=vpc_id, subnet_id=subnet_id, security_groups=groups).to_state(),
    }


def with_options(state: dict, **options) -> dict:
    state["deployment"]["options"].update(options)
    return state


def chosen_image(state: dict, **options) -> str:
    """The image Validate chooses for the input with ``options`` (``compute.ubuntu_image``), which Compute launches."""
    unpinned = {**state["deployment"]["options"], "ami_id": None, "ubuntu_release": None, **options}
    return compute.ubuntu_image(Deployment.from_state({**state["deployment"], "options": unpinned}), ())["ImageId"]


def inventory(aws) -> dict:
    ec2 = aws.client("ec2")
    return {
        "instances": sorted(i["InstanceId"] for i in _all_instances(ec2)),
        "addresses": sorted(a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]),
        "key_pairs": sorted(k["KeyPairId"] for k in ec2.describe_key_pairs()["KeyPairs"]),
        "secrets": sorted(s["ARN"] for s in aws.client("secretsmanager").list_secrets()["SecretList"]),
    }


# The image -------------------------------------------------------------------------------------
def test_newest_canonical_image_of_the_release_and_architecture(state, images):
    assert chosen_image(state) == images["newest"]
    assert invoke(compute.run, state)["ami_id"] == images["newest"]


def test_arm64_takes_the_arm64_image(state, images):
    assert chosen_image(state, architecture="arm64") == images["arm64"]


def test_release_from_options_searches_the_gp3_image_store_too(state, images):
    assert chosen_image(state, ubuntu_release="22.04") == images["jammy_gp3"]


def test_pinned_ami_wins(state, images):
    assert invoke(compute.run, with_options(state, ami_id=images["old"]))["ami_id"] == images["old"]


def test_pinned_ami_that_does_not_exist(state):
    with pytest.raises(PreflightError, match="options.ami_id: image ami-0123456789abcdef0 does not exist in us-east-1"):
        invoke(compute.run, with_options(state, ami_id="ami-0123456789abcdef0"))


def test_no_image_for_the_release_names_release_region_and_the_way_out(aws, state):
    from moto.ec2.models import ec2_backends

    amis = ec2_backends[ACCOUNT][REGION].amis
    for image_id in [i for i, image in amis.items() if "bionic-18.04" in (image.name or "")]:
        del amis[image_id]  # a region without any 18.04 image
    with pytest.raises(
        PreflightError, match=r"no Canonical Ubuntu 18\.04 x86_64 image found in us-east-1; pin an image with options\.ami_id"
    ):
        chosen_image(state, ubuntu_release="18.04")
    assert inventory(aws)["instances"] == inventory(aws)["key_pairs"] == []


def test_name_patterns_are_canonicals():
    assert compute.ubuntu_name_patterns("16.04", "x86_64") == [
        "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*",
        "ubuntu/images/hvm-ssd-gp3/ubuntu-xenial-16.04-amd64-server-*",
    ]
    assert compute.canonical_owner("eu-west-1") == CANONICAL


# What is launched ------------------------------------------------------------------------------
def _root_volume(ec2, instance: dict) -> dict:
    volume_id = instance["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    return ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]


def _group_ids(instance: dict) -> set[str]:
    return {group["GroupId"] for group in instance["NetworkInterfaces"][0]["Groups"]}


def test_analytics_instance_parameters(aws, state, images):
    ec2 = aws.client("ec2")
    result = invoke(compute.run, state)
    [analytics] = result["analytics_instances"]
    instance = _instance(ec2, analytics["instance_id"])
    assert analytics["name"] == "acme-demo-analytics-1"
    assert tagging.from_list(instance["Tags"]) == {
        "Name": "acme-demo-analytics-1",
        TAG_DEPLOYMENT: "acme-demo",
        "analytics-provisioner:managed-by": "analytics-provisioner",
    }
    assert instance["InstanceType"] == "t2.medium"
    assert instance["ImageId"] == images["newest"]
    assert instance["KeyName"] == NAMES.analytics_key_pair
    assert instance["SubnetId"] == state["network"]["subnet_id"]
    assert _group_ids(instance) == {state["network"]["security_groups"]["default"], state["network"]["security_groups"]["analytics"]}
    assert instance["IamInstanceProfile"]["Arn"] == state["identity"]["analytics_instance_profile_arn"]
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    volume = _root_volume(ec2, instance)
    assert (volume["Size"], volume["Encrypted"], volume["VolumeType"]) == (50, True, "gp3")
    assert tagging.belongs_to(tagging.from_list(volume["Tags"]), "acme-demo")


def test_director_instance_parameters(aws, state):
    ec2 = aws.client("ec2")
    director = invoke(compute.run, state)["director_instance"]
    instance = _instance(ec2, director["instance_id"])
    assert director["name"] == tagging.from_list(instance["Tags"])["Name"] == "acme-demo-director"
    assert instance["InstanceType"] == "t2.micro"
    assert instance["KeyName"] == NAMES.director_key_pair
    assert _group_ids(instance) == {state["network"]["security_groups"]["default"], state["network"]["security_groups"]["director"]}
    assert "IamInstanceProfile" not in instance
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    volume = _root_volume(ec2, instance)
    assert (volume["Size"], volume["Encrypted"]) == (8, True)


def test_first_boot_installs_updates_and_carries_no_secret(aws, state):
    ec2 = aws.client("ec2")
    result = invoke(compute.run, state)
    for launched in result["analytics_instances"] + [result["director_instance"]]:
        user_data = ec2.describe_instance_attribute(InstanceId=launched["instance_id"], Attribute="userData")["UserData"]["Value"]
        assert base64.b64decode(user_data).decode() == "#cloud-config\npackage_update: true\npackage_upgrade: true\n"


def test_count_type_and_volume_from_options(aws, state):
    ec2 = aws.client("ec2")
    result = invoke(
        compute.run, with_options(state, analytics_instance_count=3, analytics_instance_type="m5.large", analytics_volume_gb=120)
    )
    assert [a["name"] for a in result["analytics_instances"]] == ["acme-demo-analytics-1", "acme-demo-analytics-2", "acme-demo-analytics-3"]
    for launched in result["analytics_instances"]:
        instance = _instance(ec2, launched["instance_id"])
        assert instance["InstanceType"] == "m5.large"
        assert _root_volume(ec2, instance)["Size"] == 120


def test_output_keys_are_the_contract(state):
    result = invoke(compute.run, state)
    assert set(result) == {"ami_id", "analytics_instances", "director_instance", "eip", "key_pairs", "warnings"}
    assert set(result["director_instance"]) == {"instance_id", "name", "private_ip", "public_ip", "private_dns"}
    assert all(result["director_instance"].values())
    assert set(result["key_pairs"]) == {"analytics", "director", "jenkins_deploy"}
    assert result["warnings"] == []


# Key pairs -------------------------------------------------------------------------------------
def test_private_keys_go_only_to_secrets_manager(aws, state):
    result = invoke(compute.run, state)
    ec2 = aws.client("ec2")
    for role, name in (
        ("analytics", NAMES.analytics_key_pair),
        ("director", NAMES.director_key_pair),
        ("jenkins_deploy", NAMES.jenkins_deploy_key_pair),
    ):
        pair = ec2.describe_key_pairs(KeyNames=[name])["KeyPairs"][0]
        assert tagging.belongs_to(tagging.from_list(pair["Tags"]), "acme-demo")
        secret_arn = result["key_pairs"][role]["secret_arn"]
        assert result["key_pairs"][role]["name"] == name
        value = secrets.read_json(secret_arn, REGION, ("key_name", "key_pair_id", "private_key"))
        assert value["key_name"] == name and value["key_pair_id"] == pair["KeyPairId"]
        assert value["private_key"].startswith("-----BEGIN")
        assert secret_arn == aws.client("secretsmanager").describe_secret(SecretId=NAMES.key_pair_secret(name))["ARN"]
        assert value["private_key"] not in json.dumps(result)


def _age_key_pair(name: str, hours: int) -> None:
    from moto.ec2.models import ec2_backends

    ec2_backends[ACCOUNT][REGION].key_pairs[name].create_time -= timedelta(hours=hours)


def test_key_pair_whose_private_key_we_lost_is_reported_not_replaced(aws, state):
    ec2 = aws.client("ec2")
    pair = ec2.create_key_pair(
        KeyName=NAMES.analytics_key_pair,
        TagSpecifications=[{"ResourceType": "key-pair", "Tags": tagging.as_list(tagging.ours("acme-demo"))}],
    )
    _age_key_pair(NAMES.analytics_key_pair, hours=1)  # an earlier run's
    with pytest.raises(
        ResourceStateError, match="key pair 'acme-demo-analytics' exists but its private key is not in Secrets Manager"
    ) as refused:
        invoke(compute.run, state)
    assert pair["KeyMaterial"] not in str(refused.value)
    assert ec2.describe_key_pairs(KeyNames=[NAMES.analytics_key_pair])["KeyPairs"][0]["KeyPairId"] == pair["KeyPairId"]
    assert inventory(aws)["instances"] == []


def test_a_key_pair_made_moments_ago_whose_key_nobody_holds_is_replaced(aws, state):
    """A create that never finished: its answer, carrying the private key, was lost (or the run stopped
    before storing it). No instance uses the pair and no secret holds its key."""
    ec2 = aws.client("ec2")
    lost = ec2.create_key_pair(
        KeyName=NAMES.analytics_key_pair,
        TagSpecifications=[{"ResourceType": "key-pair", "Tags": tagging.as_list(tagging.ours("acme-demo"))}],
    )["KeyPairId"]
    with pytest.raises(TransientAwsError, match="key pair 'acme-demo-analytics' was created moments ago but its private key never reached"):
        invoke(compute.run, state)
    assert ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": [NAMES.analytics_key_pair]}])["KeyPairs"] == []
    result = invoke(compute.run, state)
    [pair] = ec2.describe_key_pairs(KeyNames=[NAMES.analytics_key_pair])["KeyPairs"]
    assert pair["KeyPairId"] != lost
    assert secrets.read_json(result["key_pairs"]["analytics"]["secret_arn"], REGION, ("key_pair_id",))["key_pair_id"] == pair["KeyPairId"]


def test_a_key_pair_made_moments_ago_that_an_instance_uses_is_reported(aws, state):
    ec2 = aws.client("ec2")
    ec2.create_key_pair(
        KeyName=NAMES.director_key_pair,
        TagSpecifications=[{"ResourceType": "key-pair", "Tags": tagging.as_list(tagging.ours("acme-demo"))}],
    )
    ec2.run_instances(
        ImageId=state["deployment"]["options"].get("ami_id") or _any_image(ec2), MinCount=1, MaxCount=1, KeyName=NAMES.director_key_pair
    )
    with pytest.raises(ResourceStateError, match="key pair 'acme-demo-director' exists but its private key is not in Secrets Manager"):
        invoke(compute.run, state)


def _any_image(ec2) -> str:
    return ec2.describe_images(Owners=[CANONICAL])["Images"][0]["ImageId"]


def test_key_pair_of_someone_else_is_refused(aws, state):
    aws.client("ec2").create_key_pair(KeyName=NAMES.director_key_pair)
    with pytest.raises(OwnershipError, match=r"key pair 'acme-demo-director' exists and is not ours \(no deployment tag"):
        invoke(compute.run, state)


def test_key_pair_is_deleted_again_when_its_secret_cannot_be_stored(aws, state):
    answer_once_secrets = []

    def refuse(**_):
        if not answer_once_secrets:
            answer_once_secrets.append(1)
            return _Http(400), {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}
        return None

    aws.client("secretsmanager").meta.events.register("before-call.secrets-manager.CreateSecret", refuse)
    with pytest.raises(Exception, match="AccessDeniedException"):
        invoke(compute.run, state)
    assert aws.client("ec2").describe_key_pairs()["KeyPairs"] == []
    invoke(compute.run, state)
    assert len(aws.client("ec2").describe_key_pairs()["KeyPairs"]) == 3


def test_the_deploy_key_is_on_no_instance_and_its_public_half_is_in_the_output(aws, state):
    """Jenkins clones the secure repo with it; the operator adds the public half to that repository."""
    result = invoke(compute.run, state)
    ec2, deploy = aws.client("ec2"), result["key_pairs"]["jenkins_deploy"]
    pair = ec2.describe_key_pairs(KeyNames=[NAMES.jenkins_deploy_key_pair], IncludePublicKey=True)["KeyPairs"][0]
    assert deploy["public_key"] == pair["PublicKey"].strip() and deploy["public_key"].startswith("ssh-rsa ")
    launched = [_instance(ec2, i["instance_id"]) for i in [*result["analytics_instances"], result["director_instance"]]]
    assert NAMES.jenkins_deploy_key_pair not in {instance["KeyName"] for instance in launched}
    assert invoke(compute.run, state)["key_pairs"]["jenkins_deploy"] == deploy


# Elastic IP --------------------------------------------------------------------------------------
def test_elastic_ip_is_on_the_insights_instance(aws, state):
    result = invoke(compute.run, with_options(state, analytics_instance_count=2))
    insights = result["analytics_instances"][0]
    [address] = aws.client("ec2").describe_addresses()["Addresses"]
    assert address["InstanceId"] == insights["instance_id"] == result["eip"]["instance_id"]
    assert address["AllocationId"] == result["eip"]["allocation_id"]
    assert insights["public_ip"] == address["PublicIp"] == result["eip"]["public_ip"]
    assert tagging.from_list(address["Tags"])["Name"] == NAMES.insights_eip
    assert tagging.belongs_to(tagging.from_list(address["Tags"]), "acme-demo")


def test_association_before_the_instance_runs_is_transient(aws, state):
    answer_once(aws, "AssociateAddress", "IncorrectInstanceState", "The instance 'i-0' is not in a valid state for this operation.")
    with pytest.raises(TransientAwsError, match="IncorrectInstanceState"):
        invoke(compute.run, state)
    before = inventory(aws)
    result = invoke(compute.run, state)
    assert inventory(aws) == before
    assert result["eip"]["instance_id"] == result["analytics_instances"][0]["instance_id"]


# Re-runs -----------------------------------------------------------------------------------------
def test_rerun_launches_and_allocates_nothing(aws, state, client_tokens):
    first = invoke(compute.run, state)
    before = inventory(aws)
    assert (len(before["instances"]), len(before["addresses"]), len(before["key_pairs"])) == (2, 1, 3)
    second = invoke(compute.run, state)
    assert inventory(aws) == before
    assert second == first
    assert client_tokens == []  # found by tag: RunInstances was not even called


def test_a_lost_launch_response_gets_the_same_instance_back(aws, state, client_tokens):
    first = invoke(compute.run, state)
    insights = first["analytics_instances"][0]["instance_id"]
    ec2 = aws.client("ec2")
    ec2.delete_tags(Resources=[insights], Tags=[{"Key": "Name"}])  # as if describe did not show it yet
    second = invoke(compute.run, state)
    assert client_tokens == ["acme-demo-analytics-1-g1"]
    assert second["analytics_instances"][0]["instance_id"] == insights
    assert len(inventory(aws)["instances"]) == 2


def test_an_instance_profile_iam_has_not_propagated_yet_is_retried_not_fatal(aws, state):
    iam = aws.client("iam")
    fresh = iam.create_instance_profile(InstanceProfileName="acme-demo-fresh")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName="acme-demo-fresh", RoleName=NAMES.analytics_role)
    state["identity"]["analytics_instance_profile_arn"] = fresh["Arn"]
    with pytest.raises(IamPropagationError, match="Invalid IAM Instance Profile ARN"):
        invoke(compute.run, state)
    aws.clock.wait(PROPAGATION_SECONDS)
    result = invoke(compute.run, state)
    assert _instance(aws.client("ec2"), result["analytics_instances"][0]["instance_id"])["IamInstanceProfile"]["Arn"] == fresh["Arn"]


def test_other_invalid_parameters_are_permanent(aws, state):
    answer_once(aws, "RunInstances", "InvalidParameterValue", "Invalid value 'zz' for instanceType.")
    with pytest.raises(AwsCallError, match="InvalidParameterValue"):
        invoke(compute.run, state)


def test_terminated_insights_instance_is_replaced_and_the_eip_follows(aws, state, client_tokens):
    ec2 = aws.client("ec2")
    first = invoke(compute.run, state)
    old = first["analytics_instances"][0]["instance_id"]
    ec2.terminate_instances(InstanceIds=[old])
    second = invoke(compute.run, state)
    new = second["analytics_instances"][0]["instance_id"]
    assert new != old
    assert _instance(ec2, new)["ClientToken"] == "acme-demo-analytics-1-g2"
    assert client_tokens == []  # the listed terminated instance told us g1 is spent
    assert second["eip"]["allocation_id"] == first["eip"]["allocation_id"]
    assert ec2.describe_addresses(AllocationIds=[first["eip"]["allocation_id"]])["Addresses"][0]["InstanceId"] == new
    assert second["director_instance"] == first["director_instance"]
    assert any(f"instance {old} (acme-demo-analytics-1) is terminated; launched {new}" in w for w in second["warnings"])


def test_a_spent_token_of_a_terminated_instance_is_not_reused(aws, state, client_tokens):
    """After an hour EC2 no longer lists a terminated instance, but still answers its token with it."""
    ec2 = aws.client("ec2")
    old = invoke(compute.run, state)["director_instance"]["instance_id"]
    ec2.terminate_instances(InstanceIds=[old])
    ec2.delete_tags(Resources=[old], Tags=[{"Key": "Name"}])  # no longer found by tag
    new = invoke(compute.run, state)["director_instance"]["instance_id"]
    assert client_tokens == ["acme-demo-director-g1"]
    assert new != old and _instance(ec2, new)["ClientToken"] == "acme-demo-director-g2"
    assert _instance(ec2, new)["State"]["Name"] == "running"


def test_a_token_spent_on_another_request_moves_to_the_next_generation(aws, state, client_tokens, images):
    ec2 = aws.client("ec2")
    old = invoke(compute.run, state)["director_instance"]["instance_id"]
    ec2.terminate_instances(InstanceIds=[old])
    ec2.delete_tags(Resources=[old], Tags=[{"Key": "Name"}])
    new = invoke(compute.run, with_options(state, ami_id=images["old"]))["director_instance"]["instance_id"]
    assert _instance(ec2, new)["ClientToken"] == "acme-demo-director-g2"
    assert _instance(ec2, new)["ImageId"] == images["old"]


def test_instance_that_dies_at_launch_is_reported_with_ec2s_reason(aws, state):
    ec2, killed = aws.client("ec2"), []

    def terminate_first_launch(parsed, **_):
        if not killed:
            killed.append(parsed["Instances"][0]["InstanceId"])
            ec2.terminate_instances(InstanceIds=killed)

    ec2.meta.events.register("after-call.ec2.RunInstances", terminate_first_launch)
    with pytest.raises(
        ResourceStateError, match=r"instances did not start: (i-\w+) is terminated \(Client.UserInitiatedShutdown"
    ) as failed:
        invoke(compute.run, state)
    assert killed[0] in str(failed.value)


def test_stopped_instance_is_started_and_reported(aws, state):
    ec2 = aws.client("ec2")
    first = invoke(compute.run, state)
    director = first["director_instance"]["instance_id"]
    ec2.stop_instances(InstanceIds=[director])
    before = inventory(aws)
    second = invoke(compute.run, state)
    assert inventory(aws) == before
    assert _instance(ec2, director)["State"]["Name"] == "running"
    assert second["warnings"] == [
        f"instance {director} (acme-demo-director) was stopped; started it again (stop it afterwards if it was stopped on purpose)"
    ]


def test_elastic_ip_moved_away_is_brought_back(aws, state):
    ec2 = aws.client("ec2")
    first = invoke(compute.run, state)
    ec2.associate_address(
        AllocationId=first["eip"]["allocation_id"], InstanceId=first["director_instance"]["instance_id"], AllowReassociation=True
    )
    second = invoke(compute.run, state)
    assert second["eip"] == first["eip"]
    assert ec2.describe_addresses()["Addresses"][0]["InstanceId"] == first["analytics_instances"][0]["instance_id"]
    assert any("moved it to" in w for w in second["warnings"])


# Elastic IP: AllocateAddress takes no client token ------------------------------------------------
def _addresses(aws) -> list[dict]:
    return aws.client("ec2").describe_addresses()["Addresses"]


def test_a_lost_allocation_answer_is_not_allocated_again_but_found_by_its_tag(aws, state):
    """The SDK does not send AllocateAddress again; what the lost call allocated shows once EC2's describe
    catches up (local/ec2_describe_lag.py), and is used."""
    lost = aws.faults.lost_answer("ComputeFunction", "AllocateAddress")
    with faults.recorded_as("ComputeFunction"):
        result = invoke(compute.run, state)
    [address] = _addresses(aws)
    assert lost.lost == 1
    assert (address["AllocationId"], address["InstanceId"]) == (
        result["eip"]["allocation_id"],
        result["analytics_instances"][0]["instance_id"],
    )


def test_a_lost_allocation_that_does_not_show_is_left_to_the_retry_which_looks_first(aws, state):
    aws.faults.lost_answer("ComputeFunction", "AllocateAddress")
    aws.ec2_describe_lag.seconds = 3600
    with (
        faults.recorded_as("ComputeFunction"),
        pytest.raises(TransientAwsError, match="Elastic IP acme-demo-insights: the answer to AllocateAddress was lost"),
    ):
        invoke(compute.run, state)
    aws.ec2_describe_lag.seconds = LAG_SECONDS
    with faults.recorded_as("ComputeFunction"):
        result = invoke(compute.run, state)
    assert [a["AllocationId"] for a in _addresses(aws)] == [result["eip"]["allocation_id"]]


def _allocate_ours(aws, name: str = NAMES.insights_eip) -> str:
    return aws.client("ec2").allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": tagging.as_list(tagging.ours("acme-demo", Name=name))}]
    )["AllocationId"]


def test_a_second_address_of_ours_is_released_when_unused(aws, state):
    first = invoke(compute.run, state)
    spare = _allocate_ours(aws)  # as an older version's retried allocation left it
    second = invoke(compute.run, state)
    assert second["eip"] == first["eip"]
    assert [a["AllocationId"] for a in _addresses(aws)] == [first["eip"]["allocation_id"]]
    assert any("released Elastic IP" in w and spare in w for w in second["warnings"])


def test_of_two_unused_addresses_the_lowest_allocation_id_is_kept(aws, state):
    spares = sorted([_allocate_ours(aws), _allocate_ours(aws)])
    result = invoke(compute.run, state)
    assert result["eip"]["allocation_id"] == spares[0]
    assert [a["AllocationId"] for a in _addresses(aws)] == [spares[0]]


def test_a_second_address_in_use_elsewhere_is_kept_with_a_warning(aws, state):
    ec2 = aws.client("ec2")
    first = invoke(compute.run, state)
    other = _allocate_ours(aws)
    ec2.associate_address(AllocationId=other, InstanceId=first["director_instance"]["instance_id"])
    second = invoke(compute.run, state)
    assert second["eip"] == first["eip"]
    assert sorted(a["AllocationId"] for a in _addresses(aws)) == sorted([first["eip"]["allocation_id"], other])
    assert any(other in w and "is in use" in w for w in second["warnings"])


def test_an_address_without_our_deployment_tag_is_never_found_nor_released(aws, state):
    foreign = aws.client("ec2").allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": NAMES.insights_eip}]}]
    )["AllocationId"]
    result = invoke(compute.run, state)
    assert result["eip"]["allocation_id"] != foreign
    assert foreign in [a["AllocationId"] for a in _addresses(aws)]
