"""The Network phase against moto: the exact inbound rules of every security group, the shared EMR
groups, DNS hostnames, the internet route, the edxapp RDS membership, and re-runs."""

import pytest

from analytics_provisioner.aws.ec2 import IngressRule
from analytics_provisioner.errors import OwnershipError, PreflightError, TransientAwsError
from analytics_provisioner.handler import invoke
from analytics_provisioner.local import faults
from analytics_provisioner.local.ec2_describe_lag import LAG_SECONDS
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import (
    EMR_MASTER_SECURITY_GROUP,
    EMR_SLAVE_SECURITY_GROUP,
    TAG_DEPLOYMENT,
    TAG_MANAGED_BY,
    TAG_SHARED,
    TOOL,
)
from analytics_provisioner.phases import network, polling, validate

REGION = "us-east-1"
WORLD = "0.0.0.0/0"
ALL = ("-1", None, None)


@pytest.fixture
def state(ready, minimal_input):
    return invoke(validate.run, minimal_input)


def ec2(aws):
    return aws.client("ec2")


def group(aws, group_id: str) -> dict:
    return ec2(aws).describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]


def rules(aws, group_id: str) -> set[tuple]:
    """Inbound rules as (protocol, from, to, source), one per source."""
    found = set()
    for permission in group(aws, group_id)["IpPermissions"]:
        head = (permission["IpProtocol"], permission.get("FromPort"), permission.get("ToPort"))
        found |= {(*head, r["CidrIp"]) for r in permission["IpRanges"]}
        found |= {(*head, r["CidrIpv6"]) for r in permission["Ipv6Ranges"]}
        found |= {(*head, p["GroupId"]) for p in permission["UserIdGroupPairs"]}
        found |= {(*head, p["PrefixListId"]) for p in permission["PrefixListIds"]}
    return found


def tcp(port: int, source: str) -> tuple:
    return ("tcp", port, port, source)


def tags_of(resource: dict) -> dict:
    return {tag["Key"]: tag["Value"] for tag in resource.get("Tags", [])}


def edxapp_groups(aws, identifier: str = "acme-edxapp-db") -> list[str]:
    instance = aws.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    return [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]]


def count_calls(aws, service: str, operations: list[str]) -> list[str]:
    made = []
    for operation in operations:
        aws.client(service).meta.events.register(f"before-call.{service}.{operation}", lambda model, **_: made.append(model.name))
    return made


def all_rules(aws) -> int:
    return len(ec2(aws).describe_security_group_rules()["SecurityGroupRules"])


# The runbook's rules -------------------------------------------------------------------------------
def test_security_groups_have_exactly_the_runbooks_rules(state, ready):
    out = invoke(network.run, state)
    sg = out["security_groups"]
    assert rules(ready, sg["analytics"]) == {tcp(22, sg["director"]), tcp(80, WORLD), tcp(443, WORLD)}
    assert rules(ready, sg["director"]) == {tcp(22, "203.0.113.7/32")}
    assert rules(ready, sg["emr_rds"]) == {tcp(3306, sg["emr_master"]), tcp(3306, sg["emr_slave"]), tcp(3306, sg["analytics"])}
    assert rules(ready, sg["emr_master"]) == {tcp(22, sg["analytics"]), (*ALL, sg["emr_master"]), (*ALL, sg["emr_slave"])}
    assert rules(ready, sg["emr_slave"]) == {(*ALL, sg["emr_slave"]), (*ALL, sg["emr_master"])}


def test_groups_carry_their_names_and_tags(state, ready):
    out = invoke(network.run, state)
    sg, vpc = out["security_groups"], state["deployment"]["network"]["vpc_id"]
    names = {key: group(ready, sg[key])["GroupName"] for key in sg}
    assert names == {
        "default": "default",
        "analytics": "acme-demo-analytics",
        "director": "acme-demo-director",
        "emr_rds": "acme-demo-emr-rds",
        "emr_master": EMR_MASTER_SECURITY_GROUP,
        "emr_slave": EMR_SLAVE_SECURITY_GROUP,
    }
    assert {group(ready, sg[key])["VpcId"] for key in sg} == {vpc}
    for key in ("analytics", "director", "emr_rds"):
        assert tags_of(group(ready, sg[key])) == {TAG_DEPLOYMENT: "acme-demo", TAG_MANAGED_BY: TOOL, "Name": names[key]}
    for key in ("emr_master", "emr_slave"):
        # Shared by every deployment in the VPC: no deployment tag, so no teardown deletes them.
        assert tags_of(group(ready, sg[key])) == {TAG_SHARED: "acme-demo", TAG_MANAGED_BY: TOOL}
    assert (out["vpc_id"], out["subnet_id"]) == (vpc, state["deployment"]["network"]["subnet_id"])


