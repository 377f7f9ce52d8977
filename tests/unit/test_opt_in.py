"""Opt-in by tag: an input reaches only what existed before it when the owner tagged it for it.

Another team's secrets, database, buckets and images are refused by Validate with nothing created
and the resource untouched; the message gives the exact AWS CLI command that opts it in (these
tests run that command's parameters through boto3 and see Validate pass); each phase that uses
such a resource checks again; the grades statement names a principal of this account only.
"""

import copy
import json
import shlex

import pytest

from analytics_provisioner.aws import tags as tagging
from analytics_provisioner.deployment import Deployment
from analytics_provisioner.errors import NotOptedInError, PreflightError
from analytics_provisioner.handler import invoke
from analytics_provisioner.local.emulator import ACCOUNT
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import TAG_ALLOW, TAG_DEPLOYMENT
from analytics_provisioner.phases import compute, dbsetup, network, storage, validate
from testkit import EDXAPP_ADMIN, REGION, inventory, store_edxapp_admin_secret

OTHER_TEAM_TAGS = {"team": "payments", "cost-center": "42"}


@pytest.fixture
def account(aws, full_input):
    """The account as the edxapp owner prepared it for acme-prod (everything opted in)."""
    seed(aws, full_input)
    store_edxapp_admin_secret(aws, full_input)
    return aws


# --- another team's resources, one per field ------------------------------------------------------


def _foreign_secret(aws, doc, field, value):
    arn = aws.client("secretsmanager").create_secret(
        Name=f"payments/{field}", SecretString=json.dumps(value), Tags=tagging.as_list(OTHER_TEAM_TAGS)
    )["ARN"]
    doc["edxapp"][field] = f"payments/{field}"
    return ("secret", arn)


def _admin_secret(aws, doc):
    return _foreign_secret(aws, doc, "db_admin_secret_id", EDXAPP_ADMIN)


def _migration_secret(aws, doc):
    return _foreign_secret(aws, doc, "migration_secret_id", {"username": "payments", "password": "payments-password"})


def _secret_by_arn(aws, doc):
    kind, arn = _admin_secret(aws, doc)
    doc["edxapp"]["db_admin_secret_id"] = arn
    return kind, arn


def _database(aws, doc):
    aws.client("rds").create_db_instance(
        DBInstanceIdentifier="payments-db",
        Engine="mysql",
        EngineVersion="8.0.39",
        DBInstanceClass="db.t3.medium",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="payments-master-1",
        Tags=tagging.as_list(OTHER_TEAM_TAGS),
    )
    doc["edxapp"]["db_instance_id"] = "payments-db"
    return ("database", "payments-db")


def _foreign_bucket(aws, doc, field, name):
    aws.create_bucket(name)
    s3 = aws.client("s3")
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tagging.as_list(OTHER_TEAM_TAGS)})
    s3.put_bucket_policy(
        Bucket=name,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PaymentsOnly",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{name}/*",
                    }
                ],
            }
        ),
    )
    doc["edxapp"][field] = name
    return ("bucket", name)


def _grades_bucket(aws, doc):
    return _foreign_bucket(aws, doc, "grades_bucket", "payments-reports")


def _tracking_logs_bucket(aws, doc):
    return _foreign_bucket(aws, doc, "tracking_logs_bucket", "payments-logs")


def _listing_another_deployment(aws, doc):
    aws.client("secretsmanager").tag_resource(
        SecretId=doc["edxapp"]["migration_secret_id"], Tags=[{"Key": TAG_ALLOW, "Value": "acme-staging acme-dev"}]
    )
    return ("secret", doc["edxapp"]["migration_secret_id"])


FOREIGN = [
    (
        _admin_secret,
        "edxapp.db_admin_secret_id: secret 'payments/db_admin_secret_id' is not opted in for deployment acme-prod (it has no tag analytics-provisioner:allow)",
    ),
    (_migration_secret, "edxapp.migration_secret_id: secret 'payments/migration_secret_id' is not opted in"),
    (_secret_by_arn, "edxapp.db_admin_secret_id: secret 'arn:aws:secretsmanager:us-east-1:123456789012:secret:payments/db_admin_secret_id"),
    (
        _database,
        "edxapp.db_instance_id: RDS instance 'payments-db' is not opted in for deployment acme-prod (it has no tag analytics-provisioner:allow)",
    ),
    (_grades_bucket, "edxapp.grades_bucket: S3 bucket 'payments-reports' is not opted in for deployment acme-prod"),
    (_tracking_logs_bucket, "edxapp.tracking_logs_bucket: S3 bucket 'payments-logs' is not opted in for deployment acme-prod"),
    (
        _listing_another_deployment,
        "edxapp.migration_secret_id: secret 'acme/edxapp/db-migrate' is not opted in for deployment acme-prod (its tag analytics-provisioner:allow is 'acme-staging acme-dev')",
    ),
]


