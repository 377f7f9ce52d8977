"""The database-setup function's paths: Network admits its group (stack parameter
DbSetupSecurityGroupId) into the EMR RDS group and keeps it there; Validate refuses, before anything
exists, a deployment whose DbSetup group cannot reach the edxapp RDS through that instance's own groups."""

import pytest

from analytics_provisioner import settings
from analytics_provisioner.aws.ec2 import IngressRule, ingress_rules
from analytics_provisioner.errors import PreflightError
from analytics_provisioner.handler import invoke
from analytics_provisioner.naming import TAG_DEPLOYMENT
from analytics_provisioner.phases import network, validate
from testkit import REGION

EDXAPP_DB = "acme-edxapp-db"


def default_vpc(aws) -> str:
    return aws.client("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]


def new_group(aws, name: str, vpc_id: str | None = None, tags: dict | None = None) -> str:
    extra = (
        {"TagSpecifications": [{"ResourceType": "security-group", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]}
        if tags
        else {}
    )
    return aws.client("ec2").create_security_group(GroupName=name, Description=name, VpcId=vpc_id or default_vpc(aws), **extra)["GroupId"]


def rules_of(aws, group_id: str) -> set[IngressRule]:
    return ingress_rules(aws.client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0])


def edxapp_groups(aws) -> list[str]:
    instance = aws.client("rds").describe_db_instances(DBInstanceIdentifier=EDXAPP_DB)["DBInstances"][0]
    return [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]]


def admit(aws, group_id: str, source: str, port: int = 3306) -> None:
    aws.client("ec2").authorize_security_group_ingress(GroupId=group_id, IpPermissions=[IngressRule.tcp(port, source).permission()])


@pytest.fixture
def db_setup_group(ready, monkeypatch) -> str:
    """The stack's DbSetup group in the default VPC, passed to the functions as the template does."""
    group_id = new_group(ready, "analytics-provisioner-dbsetup")
    monkeypatch.setenv(settings.DB_SETUP_SECURITY_GROUP_ENV, group_id)
    return group_id


@pytest.fixture
def admitted(ready, db_setup_group) -> str:
    """The operator's step: the edxapp RDS's own group admits the DbSetup group on 3306."""
    admit(ready, edxapp_groups(ready)[0], db_setup_group)
    return db_setup_group


# Network ------------------------------------------------------------------------------------------
def test_network_admits_the_dbsetup_group_into_the_emr_rds_group_and_keeps_it(ready, admitted, minimal_input):
    state = invoke(validate.run, minimal_input)
    emr_rds = invoke(network.run, state)["security_groups"]["emr_rds"]
    assert IngressRule.tcp(3306, admitted) in rules_of(ready, emr_rds)

    invoke(network.run, state)  # converge_rules keeps it
    assert IngressRule.tcp(3306, admitted) in rules_of(ready, emr_rds)
    assert len(rules_of(ready, emr_rds)) == 4


def test_without_the_parameter_network_adds_no_dbsetup_rule_and_revokes_an_old_one(ready, admitted, minimal_input, monkeypatch):
    state = invoke(validate.run, minimal_input)
    groups = invoke(network.run, state)["security_groups"]
    monkeypatch.setenv(settings.DB_SETUP_SECURITY_GROUP_ENV, "")

    invoke(network.run, state)

    assert {rule.source for rule in rules_of(ready, groups["emr_rds"])} == {groups["emr_master"], groups["emr_slave"], groups["analytics"]}


# Validate -----------------------------------------------------------------------------------------
def test_validate_refuses_an_edxapp_rds_whose_own_groups_do_not_admit_dbsetup(ready, db_setup_group, minimal_input):
    own = edxapp_groups(ready)[0]
    with pytest.raises(PreflightError) as refused:
        invoke(validate.run, minimal_input)
    message = str(refused.value)
    assert message.startswith(f"edxapp.db_instance_id: the security groups of the edxapp RDS {EDXAPP_DB} ({own}) do not admit")
    assert f"the database-setup function's group {db_setup_group} (stack parameter DbSetupSecurityGroupId) on 3306" in message
    assert message.endswith(
        f"aws ec2 authorize-security-group-ingress --region {REGION} --group-id {own} --protocol tcp --port 3306 "
        f"--source-group {db_setup_group}"
    )
    assert edxapp_groups(ready) == [own] and rules_of(ready, own) == set()  # not ours: left as it was


def test_validate_accepts_the_operators_rule_and_reports_it(ready, admitted, minimal_input):
    state = invoke(validate.run, minimal_input)
    assert state["preflight"]["db_setup"] == {"security_group_id": admitted, "edxapp_db_admits": True}


@pytest.mark.parametrize("rule", ["another group", "another port", "a deployment's own group"])
def test_what_does_not_count_as_the_operators_rule(ready, db_setup_group, minimal_input, rule):
    own = edxapp_groups(ready)[0]
    if rule == "another group":
        admit(ready, own, new_group(ready, "someone-else"))
    elif rule == "another port":
        admit(ready, own, db_setup_group, port=3307)
    else:  # an EMR RDS group of a deployment admits it, but teardown takes that group off the instance again
        ours = new_group(ready, "acme-old-emr-rds", tags={TAG_DEPLOYMENT: "acme-old"})
        admit(ready, ours, db_setup_group)
        ready.client("rds").modify_db_instance(DBInstanceIdentifier=EDXAPP_DB, VpcSecurityGroupIds=[own, ours], ApplyImmediately=True)
    with pytest.raises(PreflightError, match="^edxapp.db_instance_id: .* do not admit the database-setup function's group"):
        invoke(validate.run, minimal_input)


def test_without_the_parameter_there_is_nothing_to_check(ready, minimal_input, monkeypatch):
    monkeypatch.setenv(settings.DB_SETUP_SECURITY_GROUP_ENV, "")
    assert invoke(validate.run, minimal_input)["preflight"]["db_setup"] is None


def test_a_dbsetup_group_that_does_not_exist_is_refused(ready, minimal_input, monkeypatch):
    monkeypatch.setenv(settings.DB_SETUP_SECURITY_GROUP_ENV, "sg-0123456789abcdef0")
    with pytest.raises(
        PreflightError, match="^DbSetupSecurityGroupId: the stack parameter names security group sg-0123456789abcdef0, which does not exist"
    ):
        invoke(validate.run, minimal_input)


def test_a_dbsetup_group_in_another_vpc_is_refused(ready, minimal_input, monkeypatch):
    other_vpc = ready.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    monkeypatch.setenv(settings.DB_SETUP_SECURITY_GROUP_ENV, new_group(ready, "dbsetup-elsewhere", other_vpc))
    with pytest.raises(PreflightError) as refused:
        invoke(validate.run, minimal_input)
    assert str(refused.value).startswith(f"network.vpc_id: the database-setup function runs in {other_vpc}")
    assert f"update the stack with DbSetupSubnetIds and DbSetupSecurityGroupId of {default_vpc(ready)}" in str(refused.value)
