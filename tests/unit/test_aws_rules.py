"""AWS's rules that moto lacks, as the emulator applies them in local mode and every test (``local/``).
Each test shows the rule bites: what the code did before the rule existed fails under it."""

import json
from datetime import datetime, timezone

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
    instance_id = ec2.run_instances(ImageId=_canonical(ec2, XENIAL, IncludeDeprecated=True)[0]["ImageId"], MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    own = ec2.create_image(InstanceId=instance_id, Name="own-image")["ImageId"]
    ec2.modify_image_attribute(ImageId=own, LaunchPermission={"Add": [{"Group": "all"}]})  # public
    ec2_backends[ACCOUNT][aws.region].amis[own].creation_date = datetime(2020, 1, 1, tzinfo=timezone.utc)
    [image] = ec2.describe_images(Owners=["self"])["Images"]
    assert image["ImageId"] == own and image["DeprecationTime"] == "2022-01-01T00:00:00.000Z"


# IAM propagation (local/iam_propagation.py) ------------------------------------------------------
def _access_policy(principal: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "es:*", "Resource": "*"}]})


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
