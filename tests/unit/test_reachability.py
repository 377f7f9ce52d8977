"""The network path model on describe results as AWS returns them (no moto: plain dicts)."""

import pytest

from analytics_provisioner import reachability as paths

VPC, OTHER_VPC = "vpc-1", "vpc-2"


def sg(group_id: str, *permissions: dict, vpc: str = VPC) -> dict:
    return {"GroupId": group_id, "GroupName": group_id.removeprefix("sg-"), "VpcId": vpc, "IpPermissions": list(permissions)}


def tcp(port: int, *, groups=(), cidrs=(), to_port: int | None = None) -> dict:
    return {
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": to_port or port,
        "IpRanges": [{"CidrIp": c} for c in cidrs],
        "UserIdGroupPairs": [{"GroupId": g} for g in groups],
    }


def everything_from(group_id: str) -> dict:
    return {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group_id}]}


def db(groups: list[str], public: bool = False, vpc: str | None = VPC) -> dict:
    described = {
        "DBInstanceIdentifier": "db",
        "VpcSecurityGroups": [{"VpcSecurityGroupId": g, "Status": "active"} for g in groups],
        "PubliclyAccessible": public,
    }
    return described | ({"DBSubnetGroup": {"VpcId": vpc}} if vpc else {})


def instance(groups: list[str], private_ip: str = "10.0.1.5", public_ip: str | None = None, vpc: str = VPC) -> dict:
    return {"InstanceId": "i-1", "VpcId": vpc, "PrivateIpAddress": private_ip, "SecurityGroups": [{"GroupId": g} for g in groups]} | (
        {"PublicIpAddress": public_ip} if public_ip else {}
    )


def test_a_group_reference_admits_the_groups_members_on_that_port_only():
    network = paths.Network([sg("sg-db", tcp(3306, groups=["sg-app"])), sg("sg-app")])
    app, database = paths.group(network.groups["sg-app"]), paths.db_instance(db(["sg-db"]))
    admission = network.admission(app, database, 3306)
    assert admission.group_id == "sg-db" and admission.rule.source == "sg-app"
    assert str(admission) == "sg-db admits sg-app on tcp 3306"
    assert not network.reaches(app, database, 3307)
    assert not network.reaches(paths.group(sg("sg-other")), database, 3306)


def test_a_port_range_and_all_traffic_cover_the_port():
    network = paths.Network([sg("sg-db", tcp(3300, groups=["sg-a"], to_port=3310), everything_from("sg-b")), sg("sg-a"), sg("sg-b")])
    database = paths.db_instance(db(["sg-db"]))
    assert network.reaches(paths.group(network.groups["sg-a"]), database, 3306)
    assert not network.reaches(paths.group(network.groups["sg-a"]), database, 3311)
    assert network.reaches(paths.group(network.groups["sg-b"]), database, 22)


def test_a_group_in_another_vpc_is_not_admitted_by_a_reference():
    network = paths.Network([sg("sg-db", tcp(3306, groups=["sg-app"])), sg("sg-app", vpc=OTHER_VPC)])
    assert not network.reaches(paths.group(network.groups["sg-app"]), paths.db_instance(db(["sg-db"])), 3306)


def test_a_cidr_rule_admits_addresses_inside_it():
    network = paths.Network([sg("sg-web", tcp(22, cidrs=["203.0.113.0/24"]), tcp(443, cidrs=["0.0.0.0/0"]))])
    web = paths.instance(instance(["sg-web"], public_ip="198.51.100.9"))
    assert network.reaches(paths.internet("203.0.113.7/32"), web, 22)
    assert not network.reaches(paths.internet("203.0.112.0/23"), web, 22)  # wider than the rule
    assert not network.reaches(paths.internet("198.51.100.1/32"), web, 22)
    assert network.reaches(paths.internet("198.51.100.1/32"), web, 443)
    assert not network.reaches(paths.internet("2001:db8::1/128"), web, 443)  # an IPv4 rule


def test_a_private_destination_is_reachable_only_inside_its_vpc():
    network = paths.Network([sg("sg-db", tcp(3306, cidrs=["0.0.0.0/0"]))])
    assert not network.reaches(paths.internet("203.0.113.7/32"), paths.db_instance(db(["sg-db"])), 3306)
    assert network.reaches(paths.internet("203.0.113.7/32"), paths.db_instance(db(["sg-db"], public=True)), 3306)
    assert not network.reaches(paths.internet("203.0.113.7/32"), paths.instance(instance(["sg-db"])), 3306)  # no public IP


def test_an_instance_inside_the_vpc_is_admitted_by_its_private_address_or_its_groups():
    network = paths.Network([sg("sg-db", tcp(3306, cidrs=["10.0.0.0/16"]), tcp(5432, groups=["sg-app"])), sg("sg-app")])
    app = paths.instance(instance(["sg-app"], private_ip="10.0.1.5"))
    database = paths.db_instance(db(["sg-db"]))
    assert network.reaches(app, database, 3306) and network.reaches(app, database, 5432)
    assert not network.reaches(paths.instance(instance(["sg-app"], private_ip="10.1.0.5")), database, 3306)


def test_a_function_outside_any_vpc_needs_a_public_instance_open_to_every_address():
    outside = paths.lambda_function("DbSetup", None)
    assert outside.vpc_id is None and outside.cidr is None
    narrow = paths.Network([sg("sg-db", tcp(3306, cidrs=["10.0.0.0/8"]))])
    open_ = paths.Network([sg("sg-db", tcp(3306, cidrs=["0.0.0.0/0"]))])
    assert not narrow.reaches(outside, paths.db_instance(db(["sg-db"], public=True)), 3306)
    assert open_.reaches(outside, paths.db_instance(db(["sg-db"], public=True)), 3306)
    assert not open_.reaches(outside, paths.db_instance(db(["sg-db"])), 3306)


def test_a_function_in_a_vpc_takes_its_vpc_from_its_group():
    network = paths.Network([sg("sg-db", tcp(3306, groups=["sg-fn"])), sg("sg-fn")])
    function = paths.lambda_function("DbSetup", {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-fn"], "VpcId": "vpc-123abc"})
    assert network.vpc_of(function) == VPC
    assert network.reaches(function, paths.db_instance(db(["sg-db"], vpc=None)), 3306)  # the database's VPC from its group too


def test_search_domains_in_a_vpc_and_public_ones():
    network = paths.Network([sg("sg-es", tcp(443, groups=["sg-app"])), sg("sg-app")])
    in_vpc = paths.search_domain({"DomainName": "d", "VPCOptions": {"VPCId": VPC, "SecurityGroupIds": ["sg-es"]}})
    public = paths.search_domain({"DomainName": "d"})
    app = paths.group(network.groups["sg-app"])
    assert network.reaches(app, in_vpc, 443) and not network.reaches(paths.internet("203.0.113.7/32"), in_vpc, 443)
    assert str(network.admission(paths.internet("203.0.113.7/32"), public, 443)) == "no security group (a public endpoint)"


@pytest.mark.parametrize(
    "source, expected",
    [
        (paths.Party("x", ("sg-app",)), "--source-group sg-app"),
        (paths.internet("203.0.113.7/32"), "--cidr 203.0.113.7/32"),
    ],
)
def test_the_command_that_opens_a_path(source, expected):
    assert paths.authorize_command("sg-db", 3306, source, "eu-west-1") == (
        f"aws ec2 authorize-security-group-ingress --region eu-west-1 --group-id sg-db --protocol tcp --port 3306 {expected}"
    )
