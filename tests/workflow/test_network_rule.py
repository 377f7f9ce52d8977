"""The emulator's network rule (local/reachability.py) bites: a connection from a function to an RDS
endpoint goes through only along a path the security groups open, else it fails as on AWS (MySQL
error 2003, timed out). And the fix: Network admits the stack's DbSetup group into the EMR RDS group."""

import json
import secrets

import pymysql
import pytest

from analytics_provisioner.aws.ec2 import IngressRule, ingress_rules
from analytics_provisioner.local import faults
from analytics_provisioner.local.emulator import Emulator
from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import seed
from analytics_provisioner.phases import network
from testkit import REGION

CANT_CONNECT = 2003
ACCESS_DENIED = {1045, 1698}  # the server answered (MariaDB says 1698 for some accounts)


def rds_instance(emulator, identifier: str, groups: list[str]) -> dict:
    rds = emulator.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="mysql",
        DBInstanceClass="db.t3.small",
        AllocatedStorage=20,
        MasterUsername="admin",
        ManageMasterUserPassword=True,
        VpcSecurityGroupIds=groups,
        PubliclyAccessible=False,
    )
    return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["Endpoint"]


def connect_as(function: str | None, endpoint: dict):
    """A pymysql connection to ``endpoint`` made inside ``function`` (None: outside every function)."""
    faults.current.function = function
    try:
        return pymysql.connect(
            host=endpoint["Address"], port=endpoint["Port"], user=f"probe_{secrets.token_hex(4)}", password="x", connect_timeout=5
        )
    finally:
        faults.current.function = None


def refused_with(function: str | None, endpoint: dict) -> int | None:
    """The MySQL error code of a connection attempt: 2003 when the network stops it, access denied
    when the server answers (it does not know that user)."""
    with pytest.raises(pymysql.err.OperationalError) as raised:
        connect_as(function, endpoint).close()
    return raised.value.args[0]


@pytest.mark.without_database
def test_a_connection_from_dbsetup_needs_a_path_from_its_group(emulator):
    ec2 = emulator.client("ec2")
    vpc_id = ec2.describe_security_groups(GroupIds=[emulator.parameters["DbSetupSecurityGroupId"]])["SecurityGroups"][0]["VpcId"]
    db_group = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc_id)["GroupId"]
    endpoint = rds_instance(emulator, "probe-db", [db_group])

    with pytest.raises(pymysql.err.OperationalError) as raised:
        connect_as("DbSetupFunction", endpoint)
    assert (
        raised.value.args[0] == CANT_CONNECT
        and "Can't connect to MySQL server" in raised.value.args[1]
        and "timed out" in raised.value.args[1]
    )
    assert refused_with(None, endpoint) in ACCESS_DENIED  # outside every function nothing is judged: the server answers

    other = ec2.create_security_group(GroupName="other", Description="other", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=db_group, IpPermissions=[IngressRule.tcp(3306, other).permission()])
    assert refused_with("DbSetupFunction", endpoint) == CANT_CONNECT  # a path for another group is no path for DbSetup
    ec2.authorize_security_group_ingress(
        GroupId=db_group, IpPermissions=[IngressRule.tcp(3307, emulator.parameters["DbSetupSecurityGroupId"]).permission()]
    )
    assert refused_with("DbSetupFunction", endpoint) == CANT_CONNECT  # another port
    ec2.authorize_security_group_ingress(
        GroupId=db_group, IpPermissions=[IngressRule.tcp(3306, emulator.parameters["DbSetupSecurityGroupId"]).permission()]
    )
    assert refused_with("DbSetupFunction", endpoint) in ACCESS_DENIED  # through: the server answers
    assert refused_with("StorageFunction", endpoint) == CANT_CONNECT  # no VPC config: outside the VPC, the instance is not public


@pytest.mark.without_database
def test_without_vpc_config_dbsetup_reaches_only_a_public_instance_open_to_all(mysql_server, runbook_users):
    with Emulator(region=REGION, mysql=mysql_server, parameters={"DbSetupSubnetIds": "", "DbSetupSecurityGroupId": ""}) as emulator:
        assert not emulator.client("lambda").get_function_configuration(FunctionName="DbSetupFunction").get("VpcConfig")
        default = emulator.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])[
            "SecurityGroups"
        ][0]["GroupId"]
        emulator.client("ec2").authorize_security_group_ingress(
            GroupId=default, IpPermissions=[IngressRule.tcp(3306, "0.0.0.0/0").permission()]
        )
        endpoint = rds_instance(emulator, "private-db", [default])
        assert refused_with("DbSetupFunction", endpoint) == CANT_CONNECT
        emulator.client("rds").modify_db_instance(DBInstanceIdentifier="private-db", PubliclyAccessible=True, ApplyImmediately=True)
        assert refused_with("DbSetupFunction", endpoint) in ACCESS_DENIED


def test_the_workflow_fails_at_dbsetup_when_network_does_not_admit_its_group(emulator, minimal_input, monkeypatch):
    """Before the fix, Network's rules for the EMR RDS group left DbSetup out: every real deployment
    timed out in DbSetup. The emulator shows it; with the fix the same run succeeds."""
    seed(emulator, minimal_input)
    own_rules = network.own_rules
    monkeypatch.setattr(network, "own_rules", lambda deployment, groups, db_setup: own_rules(deployment, groups, None))  # Network as it was

    result = execute(emulator, minimal_input)

    assert result.status == "FAILED" and result.error == "DbSetup.TransientAwsError", result.error
    assert "MySQL error 2003: Can't connect to MySQL server on 'acme-demo-analytics." in result.cause
    assert "(timed out)" in result.cause


def test_network_admits_the_dbsetup_group_into_the_emr_rds_group_and_dbsetup_gets_through(emulator, minimal_input):
    seed(emulator, minimal_input)

    result = execute(emulator, minimal_input)

    assert result.status == "SUCCEEDED", result.cause
    [exited] = [
        e["stateExitedEventDetails"]
        for e in result.view.events
        if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == "Ensure network and security groups"
    ]
    emr_rds = json.loads(exited["output"])["network"]["security_groups"]["emr_rds"]
    described = emulator.client("ec2").describe_security_groups(GroupIds=[emr_rds])["SecurityGroups"][0]
    assert IngressRule.tcp(3306, emulator.parameters["DbSetupSecurityGroupId"]) in ingress_rules(described)
