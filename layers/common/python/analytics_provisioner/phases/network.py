"""Network: the runbook's "VPC DNS hostname", "Analytics Security Group", "EMR Security Groups" and
"Modify Security Groups" steps as one idempotent ensure.

Top to bottom: DNS hostnames on the VPC, the subnet's internet route, the security groups, their
inbound rules, and the EMR RDS group on the existing edxapp RDS instance.

- analytics, director and EMR RDS are this deployment's groups (deployment tag). Their inbound
  rules converge to exactly the runbook's: missing rules are added, any other rule is revoked (so
  8080, Jenkins, is never open however it got there).
- ElasticMapReduce-master / -slave are the groups EMR picks by name when the playbook names none
  (consumers.md, emr-vars.yml). They are per VPC and shared by every deployment in it: adopted
  when they exist, created (``TAG_SHARED``, no deployment tag) when missing; we only add our
  rules to them and never revoke anything there.
- The edxapp RDS instance gets the EMR RDS group added to its groups; the others stay.
- EC2's describe calls lag its writes: a group a look-up did not show may answer InvalidGroup.Duplicate
  (looked up again until it shows, then adopted only if ours), a rule InvalidPermission.Duplicate
  (it is there).
- The database-setup function's group (stack parameter ``DbSetupSecurityGroupId``, passed in
  ``DB_SETUP_SECURITY_GROUP_ID``: ``Settings.db_setup_security_group_id``) is admitted into the EMR RDS group on 3306, so DbSetup reaches the
  analytics database. The edxapp RDS's own groups are its owner's: Validate checks that they admit
  DbSetup too (``check_db_setup_group``) and says how, but nothing here changes them.
"""

import dataclasses

from .. import reachability
from ..aws import ec2, rds
from ..aws import tags as tagging
from ..aws.ec2 import IngressRule
from ..aws.errors import aws_call
from ..deployment import WORLD, Deployment, ResolvedDeployment
from ..errors import PreflightError
from ..naming import EMR_MASTER_SECURITY_GROUP, EMR_SLAVE_SECURITY_GROUP
from ..plan import Change, create, keep, modify
from ..settings import Settings
from ..state import NetworkOutput, PreflightDbSetup, SecurityGroups
from . import polling

MYSQL = 3306


def run(deployment: ResolvedDeployment, settings: Settings) -> NetworkOutput:
    network = deployment.network
    warnings: list[str] = []
    with aws_call("ensure network and security groups"):
        dns_enabled_now = ensure_dns_hostnames(deployment)
        require_internet_route(network.vpc_id, network.subnet_id, deployment.region)
        groups = ensure_security_groups(deployment)
        for key, rules in own_rules(deployment, groups, settings.db_setup_security_group_id).items():
            converge_rules(deployment, groups[key], rules)
        for key, rules in shared_rules(deployment, groups).items():
            add_missing_rules(deployment, groups[key], rules)
        added = ensure_edxapp_db_membership(deployment, groups["emr_rds"], warnings)
    return NetworkOutput(
        vpc_id=network.vpc_id,
        subnet_id=network.subnet_id,
        dns_hostnames_enabled_by_us=dns_enabled_now,
        security_groups=SecurityGroups(**{key: group["GroupId"] for key, group in groups.items()}),
        edxapp_db_security_groups_added=added,
        warnings=warnings,
    )


# The VPC ----------------------------------------------------------------------------------------
def ensure_dns_hostnames(deployment: ResolvedDeployment) -> bool:
    """EMR provisioning hangs without DNS hostnames (runbook). True when this run turned them on."""
    vpc_id, region = deployment.network.vpc_id, deployment.region
    if ec2.dns_hostnames_enabled(vpc_id, region):
        return False
    ec2.enable_dns_hostnames(vpc_id, region)
    return True


def require_internet_route(vpc_id: str, subnet_id: str, region: str) -> None:
    if not ec2.has_internet_gateway_route(subnet_id, vpc_id, region):
        raise PreflightError(
            f"network.subnet_id: subnet {subnet_id} has no route to an internet gateway, so EMR clusters and the "
            "instances cannot reach the internet. Remedy (runbook): create an Internet Gateway, attach it to VPC "
            f"{vpc_id}, and add a 0.0.0.0/0 route to it in the subnet's route table; or choose a public subnet"
        )


# Security groups --------------------------------------------------------------------------------
def own_groups(deployment: Deployment) -> dict[str, tuple[str, str]]:
    """key -> (name, description) of this deployment's groups."""
    names = deployment.names
    return {
        "analytics": (names.analytics_security_group, "Analytics instances: Insights, Analytics API, Jenkins"),
        "director": (names.director_security_group, "Director: runs the analytics ansible playbooks"),
        "emr_rds": (names.emr_rds_security_group, "MySQL from the EMR clusters and the analytics instances"),
    }


