"""Verify: the deployment can work, proved on what AWS describes before Render writes its files.

The runbook's network paths, each judged by the path model (``analytics_provisioner.reachability``)
on DescribeSecurityGroups, DescribeInstances, DescribeDBInstances, the search domain's DescribeDomain
and the database-setup function's own VpcConfig (GetFunctionConfiguration), never on what the
earlier phases meant to create:

- DbSetup to both databases on their MySQL ports;
- every analytics instance to the analytics database, and to the EMR master on 22 (the runbook's
  "EMR Security Groups"); the EMR master and slave groups to both databases;
- the director to every analytics instance on 22;
- the world to every analytics instance on 80 and 443, ``network.analytics_ssh_cidrs`` on 22, and
  ``network.director_ssh_cidrs`` to the director on 22;
- and nothing more from outside the VPC: any other inbound rule of the analytics instances' or the
  director's groups that admits addresses outside the VPC (8080, Jenkins, above all) is a failure.

A missing path or an extra opening fails the phase (``VerificationError``), each named with the
exact aws command that opens or closes it. A path to an edxapp database in another VPC is reported
as not judged (peering is not modelled), with a warning.

Then the runbook's "Test the RDS instance from the Insights/Analytics API instance": on the
analytics instances whose SSM agent is registered (DescribeInstanceInformation), Run Command
(AWS-RunShellScript) opens a TCP connection to the analytics database's endpoint and reads the
server's greeting: no user, no password, nothing secret in the command. ``status`` is one round of
the state machine's Wait -> check -> Choice loop, with a ceiling. A failed test fails the phase; no
agent, or no verdict before the ceiling, is reported (skipped / inconclusive) with the reason.
"""

import dataclasses
import re
from dataclasses import dataclass

from .. import reachability
from ..aws import ec2, functions, instances, rds, search, ssm
from ..aws.clients import partition
from ..aws.errors import aws_call
from ..deployment import WORLD, Deployment, ResolvedDeployment
from ..errors import VerificationError
from ..reachability import Party
from ..record import lacking
from ..settings import Settings
from ..state import NetworkOutput, PathVerdict, Poll, RdsTest, RdsTestResult, Resources, VerifyOutput

SSH, HTTP, HTTPS, MYSQL = 22, 80, 443, 3306
# The RDS test: SSM answers within seconds once an agent has the command.
RDS_TEST_TIMEOUT_SECONDS = 30  # the script's own limit on the instance
RDS_TEST_WAIT_SECONDS = 5
RDS_TEST_CEILING_SECONDS = 120
SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}")


@dataclass(frozen=True)
class Path:
    """A path the runbook needs, and the rule that opens it: ``opener`` (a group id or a CIDR) admitted into ``group``."""

    name: str
    source: Party
    destination: Party
    port: int
    group: str | None
    opener: str | None
    fix: str = ""  # when no single rule opens it


@dataclass
class Facts:
    """What AWS describes for one deployment."""

    network: reachability.Network
    vpc_cidrs: list[str]
    groups: dict[str, str]  # the Network phase's security group ids by key
    analytics: list[tuple[str, dict]]  # (name, DescribeInstances item)
    director: tuple[str, dict]
    analytics_db: dict
    edxapp_db: dict
    db_setup: Party
    search_domain: dict | None


def run(deployment: ResolvedDeployment, network: NetworkOutput, resources: Resources, settings: Settings) -> VerifyOutput:
    warnings: list[str] = []
    with aws_call("verify the network paths"):
        facts = describe(deployment, network, resources, settings.db_setup_function_name)
        paths = required_paths(deployment, facts)
        judged = [judge(facts.network, path, warnings) for path in paths]
        exposed, too_open = exposure(deployment, facts)
    closed = [path for path, result in zip(paths, judged, strict=True) if result.open is False]
    failures = [_missing(deployment, path, deployment_groups(facts.groups)) for path in closed] + too_open
    if failures:
        raise VerificationError(
            f"the deployment cannot work as the runbook sets it up: {len(failures)} problem(s) with its network paths. "
            + " ".join(f"({n}) {failure}" for n, failure in enumerate(failures, 1))
            + " Then start the same input again."
        )
    with aws_call("start the RDS test from the analytics instances"):
        rds_test = start_rds_test(deployment, facts)
    return VerifyOutput(paths=judged, exposed=exposed, rds_test=rds_test, warnings=warnings)


