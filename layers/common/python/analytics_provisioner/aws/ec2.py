"""EC2 and VPC lookups, security groups and their inbound rules."""

from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from .. import naming
from ..errors import TransientAwsError
from . import tags as tagging
from .clients import client
from .errors import error_code, gone_is_success, unless_exists

DUPLICATE_GROUP, DUPLICATE_RULE = "InvalidGroup.Duplicate", "InvalidPermission.Duplicate"


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
    return any(route.get("GatewayId", "").startswith("igw-") and route.get("DestinationCidrBlock") == "0.0.0.0/0" for route in routes)


def security_group_by_name(name: str, vpc_id: str, region: str) -> dict | None:
    groups = client("ec2", region).describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    return groups[0] if groups else None


def security_groups(group_ids: list[str] | None, region: str) -> list[dict]:
    """The groups with these ids (every group of the region when None); a missing id is left out."""
    ec2 = client("ec2", region)
    filters = [{"Name": "group-id", "Values": group_ids}] if group_ids is not None else []
    if group_ids == []:
        return []
    return [found for page in ec2.get_paginator("describe_security_groups").paginate(Filters=filters) for found in page["SecurityGroups"]]


def security_groups_in(vpc_ids: list[str], region: str) -> list[dict]:
    """Every security group of these VPCs."""
    if not vpc_ids:
        return []
    pages = client("ec2", region).get_paginator("describe_security_groups").paginate(Filters=[{"Name": "vpc-id", "Values": vpc_ids}])
    return [group for page in pages for group in page["SecurityGroups"]]


def security_group_tags(name: str, vpc_id: str, region: str) -> dict | None:
    group = security_group_by_name(name, vpc_id, region)
    return None if group is None else tagging.from_list(group.get("Tags"))


def key_pair_tags(name: str, region: str) -> dict | None:
    pairs = client("ec2", region).describe_key_pairs(Filters=[{"Name": "key-name", "Values": [name]}])["KeyPairs"]
    return None if not pairs else tagging.from_list(pairs[0].get("Tags"))


def zones_offering(instance_types: list[str], region: str) -> dict[str, set[str]]:
    """Instance type -> the Availability Zones (names) that offer it; a type offered nowhere is left out."""
    zones: dict[str, set[str]] = {}
    pages = (
        client("ec2", region)
        .get_paginator("describe_instance_type_offerings")
        .paginate(LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": instance_types}])
    )
    for offer in (offer for page in pages for offer in page["InstanceTypeOfferings"]):
        zones.setdefault(offer["InstanceType"], set()).add(offer["Location"])
    return zones


def architectures(instance_types: list[str], region: str) -> dict[str, list[str]]:
    """Instance type -> ProcessorInfo.SupportedArchitectures (types EC2 offers in the region only)."""
    found = client("ec2", region).describe_instance_types(InstanceTypes=instance_types)["InstanceTypes"]
    return {info["InstanceType"]: info.get("ProcessorInfo", {}).get("SupportedArchitectures", []) for info in found}


def vpc_subnets(vpc_id: str, region: str) -> list[dict]:
    """The VPC's subnets, ordered by Availability Zone then id."""
    subnets = client("ec2", region).describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    return sorted(subnets, key=lambda s: (s["AvailabilityZone"], s["SubnetId"]))


# --- ensure helpers (the Network phase) ------------------------------------------------------------
def enable_dns_hostnames(vpc_id: str, region: str) -> None:
    client("ec2", region).modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})


def create_security_group(name: str, description: str, vpc_id: str, tags: dict[str, str], region: str) -> dict | None:
    """Create the group with its tags in one call; returns it as describe_security_groups would, or None
    when EC2 answers that the VPC has a group of that name already (``unless_exists``)."""
    created = unless_exists(
        lambda: client("ec2", region).create_security_group(
            GroupName=name,
            Description=description,
            VpcId=vpc_id,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": tagging.as_list(tags)}],
        ),
        DUPLICATE_GROUP,
    )
    if created is None:
        return None
    group_id = created["GroupId"]
    return {"GroupId": group_id, "GroupName": name, "VpcId": vpc_id, "Tags": tagging.as_list(tags), "IpPermissions": []}


def tagged_security_groups(deployment_id: str, region: str) -> list[dict]:
    """Every security group carrying the deployment's tag."""
    pages = (
        client("ec2", region)
        .get_paginator("describe_security_groups")
        .paginate(Filters=[{"Name": f"tag:{naming.TAG_DEPLOYMENT}", "Values": [deployment_id]}])
    )
    return [group for page in pages for group in page["SecurityGroups"]]


