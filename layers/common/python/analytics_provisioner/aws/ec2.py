"""EC2 and VPC lookups."""

from . import tags as tagging
from .clients import client


def default_vpc_id(region: str) -> str | None:
    vpcs = client("ec2", region).describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    return vpcs[0]["VpcId"] if vpcs else None


def vpc(vpc_id: str, region: str) -> dict | None:
    vpcs = client("ec2", region).describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"]
    return vpcs[0] if vpcs else None


def subnet(subnet_id: str, region: str) -> dict | None:
    subnets = client("ec2", region).describe_subnets(Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])["Subnets"]
    return subnets[0] if subnets else None


def first_default_subnet(vpc_id: str, region: str) -> dict | None:
    subnets = client("ec2", region).describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "default-for-az", "Values": ["true"]}]
    )["Subnets"]
    return min(subnets, key=lambda s: s["AvailabilityZone"]) if subnets else None


def dns_hostnames_enabled(vpc_id: str, region: str) -> bool:
    attribute = client("ec2", region).describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    return attribute["EnableDnsHostnames"]["Value"]


def subnet_route_table(subnet_id: str, vpc_id: str, region: str) -> dict | None:
    """The route table a subnet uses: its explicit association, else the VPC's main table."""
    ec2 = client("ec2", region)
    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])["RouteTables"]
    if not tables:
        tables = ec2.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}]
        )["RouteTables"]
    return tables[0] if tables else None


def has_internet_gateway_route(subnet_id: str, vpc_id: str, region: str) -> bool:
    table = subnet_route_table(subnet_id, vpc_id, region)
    routes = table.get("Routes", []) if table else []
    return any(
        route.get("GatewayId", "").startswith("igw-") and route.get("DestinationCidrBlock") == "0.0.0.0/0"
        for route in routes
    )


def security_group_by_name(name: str, vpc_id: str, region: str) -> dict | None:
    groups = client("ec2", region).describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    return groups[0] if groups else None


def security_group_tags(name: str, vpc_id: str, region: str) -> dict | None:
    group = security_group_by_name(name, vpc_id, region)
    return None if group is None else tagging.from_list(group.get("Tags"))


def key_pair_tags(name: str, region: str) -> dict | None:
    pairs = client("ec2", region).describe_key_pairs(Filters=[{"Name": "key-name", "Values": [name]}])["KeyPairs"]
    return None if not pairs else tagging.from_list(pairs[0].get("Tags"))


def offered_instance_types(instance_types: list[str], region: str) -> set[str]:
    offerings = client("ec2", region).describe_instance_type_offerings(
        LocationType="region", Filters=[{"Name": "instance-type", "Values": instance_types}]
    )["InstanceTypeOfferings"]
    return {offer["InstanceType"] for offer in offerings}