SHARED_GROUPS = {
    "emr_master": (EMR_MASTER_SECURITY_GROUP, "Master group for Elastic MapReduce"),
    "emr_slave": (EMR_SLAVE_SECURITY_GROUP, "Slave group for Elastic MapReduce"),
}


def ensure_security_groups(deployment: ResolvedDeployment) -> dict[str, dict]:
    vpc_id = deployment.network.vpc_id
    groups = {"default": _default_group(deployment)}
    for key, (name, description) in own_groups(deployment).items():
        groups[key] = ensure_own_group(deployment, name, description)
    for key, (name, description) in SHARED_GROUPS.items():
        groups[key] = (
            ec2.security_group_by_name(name, vpc_id, deployment.region)
            or ec2.create_security_group(name, description, vpc_id, tagging.shared(deployment.deployment_id), deployment.region)
            or _found_after_duplicate(name, vpc_id, deployment.region)
        )
    return groups


def _found_after_duplicate(name: str, vpc_id: str, region: str) -> dict:
    """The group CreateSecurityGroup said exists (InvalidGroup.Duplicate), once EC2's describe shows it."""
    return polling.until_found(
        lambda: ec2.security_group_by_name(name, vpc_id, region),
        f"security group {name!r} in {vpc_id}",
        "EC2 answered InvalidGroup.Duplicate",
    )


def _default_group(deployment: ResolvedDeployment) -> dict:
    group = ec2.security_group_by_name("default", deployment.network.vpc_id, deployment.region)
    if group is None:
        raise PreflightError(f"VPC {deployment.network.vpc_id} has no default security group; the instances need it (runbook)")
    return group


def ensure_own_group(deployment: ResolvedDeployment, name: str, description: str) -> dict:
    region, vpc_id, deployment_id = deployment.region, deployment.network.vpc_id, deployment.deployment_id
    group = ec2.security_group_by_name(name, vpc_id, region)
    if group is None:
        created = ec2.create_security_group(name, description, vpc_id, tagging.ours(deployment_id, Name=name), region)
        if created is not None:
            return created
        group = _found_after_duplicate(name, vpc_id, region)  # adopted only if ours
    tagging.require_ours(tagging.from_list(group.get("Tags")), deployment_id, f"security group {name!r} ({group['GroupId']} in {vpc_id})")
    return group


def own_rules(deployment: Deployment, groups: dict[str, dict], db_setup: str | None) -> dict[str, set[IngressRule]]:
    """The runbook's rules for our groups, and nothing else (``db_setup``: the database-setup function's group)."""
    network, ids = deployment.network, {key: group["GroupId"] for key, group in groups.items()}
    return {
        "analytics": {
            IngressRule.tcp(22, ids["director"], "SSH from the director"),
            *(IngressRule.tcp(22, cidr, "SSH from network.analytics_ssh_cidrs") for cidr in network.analytics_ssh_cidrs),
            IngressRule.tcp(80, WORLD, "Insights over HTTP"),
            IngressRule.tcp(443, WORLD, "Insights over HTTPS"),
        },
        "director": {IngressRule.tcp(22, cidr, "SSH from network.director_ssh_cidrs") for cidr in network.director_ssh_cidrs},
        "emr_rds": {
            IngressRule.tcp(MYSQL, ids["emr_master"], "MySQL from the EMR master"),
            IngressRule.tcp(MYSQL, ids["emr_slave"], "MySQL from the EMR slaves"),
            # The runbook relied on the VPC's default group for this path; it is explicit here.
            IngressRule.tcp(MYSQL, ids["analytics"], "MySQL from the analytics instances"),
            *([IngressRule.tcp(MYSQL, db_setup, "MySQL from the database-setup function (DbSetupSecurityGroupId)")] if db_setup else []),
        },
    }


def shared_rules(deployment: Deployment, groups: dict[str, dict]) -> dict[str, set[IngressRule]]:
    """What the shared EMR groups need for this deployment (the rules EMR itself adds are kept)."""
    ids, deployment_id = {key: group["GroupId"] for key, group in groups.items()}, deployment.deployment_id
    return {
        "emr_master": {
            IngressRule.tcp(22, ids["analytics"], f"SSH from the analytics instances of {deployment_id}"),
            IngressRule.all_traffic(ids["emr_master"], "EMR master nodes"),
            IngressRule.all_traffic(ids["emr_slave"], "EMR slave nodes"),
        },
        "emr_slave": {
            IngressRule.all_traffic(ids["emr_slave"], "EMR slave nodes"),
            IngressRule.all_traffic(ids["emr_master"], "EMR master nodes"),
        },
    }


