"""AWS's rules that moto lacks, as the emulator applies them in local mode and every test (``local/``).
Each test shows the rule bites: what the code did before the rule existed fails under it."""

from datetime import datetime, timezone

from analytics_provisioner.local.catalog import CANONICAL
from analytics_provisioner.local.emulator import ACCOUNT

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