def test_ssh_to_the_analytics_instances_from_the_inputs_cidrs(ready, minimal_input):
    minimal_input["network"].update(analytics_ssh_cidrs=["198.51.100.0/28"], director_ssh_cidrs=["203.0.113.7/32", "192.0.2.1/32"])
    sg = invoke(network.run, invoke(validate.run, minimal_input))["security_groups"]
    assert rules(ready, sg["analytics"]) == {tcp(22, sg["director"]), tcp(22, "198.51.100.0/28"), tcp(80, WORLD), tcp(443, WORLD)}
    assert rules(ready, sg["director"]) == {tcp(22, "203.0.113.7/32"), tcp(22, "192.0.2.1/32")}


def test_no_group_of_ours_opens_8080_or_ssh_to_the_world(state, ready):
    sg = invoke(network.run, state)["security_groups"]
    for key in ("analytics", "director", "emr_rds", "emr_master", "emr_slave"):
        for protocol, low, high, source in rules(ready, sg[key]):
            assert not (protocol == "tcp" and low <= 8080 <= high), key
            assert not (source == WORLD and protocol == "tcp" and low <= 22 <= high), key


def test_foreign_rules_on_our_groups_are_revoked(state, ready):
    sg = invoke(network.run, state)["security_groups"]
    api = ec2(ready)
    api.authorize_security_group_ingress(
        GroupId=sg["analytics"],
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": WORLD}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": WORLD}]},
        ],
    )
    api.authorize_security_group_ingress(
        GroupId=sg["emr_rds"], IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
    )
    api.revoke_security_group_ingress(
        GroupId=sg["director"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.7/32"}]}],
    )
    invoke(network.run, state)
    assert rules(ready, sg["analytics"]) == {tcp(22, sg["director"]), tcp(80, WORLD), tcp(443, WORLD)}
    assert rules(ready, sg["emr_rds"]) == {tcp(3306, sg["emr_master"]), tcp(3306, sg["emr_slave"]), tcp(3306, sg["analytics"])}
    assert rules(ready, sg["director"]) == {tcp(22, "203.0.113.7/32")}


# Shared EMR groups ------------------------------------------------------------------------------------
def test_existing_emr_groups_are_adopted_and_keep_their_rules(state, ready):
    api, vpc = ec2(ready), state["deployment"]["network"]["vpc_id"]
    master = api.create_security_group(
        GroupName=EMR_MASTER_SECURITY_GROUP, Description="Master group for Elastic MapReduce created on 2017-03-01", VpcId=vpc
    )["GroupId"]
    api.authorize_security_group_ingress(
        GroupId=master, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}]
    )
    sg = invoke(network.run, state)["security_groups"]
    assert sg["emr_master"] == master
    assert tcp(8443, "10.1.0.0/16") in rules(ready, master)  # not ours to remove
    assert {tcp(22, sg["analytics"]), (*ALL, master), (*ALL, sg["emr_slave"])} <= rules(ready, master)
    assert tags_of(group(ready, master)) == {}  # not ours to tag either
    names = [g["GroupName"] for g in api.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]]
    assert names.count(EMR_MASTER_SECURITY_GROUP) == 1


