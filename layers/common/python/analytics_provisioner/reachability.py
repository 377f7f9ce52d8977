"""Network paths as AWS decides them: does a source reach a destination on a TCP port?

Pure logic over describe results (DescribeSecurityGroups, DescribeInstances, DescribeDBInstances,
DescribeDomain, a Lambda function's VpcConfig), so the same code judges moto's state in local mode
(the emulator's network rule, ``local/network.py``) and a real account (the Verify phase).

What it models (AWS's rules):
- A connection is admitted when one of the destination's security groups has an inbound rule for
  the protocol and port whose source is one of the source's groups (inside one VPC) or a CIDR
  block holding the source's address.
- A destination that is not publicly accessible (an RDS instance with ``PubliclyAccessible`` false,
  an EC2 instance without a public IP) is reachable only from inside its VPC.
- A source whose address is not known in advance (a Lambda function outside a VPC connects from
  some AWS address; a security group stands for whatever its members' addresses are) is admitted by
  a CIDR rule only when that rule admits every address (``0.0.0.0/0``).

Not modelled: network ACLs, routes, outbound rules (AWS's default and our groups allow all
outbound), VPC peering (a path between two VPCs is never found here) and prefix-list sources.
"""

import dataclasses
import ipaddress
import json
from dataclasses import dataclass

from .aws.ec2 import IngressRule, ingress_rules

EVERY_ADDRESS = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class Party:
    """One end of a path: its security groups, the address it connects from (a CIDR, None when
    not known in advance), its VPC (None: outside every VPC) and whether it is reachable from
    outside its VPC."""

    name: str
    groups: tuple[str, ...] = ()
    cidr: str | None = None
    vpc_id: str | None = None
    public: bool = False


def internet(cidr: str | None = None, name: str | None = None) -> Party:
    """Somebody on the internet: a CIDR block, or an address not known in advance."""
    return Party(name or (cidr or "the internet"), cidr=cidr)


def group(described: dict) -> Party:
    """The members of a security group, as a source."""
    return Party(
        f"security group {described['GroupId']} ({described.get('GroupName', '?')})", (described["GroupId"],), vpc_id=described.get("VpcId")
    )


def instance(described: dict, name: str | None = None) -> Party:
    """An EC2 instance from DescribeInstances: its address and groups are its primary network
    interface's (the same as ``SecurityGroups`` on AWS; moto fills only the interface's for an
    instance launched with ``NetworkInterfaces``)."""
    private = described.get("PrivateIpAddress")
    primary: dict = next((i for i in described.get("NetworkInterfaces", []) if i.get("Attachment", {}).get("DeviceIndex") == 0), {})
    groups = primary.get("Groups") or described.get("SecurityGroups", [])
    return Party(
        name or f"instance {described['InstanceId']}",
        tuple(g["GroupId"] for g in groups),
        f"{private}/32" if private else None,
        described.get("VpcId"),
        bool(described.get("PublicIpAddress")),
    )


def db_instance(described: dict, name: str | None = None) -> Party:
    """An RDS instance from DescribeDBInstances (no VPC in the answer: the VPC of its groups)."""
    return Party(
        name or f"RDS instance {described['DBInstanceIdentifier']}",
        tuple(g["VpcSecurityGroupId"] for g in described.get("VpcSecurityGroups", [])),
        vpc_id=described.get("DBSubnetGroup", {}).get("VpcId"),
        public=bool(described.get("PubliclyAccessible")),
    )


def lambda_function(name: str, vpc_config: dict | None) -> Party:
    """A Lambda function: in its VPC config's groups, or outside every VPC (an AWS address not known in advance)."""
    groups = tuple((vpc_config or {}).get("SecurityGroupIds") or ())
    return Party(f"function {name}", groups) if groups else internet(name=f"function {name} (outside any VPC)")


def search_domain(status: dict) -> Party:
    """An OpenSearch domain from DescribeDomain: in its VPC's groups, or a public endpoint (open to
    every address: its access policy, not a security group, decides)."""
    vpc = status.get("VPCOptions")
    if not vpc:
        return Party(f"search domain {status['DomainName']}", public=True)
    return Party(f"search domain {status['DomainName']}", tuple(vpc.get("SecurityGroupIds", [])), vpc_id=vpc.get("VPCId"))