def status(deployment: ResolvedDeployment, verify: VerifyOutput) -> VerifyOutput:
    """One round of the RDS test's poll loop: the invocations' states, the verdict once all have one."""
    test = verify.rds_test
    command_id, instance_ids, previous = test.command_id, test.instance_ids, test.poll
    if command_id is None or instance_ids is None or previous is None:  # the state machine checks only a test that was sent
        raise lacking([f"verify.rds_test.{key}" for key in ("command_id", "instance_ids", "poll") if getattr(test, key) is None])
    with aws_call("check the RDS test from the analytics instances"):
        results = [_invocation_result(ssm.invocation(command_id, instance_id, deployment.region)) for instance_id in instance_ids]
    waited = previous.waited_seconds + previous.next_wait_seconds
    poll = Poll(checks=previous.checks + 1, waited_seconds=waited, next_wait_seconds=RDS_TEST_WAIT_SECONDS)
    failed = [result for result in results if result["status"] == "failed"]
    if failed:
        raise VerificationError(
            "the runbook's RDS test failed: "
            + "; ".join(
                f"analytics instance {result['instance_id']} cannot connect to the analytics database "
                f"{test.endpoint}:{test.port} ({result['output'] or 'no output'})"
                for result in failed
            )
            + f". Check the instance's route to the database, the network ACLs of its subnet and the database's security groups "
            f"(SSM command {test.command_id}), then start the same input again"
        )
    under_way = [result for result in results if result["status"] == "running"]
    if under_way and waited < RDS_TEST_CEILING_SECONDS:
        running = dataclasses.replace(test, status="running", results=[RdsTestResult(**r) for r in results], poll=poll)
        return dataclasses.replace(verify, rds_test=running)
    for result in under_way:
        result.update(status="inconclusive", output=f"no result after {waited} s (SSM status {result['ssm_status']})")
    verdict = "passed" if all(result["status"] == "passed" for result in results) else "inconclusive"
    warnings = list(verify.warnings)
    if verdict == "inconclusive":
        warnings.append(
            f"the RDS test from the analytics instances gave no verdict (SSM command {test.command_id}): "
            + "; ".join(f"{r['instance_id']}: {r['output']}" for r in results if r["status"] != "passed")
        )
    done = dataclasses.replace(test, status=verdict, results=[RdsTestResult(**r) for r in results], poll=poll)
    return dataclasses.replace(verify, rds_test=done, warnings=warnings)