def converge_rules(deployment: Deployment, group: dict, wanted: set[IngressRule]) -> None:
    """Make the inbound rules of one of our groups exactly ``wanted``."""
    found = ec2.ingress_rules(group)
    ec2.revoke_ingress(group["GroupId"], _ordered(found - wanted), deployment.region)
    ec2.authorize_ingress(group["GroupId"], _ordered(wanted - found), deployment.region)


def add_missing_rules(deployment: Deployment, group: dict, wanted: set[IngressRule]) -> None:
    ec2.authorize_ingress(group["GroupId"], _ordered(wanted - ec2.ingress_rules(group)), deployment.region)


def _ordered(rules: set[IngressRule]) -> list[IngressRule]:
    return sorted(rules, key=lambda rule: (rule.protocol, rule.ports or (0, 0), rule.source))


# The edxapp RDS instance ------------------------------------------------------------------------
def ensure_edxapp_db_membership(deployment: ResolvedDeployment, emr_rds_group: dict, warnings: list[str]) -> list[str]:
    """Add the EMR RDS group to the edxapp instance (runbook: both RDS instances are members)."""
    identifier, region, vpc_id = deployment.edxapp.db_instance_id, deployment.region, deployment.network.vpc_id
    instance = edxapp_db_instance(deployment)
    rds.require_opted_in(instance, region, deployment.deployment_id, "edxapp.db_instance_id")
    db_vpc = instance.get("DBSubnetGroup", {}).get("VpcId")
    if db_vpc and db_vpc != vpc_id:
        warnings.append(
            f"the edxapp RDS {identifier} is in {db_vpc}, not in {vpc_id}: the EMR RDS group cannot be added to it; "
            "allow MySQL from the EMR groups' VPC on its own security group (and peer the VPCs)"
        )
        return []
    rds.add_security_group(instance, emr_rds_group["GroupId"], region)
    # Reported on every run, not only the one that added it: the group is ours, so its membership
    # is always our doing, and teardown reads the latest output.
    return [emr_rds_group["GroupId"]]


def edxapp_db_instance(deployment: Deployment) -> dict:
    """The edxapp RDS instance, as Validate found it (PreflightError should it be gone since)."""
    identifier, region = deployment.edxapp.db_instance_id, deployment.region
    instance = rds.db_instance(identifier, region)
    if instance is None:
        raise PreflightError(
            f"edxapp.db_instance_id: no RDS instance {identifier!r} in {region} any more; give the identifier of the edxapp database"
        )
    return instance


# The database-setup function's paths (checked by Validate, before anything exists) ---------------
def check_db_setup_group(deployment: Deployment, vpc_id: str, group_id: str | None) -> PreflightDbSetup | None:
    """The DbSetup group ``group_id`` is in the deployment's VPC ``vpc_id`` (Network admits it into the EMR
    RDS group there) and the edxapp RDS's own groups admit it on the edxapp port: a path that does not
    depend on a deployment's EMR RDS group, which teardown takes off the instance again. Returns the
    facts, or None when the function runs outside any VPC (DbSetupSecurityGroupId empty)."""
    region = deployment.region
    if group_id is None:
        return None
    found = ec2.security_groups([group_id], region)
    if not found:
        raise PreflightError(
            f"DbSetupSecurityGroupId: the stack parameter names security group {group_id}, which does not exist in {region}; "
            "update the stack with the database-setup function's group"
        )
    group = found[0]
    if group["VpcId"] != vpc_id:
        raise PreflightError(
            f"network.vpc_id: the database-setup function runs in {group['VpcId']} (stack parameter DbSetupSecurityGroupId {group_id}) "
            f"and cannot reach an analytics database in {vpc_id}; deploy into {group['VpcId']}, or update the stack with "
            f"DbSetupSubnetIds and DbSetupSecurityGroupId of {vpc_id}"
        )
    instance = edxapp_db_instance(deployment)
    own_groups = [
        g
        for g in ec2.security_groups([m["VpcSecurityGroupId"] for m in instance.get("VpcSecurityGroups", [])], region)
        if tagging.owner(tagging.from_list(g.get("Tags"))) is None
    ]
    edxapp_db = dataclasses.replace(reachability.db_instance(instance), groups=tuple(g["GroupId"] for g in own_groups))
    network, source = reachability.Network([group, *own_groups]), reachability.group(group)
    port = instance.get("Endpoint", {}).get("Port") or MYSQL
    if network.vpc_of(edxapp_db) not in (None, vpc_id):
        return PreflightDbSetup(security_group_id=group_id, edxapp_db_admits=None)  # another VPC: peering is not modelled (Validate warns)
    if not network.reaches(source, edxapp_db, port):
        command = (
            reachability.authorize_command(edxapp_db.groups[0], port, source, region)
            if edxapp_db.groups
            else "(the instance has no security group)"
        )
        raise PreflightError(
            f"edxapp.db_instance_id: the security groups of the edxapp RDS {deployment.edxapp.db_instance_id} "
            f"({', '.join(edxapp_db.groups) or 'none'}) do not admit the database-setup function's group {group_id} "
            f"(stack parameter DbSetupSecurityGroupId) on {port}, so DbSetup cannot create the edxapp read-only user there. "
            f"The deployment does not change groups it does not own; their owner opens the path with: {command}"
        )
    return PreflightDbSetup(security_group_id=group_id, edxapp_db_admits=True)