def test_two_deployments_share_the_emr_groups(state, ready, minimal_input):
    first = invoke(network.run, state)["security_groups"]
    minimal_input["deployment_id"] = "acme-other"
    seed(ready, minimal_input)  # the edxapp owner opts its database and secrets in for the second deployment too
    second = invoke(network.run, invoke(validate.run, minimal_input))["security_groups"]
    assert (second["emr_master"], second["emr_slave"]) == (first["emr_master"], first["emr_slave"])
    assert second["analytics"] != first["analytics"]
    master = rules(ready, first["emr_master"])
    assert {tcp(22, first["analytics"]), tcp(22, second["analytics"])} <= master
    assert tags_of(group(ready, first["emr_master"]))[TAG_SHARED] == "acme-demo"  # not retagged by the second


# The VPC -----------------------------------------------------------------------------------------------
def test_dns_hostnames_are_enabled_when_off_and_reported(state, ready):
    vpc = state["deployment"]["network"]["vpc_id"]
    ec2(ready).modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": False})
    assert invoke(network.run, state)["dns_hostnames_enabled_by_us"] is True
    assert ec2(ready).describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] is True
    assert invoke(network.run, state)["dns_hostnames_enabled_by_us"] is False


def test_dns_hostnames_already_on_are_left_alone(state, ready):
    made = count_calls(ready, "ec2", ["ModifyVpcAttribute"])
    assert invoke(network.run, state)["dns_hostnames_enabled_by_us"] is False
    assert made == []


def test_a_subnet_without_internet_route_fails_with_the_runbooks_remedy(state, ready):
    api, vpc = ec2(ready), state["deployment"]["network"]["vpc_id"]
    main = api.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}])[
        "RouteTables"
    ][0]
    api.delete_route(RouteTableId=main["RouteTableId"], DestinationCidrBlock=WORLD)
    groups_before = len(api.describe_security_groups()["SecurityGroups"])
    with pytest.raises(PreflightError, match="no route to an internet gateway.*create an Internet Gateway, attach it to VPC"):
        invoke(network.run, state)
    assert len(api.describe_security_groups()["SecurityGroups"]) == groups_before


# The edxapp RDS instance ---------------------------------------------------------------------------------
def test_edxapp_rds_gets_the_emr_rds_group_and_keeps_its_others(state, ready):
    original = edxapp_groups(ready)
    out = invoke(network.run, state)
    emr_rds = out["security_groups"]["emr_rds"]
    assert edxapp_groups(ready) == original + [emr_rds]
    assert out["edxapp_db_security_groups_added"] == [emr_rds]


def test_edxapp_rds_is_modified_only_when_the_group_is_missing(state, ready):
    invoke(network.run, state)
    made = count_calls(ready, "rds", ["ModifyDBInstance"])
    out = invoke(network.run, state)
    assert made == []
    assert out["edxapp_db_security_groups_added"] == [out["security_groups"]["emr_rds"]]


def test_a_busy_edxapp_rds_is_retried(state, ready):
    class Busy:
        status_code, headers = 400, {}

    ready.client("rds").meta.events.register(
        "before-call.rds.ModifyDBInstance",
        lambda **_: (Busy(), {"Error": {"Code": "InvalidDBInstanceState", "Message": "Database instance is not in available state."}}),
    )
    with pytest.raises(TransientAwsError, match="acme-edxapp-db: the instance is busy"):
        invoke(network.run, state)


# Re-runs and ownership -------------------------------------------------------------------------------------
def test_rerun_creates_and_changes_nothing(state, ready):
    first = invoke(network.run, state)
    groups, rule_count = len(ec2(ready).describe_security_groups()["SecurityGroups"]), all_rules(ready)
    made = count_calls(
        ready,
        "ec2",
        ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "CreateTags", "ModifyVpcAttribute"],
    )
    assert invoke(network.run, state) == first
    assert made == []
    assert (len(ec2(ready).describe_security_groups()["SecurityGroups"]), all_rules(ready)) == (groups, rule_count)