# What AWS describes -----------------------------------------------------------------------------
def describe(deployment: ResolvedDeployment, network: NetworkOutput, resources: Resources, db_setup_function: str) -> Facts:
    """``db_setup_function``: the database-setup function's name (``Settings.db_setup_function_name``)."""
    region, compute, groups = deployment.region, resources.compute, network.security_groups.to_state()
    described = {
        i["InstanceId"]: i
        for i in instances.describe([i.instance_id for i in compute.analytics_instances] + [compute.director_instance.instance_id], region)
    }
    analytics_db = _db_instance(resources.database.db_instance_id, region)
    edxapp_db = _db_instance(deployment.edxapp.db_instance_id, region)
    vpc_config = functions.vpc_config(db_setup_function, region)
    db_setup = reachability.lambda_function("DbSetup", vpc_config)
    search_status = search.domain(resources.search.domain_name, region)
    vpc = ec2.vpc(deployment.network.vpc_id, region) or {}
    wanted = {
        *groups.values(),
        *db_setup.groups,
        *_db_groups(analytics_db),
        *_db_groups(edxapp_db),
        *(g["GroupId"] for i in described.values() for g in i.get("SecurityGroups", [])),
        *((search_status or {}).get("VPCOptions") or {}).get("SecurityGroupIds", []),
    }
    return Facts(
        network=reachability.Network(ec2.security_groups(sorted(wanted), region)),
        vpc_cidrs=[a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet", [])]
        + [a["Ipv6CidrBlock"] for a in vpc.get("Ipv6CidrBlockAssociationSet", [])],
        groups=groups,
        analytics=[(i.name, _instance(described, i.instance_id)) for i in compute.analytics_instances],
        director=(compute.director_instance.name, _instance(described, compute.director_instance.instance_id)),
        analytics_db=analytics_db,
        edxapp_db=edxapp_db,
        db_setup=db_setup,
        search_domain=search_status,
    )


def _db_instance(identifier: str, region: str) -> dict:
    found = rds.db_instance(identifier, region)
    if found is None:
        raise VerificationError(
            f"RDS instance {identifier} no longer exists; start the same input again (the analytics one is created again; "
            "for the edxapp one, give edxapp.db_instance_id of the edxapp database)"
        )
    return found


def _db_groups(instance: dict) -> list[str]:
    return [g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", [])]


def _instance(described: dict, instance_id: str) -> dict:
    found = described.get(instance_id)
    if found is None or found["State"]["Name"] in instances.GONE:
        raise VerificationError(f"instance {instance_id} is gone; start the same input again (Launch instances replaces it)")
    return found


# The runbook's paths ---------------------------------------------------------------------------
def emr_groups(facts: Facts) -> list[Party]:
    """The EMR master and slave groups: the clusters the pipeline starts later are their members."""
    return [
        Party(f"the EMR {role} group {facts.groups[key]}", (facts.groups[key],))
        for role, key in (("master", "emr_master"), ("slave", "emr_slave"))
    ]


def analytics_instances(facts: Facts) -> list[Party]:
    return [reachability.instance(described, f"{name} ({described['InstanceId']})") for name, described in facts.analytics]


def required_paths(deployment: Deployment, facts: Facts) -> list[Path]:
    g, network = facts.groups, deployment.network
    analytics_db = reachability.db_instance(facts.analytics_db, "the analytics database")
    edxapp_db = reachability.db_instance(facts.edxapp_db, f"the edxapp database {deployment.edxapp.db_instance_id}")
    analytics_port, edxapp_port = _port(facts.analytics_db), _port(facts.edxapp_db)
    edxapp_own = [group for group in edxapp_db.groups if group not in deployment_groups(g)]  # its owner's (the VPC's default one, say)
    db_setup_group = facts.db_setup.groups[0] if facts.db_setup.groups else None
    outside = (
        ""
        if db_setup_group
        else (
            "the database-setup function runs outside any VPC: update the stack with DbSetupSubnetIds and DbSetupSecurityGroupId "
            "of the deployment's VPC (README, Deploying)"
        )
    )
    director_name, director = facts.director
    director_party = reachability.instance(director, f"the director {director_name} ({director['InstanceId']})")
    emr_master, emr_slave = emr_groups(facts)
    paths = [
        Path("DbSetup to the analytics database", facts.db_setup, analytics_db, analytics_port, g["emr_rds"], db_setup_group, outside),
        Path(
            "DbSetup to the edxapp database",
            facts.db_setup,
            edxapp_db,
            edxapp_port,
            edxapp_own[0] if edxapp_own else None,
            db_setup_group,
            outside,
        ),
    ]
    for emr in (emr_master, emr_slave):
        paths += [
            Path(f"{emr.name} to the analytics database", emr, analytics_db, analytics_port, g["emr_rds"], emr.groups[0]),
            Path(f"{emr.name} to the edxapp database", emr, edxapp_db, edxapp_port, g["emr_rds"], emr.groups[0]),
        ]
    for instance in analytics_instances(facts):
        paths += [
            Path(f"{instance.name} to the analytics database", instance, analytics_db, analytics_port, g["emr_rds"], g["analytics"]),
            Path(f"{instance.name} to the EMR master on {SSH}", instance, emr_master, SSH, g["emr_master"], g["analytics"]),
            Path(f"{director_party.name} to {instance.name} on {SSH}", director_party, instance, SSH, g["analytics"], g["director"]),
            *(
                Path(
                    f"the world to {instance.name} on {port}",
                    reachability.internet(name="the world"),
                    instance,
                    port,
                    g["analytics"],
                    WORLD,
                )
                for port in (HTTP, HTTPS)
            ),
            *(
                Path(
                    f"network.analytics_ssh_cidrs {cidr} to {instance.name} on {SSH}",
                    reachability.internet(cidr),
                    instance,
                    SSH,
                    g["analytics"],
                    cidr,
                )
                for cidr in network.analytics_ssh_cidrs
            ),
        ]
    paths += [
        Path(
            f"network.director_ssh_cidrs {cidr} to {director_party.name} on {SSH}",
            reachability.internet(cidr),
            director_party,
            SSH,
            g["director"],
            cidr,
        )
        for cidr in network.director_ssh_cidrs
    ]
    return paths + search_paths(facts)


def search_paths(facts: Facts) -> list[Path]:
    """The learner index: the Analytics API (the analytics instances) reads it, the pipeline (EMR) writes it, over HTTPS.
    A domain with a public endpoint admits every address (its access policy decides); one in a VPC, its groups."""
    if facts.search_domain is None:
        return []
    domain = reachability.search_domain(facts.search_domain)
    group = domain.groups[0] if domain.groups else None
    sources = [(instance, facts.groups["analytics"]) for instance in analytics_instances(facts)] + [
        (emr, emr.groups[0]) for emr in emr_groups(facts)
    ]
    return [Path(f"{source.name} to the search domain on {HTTPS}", source, domain, HTTPS, group, opener) for source, opener in sources]


def deployment_groups(groups: dict[str, str]) -> set[str]:
    """The groups whose rules Network converges or completes on every run: all it reports but the VPC's default group."""
    return set(groups.values()) - {groups["default"]}


def _port(db: dict) -> int:
    return (db.get("Endpoint") or {}).get("Port") or MYSQL


def judge(network: reachability.Network, path: Path, warnings: list[str]) -> PathVerdict:
    """One path as the output shows it: open (and through which rule), missing, or not judged (None)."""
    source_vpc, destination_vpc = network.vpc_of(path.source), network.vpc_of(path.destination)
    if path.source.cidr is None and source_vpc and destination_vpc and source_vpc != destination_vpc:
        note = f"{path.destination.name} is in {destination_vpc}, {path.source.name} in {source_vpc}: VPC peering is not modelled"
        warnings.append(f"not verified: {path.name} ({note}); check it by hand")
        return PathVerdict(path=path.name, port=path.port, open=None, note=note)
    admission = network.admission(path.source, path.destination, path.port)
    return PathVerdict(path=path.name, port=path.port, open=bool(admission), via=str(admission) if admission else None)


def _missing(deployment: Deployment, path: Path, restored: set[str]) -> str:
    """The failure line for a closed path: the rule that opens it (``restored``: groups a re-run fixes too)."""
    where = f"{path.name} (tcp {path.port}) is closed"
    if path.fix:
        return f"{where}: {path.fix}."
    if not path.destination.public and not path.source.groups and path.source.vpc_id is None:
        return f"{where}: {path.destination.name} has no public address, so nothing outside its VPC reaches it."
    if path.group is None or path.opener is None:
        return f"{where}: {path.destination.name} has no security group to open it in."
    opener = Party(path.opener, (path.opener,)) if path.opener.startswith("sg-") else reachability.internet(path.opener)
    command = reachability.authorize_command(path.group, path.port, opener, deployment.region)
    ours = "" if path.group not in restored else " (or start the same input again: Network restores the rules of the deployment's groups)"
    return f"{where}; the rule that opens it: {command}{ours}."


# What the world reaches beyond the runbook ----------------------------------------------------
def exposure(deployment: Deployment, facts: Facts) -> tuple[dict[str, list[str]], list[str]]:
    """The inbound rules of the analytics instances' and the director's groups that admit addresses
    outside the VPC: as the output lists them, and the ones the runbook does not ask for."""
    network, ours = deployment.network, deployment_groups(facts.groups)
    anywhere = reachability.EVERY_ADDRESS  # the console's "Anywhere": IPv4 and IPv6
    allowed_analytics = [
        *((port, every) for port in (HTTP, HTTPS) for every in anywhere),
        *((SSH, cidr) for cidr in network.analytics_ssh_cidrs),
    ]
    allowed_director = [(SSH, cidr) for cidr in network.director_ssh_cidrs]
    exposed: dict[str, list[str]] = {}
    extra: list[str] = []
    targets = [(name, described, allowed_analytics, "network.analytics_ssh_cidrs") for name, described in facts.analytics]
    targets.append((*facts.director, allowed_director, "network.director_ssh_cidrs"))
    for name, described, allowed, ssh_field in targets:
        label = f"{name} ({described['InstanceId']})"
        party = reachability.instance(described, label)
        shown = exposed.setdefault(name, [])
        for group_id, rule in facts.network.rules(party):
            if not _from_outside(rule.source, facts.vpc_cidrs):
                continue
            shown.append(f"{reachability.ports_text(rule)} from {rule.source} ({group_id})")
            if any(_within(rule, port, cidr) for port, cidr in allowed):
                continue
            owner = "" if group_id in ours else f" ({group_id} is not the deployment's: its owner decides)"
            ssh = f"; or, if {rule.source} is meant to reach it over SSH, add it to {ssh_field}" if _within(rule, SSH, WORLD) else ""
            extra.append(
                f"{label} is open to {rule.source} on {reachability.ports_text(rule)} by a rule of {group_id}, which the runbook does not ask for "
                f"(from outside the VPC it allows only {_allowed(allowed)}); the command that closes it{owner}: "
                f"{reachability.revoke_command(group_id, rule, deployment.region)}{ssh}."
            )
        if not party.public:
            shown.append("no public address: nothing outside the VPC reaches it")
    return exposed, extra


def _from_outside(source: str, vpc_cidrs: list[str]) -> bool:
    if source.startswith(("sg-", "pl-")):
        return False
    return not any(reachability.contains(block, source) for block in vpc_cidrs)


def _within(rule, port: int, cidr: str) -> bool:
    return rule.protocol in ("tcp", "6") and rule.ports == (port, port) and reachability.contains(cidr, rule.source)


def _allowed(allowed: list[tuple[int, str]]) -> str:
    return ", ".join(f"tcp {port} from {cidr}" for port, cidr in allowed) or "nothing"


# The runbook's RDS test over SSM Run Command ----------------------------------------------------
def start_rds_test(deployment: Deployment, facts: Facts) -> RdsTest:
    region = deployment.region
    endpoint, port = (facts.analytics_db.get("Endpoint") or {}).get("Address"), _port(facts.analytics_db)
    instance_ids = [described["InstanceId"] for _, described in facts.analytics]
    registered = ssm.online_instances(instance_ids, region)
    if not registered:
        return RdsTest(
            status="skipped",
            reason=(
                f"no analytics instance ({', '.join(instance_ids)}) is registered with Systems Manager, so the test cannot run on it. "
                f"Canonical's Ubuntu images ship the SSM agent; it registers once the instance may: attach the AWS-managed policy "
                f"{SSM_CORE_POLICY} to the role {deployment.names.analytics_role} (aws iam attach-role-policy --role-name "
                f"{deployment.names.analytics_role} --policy-arn arn:{partition(region)}:iam::aws:policy/{SSM_CORE_POLICY}) or turn on "
                "Systems Manager's Default Host Management Configuration, then start the same input again"
            ),
        )
    if not endpoint or not _HOST.fullmatch(endpoint):
        raise VerificationError(
            f"the analytics database has no usable endpoint ({endpoint!r}); start the same input again once it is available"
        )
    command_id = ssm.run_shell_script(
        registered,
        [probe_script(endpoint, port)],
        f"analytics-provisioner {deployment.deployment_id}: RDS test",
        RDS_TEST_TIMEOUT_SECONDS,
        region,
    )
    return RdsTest(
        status="running",
        command_id=command_id,
        instance_ids=registered,
        endpoint=endpoint,
        port=port,
        not_registered=[i for i in instance_ids if i not in registered],
        poll=Poll(checks=0, waited_seconds=0, next_wait_seconds=RDS_TEST_WAIT_SECONDS),
    )


def probe_script(host: str, port: int) -> str:
    """A TCP connection to the database that reads its greeting (a MySQL server speaks first): no login, no secret."""
    target = f"{host}:{int(port)}"
    return (
        f"if timeout {RDS_TEST_TIMEOUT_SECONDS - 5} bash -c 'exec 3<>/dev/tcp/{host}/{int(port)} && head -c 4 <&3 >/dev/null'; "
        f"then echo 'connected to {target}: the server answered'; else echo 'cannot connect to {target}' >&2; exit 1; fi"
    )


def _invocation_result(invocation: dict) -> dict:
    state = invocation.get("Status", "Pending")
    if state in ssm.UNDER_WAY:
        verdict = "running"
    elif state == "Success":
        verdict = "passed"
    elif state == "Failed":
        verdict = "failed"
    else:
        verdict = "inconclusive"
    output = (invocation.get("StandardErrorContent") or invocation.get("StandardOutputContent") or "").strip()
    if verdict == "passed":
        output = (invocation.get("StandardOutputContent") or "").strip()
    if verdict == "inconclusive" and not output:
        output = f"SSM status {state}: {invocation.get('StatusDetails', '')}".strip()
    return {"instance_id": invocation["InstanceId"], "status": verdict, "ssm_status": state, "output": output[-300:]}