# The plan: what run() would do, found with reads only ---------------------------------------------
def plan(deployment: ResolvedDeployment, db_setup: str | None) -> list[Change]:
    """``db_setup``: the database-setup function's group (``Settings.db_setup_security_group_id``)."""
    vpc_id, region = deployment.network.vpc_id, deployment.region
    dns = ec2.dns_hostnames_enabled(vpc_id, region)
    changes = [
        keep("VPC attribute", f"{vpc_id} enableDnsHostnames", "on")
        if dns
        else modify("VPC attribute", f"{vpc_id} enableDnsHostnames", "off: turned on (EMR provisioning hangs without)")
    ]
    default = _default_group(deployment)
    changes.append(
        keep("security group", f"default ({default['GroupId']})", "the VPC's default group: the instances join it, its rules stay")
    )
    wanted = {**own_groups(deployment), **SHARED_GROUPS}
    found = {key: ec2.security_group_by_name(name, vpc_id, region) for key, (name, _) in wanted.items()}
    # A group that does not exist yet stands in by its name, so the rules that name it can be shown.
    named = {"default": default} | {key: found[key] or {"GroupId": name, "GroupName": name} for key, (name, _) in wanted.items()}
    labels = {group["GroupId"]: group["GroupName"] for group in named.values()}
    if db_setup:
        labels[db_setup] = f"DbSetupSecurityGroupId {db_setup}"
    for key, rules in own_rules(deployment, named, db_setup).items():
        changes += plan_group(named[key], found[key], rules, labels, converge=True)
    for key, rules in shared_rules(deployment, named).items():
        changes += plan_group(named[key], found[key], rules, labels, converge=False)
    changes.append(plan_edxapp_db_membership(deployment, named["emr_rds"]))
    return changes


def plan_group(group: dict, found: dict | None, wanted: set[IngressRule], labels: dict[str, str], converge: bool) -> list[Change]:
    """The group and each of its inbound rules: ours converge to ``wanted``; a shared group only gains what is missing."""
    name = group["GroupName"]
    present = ec2.ingress_rules(group)
    added, revoked = _ordered(wanted - present), _ordered(present - wanted) if converge else []
    whose = "this deployment's" if converge else "shared by the VPC's deployments (never revoked from)"
    if found is None:
        changes = [create("security group", name, f"{whose}, {len(wanted)} inbound rule(s)")]
    elif added or revoked:
        changes = [modify("security group", f"{name} ({group['GroupId']})", f"{whose}: {len(added)} rule(s) added, {len(revoked)} revoked")]
    else:
        changes = [keep("security group", f"{name} ({group['GroupId']})", f"{whose}, rules as wanted")]
    for rule in _ordered(wanted):
        label = f"{name}: {_rule_label(rule, labels)}"
        changes.append(
            create("security group rule", label, rule.description)
            if rule in added
            else keep("security group rule", label, rule.description)
        )
    changes += [
        modify("security group rule", f"{name}: {_rule_label(rule, labels)}", "revoked: not one of the runbook's rules") for rule in revoked
    ]
    return changes


def _rule_label(rule: IngressRule, labels: dict[str, str]) -> str:
    what = (
        "all traffic"
        if rule.ports is None
        else f"{rule.protocol} {rule.ports[0]}" + (f"-{rule.ports[1]}" if rule.ports[1] != rule.ports[0] else "")
    )
    return f"{what} from {labels.get(rule.source, rule.source)}"


def plan_edxapp_db_membership(deployment: ResolvedDeployment, emr_rds_group: dict) -> Change:
    identifier = deployment.edxapp.db_instance_id
    kind, instance = "RDS instance (edxapp's)", edxapp_db_instance(deployment)
    db_vpc = instance.get("DBSubnetGroup", {}).get("VpcId")
    if db_vpc and db_vpc != deployment.network.vpc_id:
        return keep(kind, identifier, f"in {db_vpc}, another VPC: its groups stay as they are (see the warnings)")
    if emr_rds_group["GroupId"] in rds.active_security_group_ids(instance):
        return keep(kind, identifier, f"member of {emr_rds_group['GroupName']} already")
    return modify(kind, identifier, f"joins security group {emr_rds_group['GroupName']} (its other groups stay)")
