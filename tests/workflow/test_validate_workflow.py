"""Bad input ends the execution in Validate, with a cause naming the problem, before anything exists."""

import json

import pytest

from analytics_provisioner.local.runner import execute, tagged_resources
from analytics_provisioner.local.seed import seed
from testkit import VALIDATE_FAILED_PATH, inventory


def _missing_field(doc):
    doc["edxapp"].pop("contact_email")


def _bad_id(doc):
    doc["deployment_id"] = "ACME prod!"


def _unknown_vpc(doc):
    doc["network"]["vpc_id"] = "vpc-0badbadbadbadbad0"


def _unreadable_secret(doc):
    doc["edxapp"]["db_admin_secret_id"] = "acme/edxapp/no-such-secret"


def _missing_edxapp_db(doc):
    doc["edxapp"]["db_instance_id"] = "acme-no-such-db"


def _id_making_a_group_name_ec2_refuses(doc):
    doc["deployment_id"] = "sg-acme"


def _polling_past_the_history_limit(doc):
    doc["options"] = {"poll_interval_seconds": 1, "poll_watch_seconds": 0, "search_timeout_minutes": 600}


def _search_volume_beyond_its_type(doc):
    doc["options"] = {"es_instance_type": "t2.small.search", "es_volume_gb": 100}


BAD_INPUTS = [
    (_missing_field, "Validate.InputError", "edxapp.contact_email: is required; expected an e-mail address"),
    (_bad_id, "Validate.InputError", "deployment_id: 'ACME prod!' is not valid"),
    (_unknown_vpc, "Validate.PreflightError", "network.vpc_id: VPC vpc-0badbadbadbadbad0 does not exist in us-east-1"),
    (_unreadable_secret, "Validate.PreflightError", "secret 'acme/edxapp/no-such-secret' (edxapp.db_admin_secret_id) is not readable"),
    (_missing_edxapp_db, "Validate.PreflightError", "edxapp.db_instance_id: no RDS instance 'acme-no-such-db'"),
    (
        _id_making_a_group_name_ec2_refuses,
        "Validate.InputError",
        "deployment_id: 'sg-acme' makes names AWS refuses: the security group name 'sg-acme-analytics' starts with 'sg-', which EC2 refuses; choose another id such as 'acme-sg'",
    ),
    (
        _polling_past_the_history_limit,
        "Validate.InputError",
        "Step Functions ends an execution at 25000; raise poll_interval_seconds or poll_watch_seconds",
    ),
    (
        _search_volume_beyond_its_type,
        "Validate.PreflightError",
        "options.es_volume_gb: 100 GiB is outside what a t2.small.search data node takes",
    ),
]


@pytest.mark.parametrize("mutate, error, message", BAD_INPUTS, ids=[b[0].__name__.strip("_") for b in BAD_INPUTS])
def test_bad_input_fails_in_validate_and_creates_nothing(emulator, minimal_input, mutate, error, message):
    seed(emulator, minimal_input)
    mutate(minimal_input)
    before = inventory(emulator)
    result = execute(emulator, minimal_input)
    assert result.status == "FAILED"
    assert result.error == error
    assert message in result.cause
    assert "failure report: s3://" in result.cause
    ran = [state["state"] for state in result.view.summary()]
    assert ran == VALIDATE_FAILED_PATH
    assert inventory(emulator) == before
    assert tagged_resources(emulator, "acme-demo") == []


@pytest.mark.without_database
def test_failure_report_says_nothing_was_created(emulator, minimal_input):
    seed(emulator, minimal_input)
    _unknown_vpc(minimal_input)
    result = execute(emulator, minimal_input)
    uri = result.cause.rsplit("failure report: ", 1)[1].rstrip(")")
    bucket, key = uri[len("s3://") :].split("/", 1)
    report = json.loads(emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert report["phase"] == "Validate" and report["nothing_created"] is True
    assert report["error"] == "PreflightError"
    assert key == "acme-demo/failure-report.json"
