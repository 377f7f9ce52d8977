"""``plan`` and ``local plan``: Validate's preflight, then every resource the deployment would create (+),
change or ensure (~) or leave alone (=), with reads only. The emulator's recording hook sees every AWS call
the plan makes (``faults.recorded_as``); each must be a read, and the account must be as it was."""

import copy
import json
import re

import pytest
from click.testing import CliRunner
from test_permissions import iam_actions

from analytics_provisioner import cli
from analytics_provisioner.errors import PreflightError
from analytics_provisioner.handler import invoke
from analytics_provisioner.local.faults import recorded_as
from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import seed
from analytics_provisioner.phases import plan as planning
from analytics_provisioner.phases import validate
from testkit import REGION, REPO, inventory

READS = ("Describe", "Get", "List", "Head")
PLAN = "plan"
UNSET = {"PROVISION_STATE_MACHINE_ARN": None, "TEARDOWN_STATE_MACHINE_ARN": None, "ANALYTICS_PROVISIONER_STACK": None}
# What a first plan of a fresh account does not create: what exists before any deployment.
EXISTING = {
    ("=", "VPC attribute"),
    ("=", "security group"),  # the VPC's DNS hostnames (on in a default VPC) and its default group
    ("~", "RDS instance (edxapp's)"),  # joins the deployment's EMR RDS group
    ("~", "MySQL user"),  # on the edxapp server, which exists: ensured, the plan does not log in
    ("=", "S3 bucket"),  # the edxapp site's tracking-logs bucket (input-full names one), opted in
}
EVERY_KIND = {
    "IAM role",
    "IAM policy",
    "IAM policy attachment",
    "IAM instance profile",
    "IAM user",
    "IAM user policy",
    "security group",
    "security group rule",
    "RDS instance (edxapp's)",
    "S3 bucket",
    "bucket policy statement",
    "search domain",
    "DB subnet group",
    "RDS instance",
    "MySQL database",
    "MySQL user",
    "key pair",
    "EC2 instance",
    "Elastic IP",
    "secret",
    "rendered file",
    "VPC attribute",
}


def planned(emulator, document: dict) -> tuple[dict, list]:
    """The plan of ``document`` and every AWS call it made."""
    before = len(emulator.faults.calls)
    with recorded_as(PLAN):
        result = planning.run(document, REGION, emulator.secure_repo_bucket)
    return result, [call for call in emulator.faults.calls[before:] if call.function == PLAN]


def writes(calls: list) -> list[str]:
    return sorted({f"{call.service}:{call.operation}" for call in calls if not call.operation.startswith(READS)})


def actions(result: dict) -> set[tuple[str, str]]:
    return {(change["action"], change["kind"]) for change in result["changes"]}


def named(result: dict, kind: str) -> dict[str, str]:
    return {change["name"]: change["action"] for change in result["changes"] if change["kind"] == kind}


def readme_plan_permissions() -> set[str]:
    section = re.split(r"\n#{2,3} ", (REPO / "README.md").read_text().split("\n### Plan\n", 1)[1], maxsplit=1)[0]
    listed = section.split("read permissions", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"`([a-z0-9-]+:[A-Za-z]+)`", listed))


def test_a_fresh_account_plans_every_resource_as_created_with_reads_only(emulator, full_input):
    seed(emulator, full_input)
    before = inventory(emulator)
    result, calls = planned(emulator, full_input)
    assert calls and writes(calls) == []
    assert inventory(emulator) == before
    assert {kind for _, kind in actions(result)} == EVERY_KIND
    assert {(action, kind) for action, kind in actions(result) if action != "+"} == EXISTING
    names = full_input["deployment_id"]
    assert named(result, "IAM role") == {"EMR_DefaultRole": "+", f"{names}-emr-ec2": "+", f"{names}-edxanalytics": "+"}
    assert named(result, "IAM user") == {f"{names}-analytics-elasticsearch": "+", f"{names}-analytics-reports": "+"}
    assert named(result, "search domain") == {f"{names}-analytics-es": "+"}
    assert named(result, "RDS instance (edxapp's)") == {full_input["edxapp"]["db_instance_id"]: "~"}
    assert f"{full_input['edxapp']['grades_bucket']} AnalyticsProvisionerGradesDownload" in " ".join(
        named(result, "bucket policy statement")
    )
    assert result["summary"] == {"create": sum(c["action"] == "+" for c in result["changes"]), "modify": 2, "keep": 3}
    assert set(result) == {"deployment_id", "region", "changes", "phases", "summary", "warnings"}
    assert [phase["phase"] for phase in result["phases"]][:2] == ["Ensure IAM roles and users", "Ensure network and security groups"]
    assert sum(phase["changes"] for phase in result["phases"]) == len(result["changes"])
    assert all(set(change) == {"action", "kind", "name", "reason"} for change in result["changes"])
    assert not {action for call in calls for action in iam_actions(call)} - readme_plan_permissions() - {"sts:GetCallerIdentity"}