def delete_security_group(group_id: str, region: str) -> bool:
    """``create_security_group``'s partner, once nothing uses or names the group; False when it was
    already gone. Still in use (DependencyViolation: the network interfaces of terminated instances
    linger for a minute) is retryable."""
    try:
        return gone_is_success(lambda: client("ec2", region).delete_security_group(GroupId=group_id), "InvalidGroup.NotFound")
    except ClientError as exc:
        if error_code(exc) == "DependencyViolation":
            raise TransientAwsError(
                f"security group {group_id} is still in use (network interfaces of terminated instances linger for a minute); retrying"
            ) from exc
        raise


@dataclass(frozen=True)
class IngressRule:
    """One inbound rule: a protocol, a port range (None for all traffic) and one source, which is a
    CIDR ("203.0.113.7/32", "::/0"), a security group id ("sg-...") or a prefix list ("pl-...").
    Descriptions are carried along but do not make two rules different."""

    protocol: str
    ports: tuple[int, int] | None
    source: str
    description: str = field(default="", compare=False)

    @classmethod
    def tcp(cls, port: int, source: str, description: str = "") -> "IngressRule":
        return cls("tcp", (port, port), source, description)

    @classmethod
    def all_traffic(cls, source: str, description: str = "") -> "IngressRule":
        return cls("-1", None, source, description)

    def permission(self) -> dict:
        """The rule as one ``IpPermissions`` item."""
        permission: dict[str, object] = {"IpProtocol": self.protocol}
        if self.ports is not None:
            permission["FromPort"], permission["ToPort"] = self.ports
        described = {"Description": self.description} if self.description else {}
        if self.source.startswith("sg-"):
            permission["UserIdGroupPairs"] = [{"GroupId": self.source, **described}]
        elif self.source.startswith("pl-"):
            permission["PrefixListIds"] = [{"PrefixListId": self.source, **described}]
        elif ":" in self.source:
            permission["Ipv6Ranges"] = [{"CidrIpv6": self.source, **described}]
        else:
            permission["IpRanges"] = [{"CidrIp": self.source, **described}]
        return permission


_SOURCES = (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6"), ("UserIdGroupPairs", "GroupId"), ("PrefixListIds", "PrefixListId"))


def ingress_rules(group: dict) -> set[IngressRule]:
    """The group's inbound rules, one IngressRule per source."""
    rules = set()
    for permission in group.get("IpPermissions", []):
        protocol = permission["IpProtocol"]
        ports = None if protocol == "-1" else (permission.get("FromPort"), permission.get("ToPort"))
        for list_key, source_key in _SOURCES:
            for item in permission.get(list_key, []):
                rules.add(IngressRule(protocol, ports, item[source_key], item.get("Description", "")))
    return rules


def authorize_ingress(group_id: str, rules: list[IngressRule], region: str) -> None:
    """Add the rules. One that exists already counts as added: EC2 answers InvalidPermission.Duplicate for
    a rule a lagging describe did not show, or that the SDK's retry of a call whose answer was lost meets;
    the call then may not have added the others, so they go again one by one."""
    ec2 = client("ec2", region)

    def authorize(batch: list[IngressRule]) -> None:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[rule.permission() for rule in batch])

    if not rules:
        return
    try:
        authorize(rules)
    except ClientError as exc:
        if error_code(exc) != DUPLICATE_RULE:
            raise
        for rule in rules if len(rules) > 1 else []:
            unless_exists(lambda rule=rule: authorize([rule]), DUPLICATE_RULE)


def revoke_ingress(group_id: str, rules: list[IngressRule], region: str) -> None:
    """Revoke rules as described (with their descriptions: moto matches them, AWS accepts them)."""
    if rules:
        client("ec2", region).revoke_security_group_ingress(GroupId=group_id, IpPermissions=[rule.permission() for rule in rules])


def revoke_rules_referencing(group_id: str, referenced_ids: set[str], region: str) -> int:
    """Revoke the rules of ``group_id``, inbound and outbound, whose source or destination is one of
    ``referenced_ids`` (so those groups can be deleted); returns how many."""
    ec2 = client("ec2", region)
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
    referencing = [rule for rule in rules if rule.get("ReferencedGroupInfo", {}).get("GroupId") in referenced_ids]
    for egress, revoke in ((False, ec2.revoke_security_group_ingress), (True, ec2.revoke_security_group_egress)):
        ids = [rule["SecurityGroupRuleId"] for rule in referencing if rule["IsEgress"] is egress]
        if ids:
            revoke(GroupId=group_id, SecurityGroupRuleIds=ids)
    return len(referencing)
