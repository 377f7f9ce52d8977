"""Whole executions naming another team's secret, database, bucket or image end in Validate, nothing created.

The local demo opts in what it seeds (``local/seed.py``); these resources are created here, untagged
or tagged for someone else, as another team would have them.
"""

import json

import pytest

from analytics_provisioner.local.emulator import ACCOUNT
from analytics_provisioner.local.runner import execute, tagged_resources
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import TAG_ALLOW
from testkit import EDXAPP_ADMIN, VALIDATE_FAILED_PATH, inventory

TEAM_TAGS = [{"Key": "team", "Value": "payments"}]


def _secret(emulator, doc):
    emulator.client("secretsmanager").create_secret(Name="payments/db-admin", SecretString=json.dumps(EDXAPP_ADMIN), Tags=TEAM_TAGS)
    doc["edxapp"]["db_admin_secret_id"] = "payments/db-admin"


def _secret_for_another_deployment(emulator, doc):
    emulator.client("secretsmanager").create_secret(
        Name="payments/db-migrate",
        SecretString=json.dumps({"username": "u", "password": "p"}),
        Tags=[{"Key": TAG_ALLOW, "Value": "payments-prod"}],
    )
    doc["edxapp"]["migration_secret_id"] = "payments/db-migrate"


def _database(emulator, doc):
    emulator.client("rds").create_db_instance(
        DBInstanceIdentifier="payments-db",
        Engine="mysql",
        DBInstanceClass="db.t3.medium",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="payments-master-1",
        Tags=TEAM_TAGS,
    )
    doc["edxapp"]["db_instance_id"] = "payments-db"


def _bucket(emulator, doc):
    emulator.create_bucket("payments-grades")
    doc["edxapp"].update(grades_bucket="payments-grades", aws_user_arn=f"arn:aws:iam::{ACCOUNT}:user/acme-edxapp")


def _image(emulator, doc):
    ec2 = emulator.client("ec2")
    canonical = ec2.describe_images(Owners=["099720109477"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=canonical, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    doc.setdefault("options", {})["ami_id"] = ec2.create_image(InstanceId=instance, Name="payments-image")["ImageId"]
    ec2.terminate_instances(InstanceIds=[instance])


FOREIGN = [
    (_secret, "Validate.NotOptedInError", "edxapp.db_admin_secret_id: secret 'payments/db-admin' is not opted in for deployment acme-demo"),
    (_secret_for_another_deployment, "Validate.NotOptedInError", "its tag analytics-provisioner:allow is 'payments-prod'"),
    (_database, "Validate.NotOptedInError", "edxapp.db_instance_id: RDS instance 'payments-db' is not opted in for deployment acme-demo"),
    (_bucket, "Validate.NotOptedInError", "edxapp.grades_bucket: S3 bucket 'payments-grades' is not opted in for deployment acme-demo"),
    (_image, "Validate.PreflightError", f"belongs to account {ACCOUNT}, not to Canonical"),
]


@pytest.mark.parametrize("foreign, error, message", FOREIGN, ids=[f[0].__name__.strip("_") for f in FOREIGN])
def test_another_teams_resource_ends_the_execution_in_validate_with_nothing_created(emulator, minimal_input, foreign, error, message):
    seed(emulator, minimal_input)
    foreign(emulator, minimal_input)
    before = inventory(emulator)
    result = execute(emulator, minimal_input)
    assert (result.status, result.error) == ("FAILED", error), result.cause
    assert message in result.cause
    assert [state["state"] for state in result.view.summary()] == VALIDATE_FAILED_PATH
    assert inventory(emulator) == before
    assert tagged_resources(emulator, "acme-demo") == []