@dataclass(frozen=True)
class Admission:
    """What lets a connection through: a rule of one of the destination's groups, or no group at all."""

    group_id: str | None
    rule: IngressRule | None

    def __str__(self) -> str:
        if self.rule is None:
            return "no security group (a public endpoint)"
        return f"{self.group_id} admits {self.rule.source} on {ports_text(self.rule)}"


class Network:
    """The security groups of one region, by id (DescribeSecurityGroups' answer)."""

    def __init__(self, security_groups: list[dict]):
        self.groups = {described["GroupId"]: described for described in security_groups}

    def vpc_of(self, party: Party) -> str | None:
        if party.vpc_id or not party.groups:
            return party.vpc_id
        return next((self.groups[g].get("VpcId") for g in party.groups if g in self.groups), None)

    def inside(self, source: Party, destination: Party) -> bool:
        source_vpc = self.vpc_of(source)
        return source_vpc is not None and source_vpc == self.vpc_of(destination)

    def rules(self, destination: Party) -> list[tuple[str, IngressRule]]:
        """(group id, rule) for every inbound rule of the destination's groups."""
        return [(g, rule) for g in destination.groups if g in self.groups for rule in sorted(ingress_rules(self.groups[g]), key=str)]

    def admission(self, source: Party, destination: Party, port: int) -> Admission | None:
        """What admits ``source`` to ``destination`` on TCP ``port``; None when nothing does."""
        inside = self.inside(source, destination)
        if not inside and not destination.public:
            return None
        if destination.public and not destination.groups and destination.vpc_id is None:
            return Admission(None, None)  # a public endpoint outside every VPC (a search domain's)
        for group_id, rule in self.rules(destination):
            if covers(rule, port) and self._admits(rule.source, source, inside):
                return Admission(group_id, rule)
        return None

    def reaches(self, source: Party, destination: Party, port: int) -> bool:
        return self.admission(source, destination, port) is not None

    @staticmethod
    def _admits(rule_source: str, source: Party, inside: bool) -> bool:
        if rule_source.startswith("sg-"):
            return inside and rule_source in source.groups
        if rule_source.startswith("pl-"):
            return False
        if source.cidr is None:
            return rule_source in EVERY_ADDRESS
        return contains(rule_source, source.cidr)


def covers(rule: IngressRule, port: int, protocol: str = "tcp") -> bool:
    """The rule's protocol and port range include ``protocol``/``port`` ("-1" is every protocol)."""
    if rule.protocol == "-1":
        return True
    if rule.protocol not in (protocol, {"tcp": "6", "udp": "17"}.get(protocol)) or rule.ports is None:
        return False
    low, high = rule.ports
    return low is not None and high is not None and low <= port <= high


def contains(block: str, cidr: str) -> bool:
    """``cidr`` lies inside ``block`` (both CIDR blocks of the same IP version)."""
    try:
        inner, outer = ipaddress.ip_network(cidr, strict=False), ipaddress.ip_network(block, strict=False)
    except ValueError:
        return False
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False  # not the same IP version


def is_every_address(cidr: str) -> bool:
    return cidr in EVERY_ADDRESS


def authorize_command(group_id: str, port: int, source: Party, region: str) -> str:
    """The aws CLI command that opens TCP ``port`` of ``group_id`` to ``source``."""
    origin = f"--source-group {source.groups[0]}" if source.groups else f"--cidr {source.cidr or '0.0.0.0/0'}"
    return f"aws ec2 authorize-security-group-ingress --region {region} --group-id {group_id} --protocol tcp --port {port} {origin}"


def revoke_command(group_id: str, rule: IngressRule, region: str) -> str:
    """The aws CLI command that removes ``rule`` from ``group_id``."""
    permission = json.dumps(dataclasses.replace(rule, description="").permission(), separators=(",", ":"))
    return f"aws ec2 revoke-security-group-ingress --region {region} --group-id {group_id} --ip-permissions '{permission}'"


def ports_text(rule: IngressRule) -> str:
    """ "tcp 3306", "tcp 8000-8080" or "all traffic"."""
    if rule.ports is None:
        return "all traffic"
    low, high = rule.ports
    return f"{rule.protocol} {low}" if low == high else f"{rule.protocol} {low}-{high}"