def _state_of(aws, kind: str, name: str) -> dict:
    """Everything a deployment could change on the resource: its tags, its policy or groups."""
    if kind == "secret":
        described = aws.client("secretsmanager").describe_secret(SecretId=name)
        return {"tags": described.get("Tags"), "versions": described.get("VersionIdsToStages")}
    if kind == "database":
        instance = aws.client("rds").describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        return {"tags": instance.get("TagList"), "groups": instance.get("VpcSecurityGroups")}
    s3 = aws.client("s3")
    return {"tags": s3.get_bucket_tagging(Bucket=name)["TagSet"], "policy": s3.get_bucket_policy(Bucket=name)["Policy"]}


def run_command(aws, command: str) -> None:
    """Apply the AWS CLI command a refusal gives, through boto3 with the same parameters."""
    words = shlex.split(command.split(" (")[0])
    args = dict(zip(words[3::2], words[4::2], strict=False))
    if words[1:3] == ["secretsmanager", "tag-resource"]:
        aws.client("secretsmanager").tag_resource(SecretId=args["--secret-id"], Tags=json.loads(args["--tags"]))
    elif words[1:3] == ["rds", "add-tags-to-resource"]:
        aws.client("rds").add_tags_to_resource(ResourceName=args["--resource-name"], Tags=json.loads(args["--tags"]))
    elif words[1:3] == ["s3api", "put-bucket-tagging"]:
        aws.client("s3").put_bucket_tagging(Bucket=args["--bucket"], Tagging=json.loads(args["--tagging"]))
    else:
        raise AssertionError(f"unexpected command {command}")
    assert args.get("--region", REGION) == REGION


@pytest.mark.parametrize("foreign, message", FOREIGN, ids=[f.__name__.strip("_") for f, _ in FOREIGN])
def test_another_teams_resource_is_refused_with_nothing_created_and_opted_in_by_the_given_command(account, full_input, foreign, message):
    kind, name = foreign(account, full_input)
    before, untouched = inventory(account), _state_of(account, kind, name)
    with pytest.raises(NotOptedInError) as refused:
        invoke(validate.run, full_input)
    text = str(refused.value)
    assert text.startswith(message), text
    assert inventory(account) == before
    assert _state_of(account, kind, name) == untouched
    command = text.split("The owner opts it in with: ", 1)[1]
    run_command(account, command)
    assert invoke(validate.run, full_input)["deployment"]["deployment_id"] == "acme-prod"
    if kind == "bucket":  # put-bucket-tagging replaces the whole set: the command put the owner's tags back
        assert tagging.from_list(account.client("s3").get_bucket_tagging(Bucket=name)["TagSet"]) == {
            **OTHER_TEAM_TAGS,
            TAG_ALLOW: "acme-prod",
        }
    if foreign is _listing_another_deployment:
        assert account.client("secretsmanager").describe_secret(SecretId=name)["Tags"] == [
            {"Key": TAG_ALLOW, "Value": "acme-staging acme-dev acme-prod"}
        ]


@pytest.mark.parametrize("value", ["*", "@all", "acme-staging acme-prod", " acme-prod ", "acme-prod"])
def test_allow_values_that_admit_the_deployment(value):
    assert tagging.allows({TAG_ALLOW: value}, "acme-prod")


@pytest.mark.parametrize(
    "tags",
    [
        {},
        {TAG_ALLOW: ""},
        {TAG_ALLOW: "acme-prod-2"},
        {TAG_ALLOW: "acme"},
        {TAG_ALLOW: "acme-prod*"},
        {TAG_ALLOW: "all"},
        {"analytics-provisioner:Allow": "*"},
        {TAG_DEPLOYMENT: "acme-staging"},
    ],
)
def test_tags_that_do_not(tags):
    assert not tagging.allows(tags, "acme-prod")


def test_a_resource_of_the_deployment_itself_needs_no_opt_in():
    assert tagging.allows({TAG_DEPLOYMENT: "acme-prod"}, "acme-prod")


def test_a_bucket_with_many_tags_gets_the_command_in_two_steps(account, full_input):
    _grades_bucket(account, full_input)
    many = {f"key-{n:02d}": "v" * 60 for n in range(30)}
    account.client("s3").put_bucket_tagging(Bucket="payments-reports", Tagging={"TagSet": tagging.as_list(many)})
    with pytest.raises(
        NotOptedInError, match="aws s3api get-bucket-tagging --bucket payments-reports, add .* replaces all of a bucket's tags"
    ):
        invoke(validate.run, full_input)


# --- the grades statement's principal: this account only --------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::210987654321:user/acme-edxapp",
        "arn:aws-cn:iam::123456789012:user/acme-edxapp",
        "arn:aws:iam::210987654321:role/anything",
    ],
)
def test_aws_user_arn_of_another_account_or_partition_is_refused_with_nothing_created(account, full_input, arn):
    full_input["edxapp"]["aws_user_arn"] = arn
    before = inventory(account)
    with pytest.raises(
        PreflightError, match="edxapp.aws_user_arn: .* is not a principal of this stack's account \\(aws account 123456789012\\)"
    ):
        invoke(validate.run, full_input)
    assert inventory(account) == before


# --- images: Canonical's, or an owner the stack trusts --------------------------------------------