def test_after_a_successful_run_nothing_is_created_and_drift_is_a_change(emulator, full_input):
    seed(emulator, full_input)
    assert execute(emulator, full_input).status == "SUCCEEDED"
    before = inventory(emulator)
    result, calls = planned(emulator, full_input)
    assert writes(calls) == [] and inventory(emulator) == before
    changed = {kind for action, kind in actions(result) if action == "~"}
    assert "+" not in {action for action, _ in actions(result)}
    assert changed == {"MySQL database", "MySQL user", "rendered file"}, [c for c in result["changes"] if c["action"] == "~"]
    assert set(named(result, "S3 bucket").values()) == {"="} and set(named(result, "EC2 instance").values()) == {"="}
    assert not {action for call in calls for action in iam_actions(call)} - readme_plan_permissions() - {"sts:GetCallerIdentity"}

    # What drifted since is a change, and still nothing is written.
    ec2, names = emulator.client("ec2"), full_input["deployment_id"]
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{names}-analytics"]}])["SecurityGroups"][0]
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    emulator.client("s3").delete_bucket_encryption(Bucket=f"{names}-analytics-emr")
    director = [
        i
        for r in ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [f"{names}-director"]}])["Reservations"]
        for i in r["Instances"]
    ][0]
    ec2.stop_instances(InstanceIds=[director["InstanceId"]])
    drifted, calls = planned(emulator, full_input)
    assert writes(calls) == []
    assert named(drifted, "security group rule")[f"{names}-analytics: tcp 8080 from 0.0.0.0/0"] == "~"
    assert named(drifted, "S3 bucket")[f"{names}-analytics-emr"] == "~"
    assert named(drifted, "EC2 instance")[f"{names}-director ({director['InstanceId']})"] == "~"


@pytest.mark.without_database
def test_an_input_validate_refuses_is_refused_alike_with_reads_only(emulator, minimal_input):
    seed(emulator, minimal_input)
    document = copy.deepcopy(minimal_input)
    document["network"]["vpc_id"] = "vpc-0badbadbadbadbad0"
    with pytest.raises(PreflightError) as refused_by_validate:
        invoke(validate.run, document)
    before = len(emulator.faults.calls)
    with recorded_as(PLAN), pytest.raises(PreflightError) as refused_by_plan:
        planning.run(document, REGION, emulator.secure_repo_bucket)
    assert str(refused_by_plan.value) == str(refused_by_validate.value)
    assert writes([call for call in emulator.faults.calls[before:] if call.function == PLAN]) == []


def test_local_plan_and_plan_refuse_as_validate_does_with_exit_2(minimal_input, tmp_path):
    """``local plan`` runs its own emulator (so no emulator of the test's around it)."""
    document = copy.deepcopy(minimal_input)
    document["network"]["vpc_id"] = "vpc-0badbadbadbadbad0"
    path = tmp_path / "input.json"
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(cli.main, ["local", "plan", "--input", str(path), "--json"], env=UNSET)
    assert result.exit_code == cli.EXIT_USAGE
    assert "Validate: network.vpc_id: VPC vpc-0badbadbadbadbad0 does not exist in us-east-1" in " ".join(result.stderr.split())
    assert "nothing was planned" in result.stderr and "Plan:" not in result.stderr

    document["edxapp"].pop("contact_email")
    path.write_text(json.dumps(document))
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:ProvisionStateMachine"
    for command in (["local", "plan"], ["plan", "--state-machine-arn", arn]):
        result = CliRunner().invoke(cli.main, [*command, "--input", str(path)], env=UNSET)
        assert result.exit_code == cli.EXIT_USAGE and "edxapp.contact_email: is required" in result.stderr, result.stderr


def test_plan_reads_the_stack_and_plans_against_the_account(emulator, minimal_input, tmp_path):
    seed(emulator, minimal_input)
    stack = {
        "Parameters": {key: {"Type": "String"} for key in emulator.parameters},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"SecureRepoBucketName": {"Value": emulator.secure_repo_bucket}},
    }
    emulator.client("cloudformation").create_stack(
        StackName="analytics-provisioner",
        TemplateBody=json.dumps(stack),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in emulator.parameters.items()],
    )
    path = tmp_path / "input.json"
    path.write_text(json.dumps(minimal_input))
    before, calls = inventory(emulator), len(emulator.faults.calls)
    with recorded_as(PLAN):
        result = CliRunner().invoke(cli.main, ["plan", "--input", str(path), "--json", "--stack", "analytics-provisioner"], env=UNSET)
    assert result.exit_code == cli.EXIT_OK, result.stderr
    assert writes([call for call in emulator.faults.calls[calls:] if call.function == PLAN]) == []
    assert inventory(emulator) == before
    document = json.loads(result.stdout)
    assert document["summary"]["create"] > 40 and document["deployment_id"] == minimal_input["deployment_id"]
    # The stack's DbSetupSecurityGroupId reaches Validate and the plan of the EMR RDS group's rules.
    db_setup = emulator.parameters["DbSetupSecurityGroupId"]
    assert f"acme-demo-emr-rds: tcp 3306 from DbSetupSecurityGroupId {db_setup}" in named(document, "security group rule")
    assert re.search(r"Plan: \d+ to create, 2 to change or ensure, 2 unchanged\.", result.stderr)
    assert f"s3://{emulator.secure_repo_bucket}/acme-demo/vars-analytics.yml" in named(document, "rendered file")