@pytest.mark.parametrize("tags", [[], [{"Key": TAG_DEPLOYMENT, "Value": "someone-else"}]], ids=["untagged", "other-deployment"])
@pytest.mark.parametrize("name", ["acme-demo-analytics", "acme-demo-director", "acme-demo-emr-rds"])
def test_a_group_name_taken_by_a_group_without_our_tag_fails_naming_it(state, ready, name, tags):
    vpc = state["deployment"]["network"]["vpc_id"]
    spec = [{"ResourceType": "security-group", "Tags": tags}] if tags else []
    taken = ec2(ready).create_security_group(GroupName=name, Description="someone's", VpcId=vpc, TagSpecifications=spec)["GroupId"]
    with pytest.raises(OwnershipError, match=f"security group '{name}' \\({taken} in {vpc}\\) exists and is not ours") as refused:
        invoke(network.run, state)
    assert ("deployment someone-else" if tags else "no deployment tag") in str(refused.value)
    assert rules(ready, taken) == set()


# Duplicates: what a look-up moments before did not show (EC2's describe calls lag, local/ec2_describe_lag.py) ----
@pytest.fixture
def as_network(ready):
    """The phase's calls as the Network function's, whose own recent writes its describe calls do not show yet."""
    with faults.recorded_as("NetworkFunction"):
        yield ready


def _ours(name: str) -> list[dict]:
    return [{"ResourceType": "security-group", "Tags": [{"Key": TAG_DEPLOYMENT, "Value": "acme-demo"}, {"Key": "Name", "Value": name}]}]


def test_a_group_of_ours_the_lookup_does_not_show_yet_is_adopted_once_it_shows(state, as_network):
    vpc, clock = state["deployment"]["network"]["vpc_id"], as_network.clock
    made = ec2(as_network).create_security_group(
        GroupName="acme-demo-analytics", Description="a moment ago", VpcId=vpc, TagSpecifications=_ours("acme-demo-analytics")
    )["GroupId"]
    before = clock.now()
    out = invoke(network.run, state)
    assert out["security_groups"]["analytics"] == made
    assert LAG_SECONDS <= clock.now() - before < LAG_SECONDS + polling.FOUND_INTERVAL_SECONDS + 1  # it waited for the describe, no longer
    with faults.outside_functions():
        assert rules(as_network, made) == {tcp(22, out["security_groups"]["director"]), tcp(80, WORLD), tcp(443, WORLD)}


def test_a_foreign_group_behind_the_duplicate_answer_is_refused(state, as_network):
    vpc = state["deployment"]["network"]["vpc_id"]
    ec2(as_network).create_security_group(GroupName="acme-demo-director", Description="someone's", VpcId=vpc)
    with pytest.raises(OwnershipError, match="security group 'acme-demo-director' .* exists and is not ours"):
        invoke(network.run, state)


def test_a_duplicate_group_that_never_shows_is_retried_by_the_state_machine(state, as_network):
    vpc = state["deployment"]["network"]["vpc_id"]
    as_network.ec2_describe_lag.seconds = 3600
    ec2(as_network).create_security_group(
        GroupName="acme-demo-analytics", Description="a moment ago", VpcId=vpc, TagSpecifications=_ours("acme-demo-analytics")
    )
    with pytest.raises(
        TransientAwsError, match="security group 'acme-demo-analytics' in vpc-.*InvalidGroup.Duplicate, but it does not show yet"
    ):
        invoke(network.run, state)


def test_rules_that_exist_already_count_as_added_and_the_others_are_added_too(state, ready):
    sg = invoke(network.run, state)["security_groups"]
    api = ec2(ready)
    ready.clock.skip(LAG_SECONDS)
    api.revoke_security_group_ingress(
        GroupId=sg["analytics"], IpPermissions=[IngressRule.tcp(80, WORLD).permission(), IngressRule.tcp(443, WORLD).permission()]
    )
    with faults.recorded_as("NetworkFunction"):
        # Put back a moment ago by the phase's earlier attempt: not shown yet; the batch meets InvalidPermission.Duplicate.
        api.authorize_security_group_ingress(GroupId=sg["analytics"], IpPermissions=[IngressRule.tcp(80, WORLD).permission()])
        made = count_calls(ready, "ec2", ["AuthorizeSecurityGroupIngress"])
        invoke(network.run, state)
    assert rules(ready, sg["analytics"]) == {tcp(22, sg["director"]), tcp(80, WORLD), tcp(443, WORLD)}
    assert made == ["AuthorizeSecurityGroupIngress"] * 3  # the batch of two, then each one