def _image_of_this_account(aws) -> str:
    ec2 = aws.client("ec2")
    canonical = ec2.describe_images(Owners=[compute.canonical_owner(REGION)])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=canonical, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    image = ec2.create_image(InstanceId=instance, Name="payments-hardened")["ImageId"]
    ec2.terminate_instances(InstanceIds=[instance])
    return image


def test_an_image_of_another_owner_is_refused_unless_the_stack_trusts_it(account, full_input, monkeypatch):
    image = _image_of_this_account(account)
    full_input["options"]["ami_id"] = image
    before = inventory(account)
    with pytest.raises(
        PreflightError,
        match=f"options.ami_id: image {image} belongs to account {ACCOUNT}, not to Canonical \\(099720109477\\) "
        "nor to an owner the stack trusts \\(none\\).*TrustedImageOwners",
    ):
        invoke(validate.run, full_input)
    assert inventory(account) == before
    monkeypatch.setenv("TRUSTED_IMAGE_OWNERS", f"111122223333, {ACCOUNT}")
    assert invoke(validate.run, full_input)["deployment"]["options"]["ami_id"] == image


def test_a_pinned_canonical_image_is_fine(account, full_input):
    canonical = account.client("ec2").describe_images(Owners=[compute.canonical_owner(REGION)])["Images"][0]["ImageId"]
    full_input["options"]["ami_id"] = canonical
    assert invoke(validate.run, full_input)["deployment"]["options"]["ami_id"] == canonical


# --- every phase that uses such a resource checks again ----------------------------------------------


@pytest.fixture
def validated(account, full_input) -> dict:
    return invoke(validate.run, full_input)


def test_network_does_not_touch_a_database_whose_opt_in_was_withdrawn(account, validated):
    rds = account.client("rds")
    arn = rds.describe_db_instances(DBInstanceIdentifier="acme-edxapp-db")["DBInstances"][0]["DBInstanceArn"]
    rds.remove_tags_from_resource(ResourceName=arn, TagKeys=[TAG_ALLOW])
    groups = _state_of(account, "database", "acme-edxapp-db")
    with pytest.raises(NotOptedInError, match="edxapp.db_instance_id: RDS instance 'acme-edxapp-db' is not opted in"):
        invoke(network.run, validated)
    assert _state_of(account, "database", "acme-edxapp-db") == groups


@pytest.mark.parametrize("field", ["grades_bucket", "tracking_logs_bucket"])
def test_storage_does_not_touch_a_bucket_whose_opt_in_was_withdrawn(account, validated, field):
    bucket = validated["deployment"]["edxapp"][field]
    account.client("s3").delete_bucket_tagging(Bucket=bucket)
    policy = account.client("s3").get_bucket_policy(Bucket=bucket)["Policy"] if field == "grades_bucket" else None
    with pytest.raises(NotOptedInError, match=f"edxapp.{field}: S3 bucket '{bucket}' is not opted in"):
        invoke(storage.run, validated)
    if policy:
        assert account.client("s3").get_bucket_policy(Bucket=bucket)["Policy"] == policy


def test_storage_checks_the_principals_account_again(account, validated):
    changed = copy.deepcopy(validated)
    changed["deployment"]["edxapp"]["aws_user_arn"] = "arn:aws:iam::210987654321:user/acme-edxapp"
    with pytest.raises(PreflightError, match="edxapp.aws_user_arn"):
        invoke(storage.run, changed)


@pytest.mark.parametrize("field, read", [("db_admin_secret_id", dbsetup.edxapp_admin), ("migration_secret_id", dbsetup.migration_login)])
def test_dbsetup_does_not_read_a_secret_whose_opt_in_was_withdrawn(account, validated, field, read):
    secret = validated["deployment"]["edxapp"][field]
    account.client("secretsmanager").untag_resource(SecretId=secret, TagKeys=[TAG_ALLOW])
    with pytest.raises(NotOptedInError, match=f"edxapp.{field}: secret '{secret}' is not opted in"):
        read(Deployment.from_state(validated["deployment"]))


def test_compute_checks_the_image_owner_again(account, validated):
    changed = copy.deepcopy(validated)
    changed["deployment"]["options"]["ami_id"] = _image_of_this_account(account)
    with pytest.raises(PreflightError, match="options.ami_id: .* not to Canonical"):
        compute.ubuntu_image(Deployment.from_state(changed["deployment"]), ())


def test_a_secret_this_stack_may_not_describe_is_refused_with_the_command(account, full_input, monkeypatch):
    """On AWS the roles may describe only tagged secrets: AccessDenied is the same refusal."""
    from botocore.exceptions import ClientError

    from analytics_provisioner.aws import secrets

    def denied(secret_id, region):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, "DescribeSecret")

    monkeypatch.setattr(secrets, "describe", denied)
    with pytest.raises(
        NotOptedInError,
        match="edxapp.db_admin_secret_id: secret 'acme/edxapp/db-admin' is not opted in .*may not describe it.*"
        "aws secretsmanager tag-resource --region us-east-1 --secret-id acme/edxapp/db-admin",
    ):
        invoke(validate.run, full_input)
