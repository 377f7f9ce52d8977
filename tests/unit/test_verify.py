"""Verify on a real local deployment: each of the runbook's paths, its rule removed, fails the phase
naming that path and the exact command that opens it; a port opened to the world beyond the runbook
fails naming the command that closes it; the RDS test runs over SSM Run Command where the analytics
instance's agent is registered, and is skipped with the reason where it is not.

One provisioning run (events/input-minimal.json) per module; each test changes one rule and puts it back."""

import json
import re

import pytest

from analytics_provisioner import settings
from analytics_provisioner.aws.ec2 import IngressRule, ingress_rules
from analytics_provisioner.deployment import Deployment, ResolvedDeployment
from analytics_provisioner.errors import VerificationError
from analytics_provisioner.handler import invoke
from analytics_provisioner.local.emulator import Emulator
from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import seed
from analytics_provisioner.phases import verify
from analytics_provisioner.state import NetworkOutput, Resources, VerifyOutput
from samples import sample
from testkit import REGION, load_event

SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


@pytest.fixture(scope="module")
def deployed(mysql_server):
    """(emulator, the state Verify received) after a successful run of the minimal input."""
    connection = mysql_server.connect()  # takes turns on the runbook's users as the `runbook_users` fixture does
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK('analytics-provisioner: runbook users', 900)")
    document, received = load_event("input-minimal.json"), {}
    try:
        with Emulator(region=REGION, mysql=mysql_server) as emulator:
            emulator.hook.before_invoke.append(lambda function, event: received.setdefault(function, event))
            seed(emulator, document)
            result = execute(emulator, document)
            assert result.status == "SUCCEEDED", result.cause
            yield emulator, received["VerifyFunction"]
    finally:
        connection.close()


@pytest.fixture
def state(deployed) -> dict:
    return json.loads(json.dumps(deployed[1]))


@pytest.fixture
def aws(deployed):
    return deployed[0]


def groups(state: dict) -> dict:
    return state["network"]["security_groups"]


class Rule:
    """One inbound rule, taken away (or added) for a test and put back (or removed) afterwards."""

    def __init__(self, aws, group_id: str, rule: IngressRule):
        self.ec2, self.group_id, self.rule = aws.client("ec2"), group_id, rule

    def matching(self) -> list[IngressRule]:
        found = ingress_rules(self.ec2.describe_security_groups(GroupIds=[self.group_id])["SecurityGroups"][0])
        return [rule for rule in found if rule == self.rule]

    def revoke(self):
        [described] = self.matching()  # with its description, as moto matches it
        self.ec2.revoke_security_group_ingress(GroupId=self.group_id, IpPermissions=[described.permission()])
        return lambda: self.ec2.authorize_security_group_ingress(GroupId=self.group_id, IpPermissions=[described.permission()])

    def authorize(self):
        self.ec2.authorize_security_group_ingress(GroupId=self.group_id, IpPermissions=[self.rule.permission()])
        return lambda: self.ec2.revoke_security_group_ingress(GroupId=self.group_id, IpPermissions=[self.rule.permission()])


@pytest.fixture
def change(aws):
    undo = []
    yield lambda group_id, rule, how="revoke": undo.append(getattr(Rule(aws, group_id, rule), how)())
    for step in reversed(undo):
        step()


def edxapp_own_group(aws, state) -> str:
    instance = aws.client("rds").describe_db_instances(DBInstanceIdentifier=state["deployment"]["edxapp"]["db_instance_id"])["DBInstances"][
        0
    ]
    return next(
        g["VpcSecurityGroupId"]
        for g in instance["VpcSecurityGroups"]
        if g["VpcSecurityGroupId"] not in verify.deployment_groups(groups(state))
    )


def command(group_id: str, port: int, source: str) -> str:
    origin = f"--source-group {source}" if source.startswith("sg-") else f"--cidr {source}"
    return f"aws ec2 authorize-security-group-ingress --region {REGION} --group-id {group_id} --protocol tcp --port {port} {origin}"


def test_the_deployment_as_provisioned_passes_with_every_path_open(state):
    verified = invoke(verify.run, state)
    assert verified["paths"] and all(path["open"] is True for path in verified["paths"]), verified["paths"]
    names = [path["path"] for path in verified["paths"]]
    assert "DbSetup to the analytics database" in names and "DbSetup to the edxapp database" in names
    analytics = state["resources"]["compute"]["analytics_instances"][0]
    assert verified["exposed"][analytics["name"]] == [
        f"tcp 443 from 0.0.0.0/0 ({groups(state)['analytics']})",
        f"tcp 80 from 0.0.0.0/0 ({groups(state)['analytics']})",
    ]
    assert verified["warnings"] == []


# (test id, the rules that go: (group, source) with a group a key of network.security_groups or "edxapp", a
#  source a key, "dbsetup" or a CIDR; the port; what the failure line of the closed path says)
PATHS = [
    ("dbsetup-analytics-db", [("emr_rds", "dbsetup")], 3306, "DbSetup to the analytics database (tcp 3306) is closed"),
    # the edxapp database admits DbSetup through the deployment's EMR RDS group too: both go; the fix is its own group
    ("dbsetup-edxapp-db", [("edxapp", "dbsetup"), ("emr_rds", "dbsetup")], 3306, "DbSetup to the edxapp database (tcp 3306) is closed"),
    ("analytics-analytics-db", [("emr_rds", "analytics")], 3306, " to the analytics database (tcp 3306) is closed"),
    ("emr-master-analytics-db", [("emr_rds", "emr_master")], 3306, " to the analytics database (tcp 3306) is closed"),
    ("emr-master-edxapp-db", [("emr_rds", "emr_master")], 3306, " to the edxapp database (tcp 3306) is closed"),
    ("emr-slave-analytics-db", [("emr_rds", "emr_slave")], 3306, " to the analytics database (tcp 3306) is closed"),
    ("emr-slave-edxapp-db", [("emr_rds", "emr_slave")], 3306, " to the edxapp database (tcp 3306) is closed"),
    ("director-analytics-ssh", [("analytics", "director")], 22, ") to acme-demo-analytics-1 (i-"),
    ("analytics-emr-master-ssh", [("emr_master", "analytics")], 22, " to the EMR master on 22 (tcp 22) is closed"),
    ("world-analytics-http", [("analytics", "0.0.0.0/0")], 80, "the world to acme-demo-analytics-1 (i-"),
    ("world-analytics-https", [("analytics", "0.0.0.0/0")], 443, "the world to acme-demo-analytics-1 (i-"),
    (
        "director-ssh-cidrs",
        [("director", "203.0.113.7/32")],
        22,
        "network.director_ssh_cidrs 203.0.113.7/32 to the director acme-demo-director (i-",
    ),
]
SOURCES = {
    "emr-master": "the EMR master group",
    "emr-slave": "the EMR slave group",
    "analytics-": "acme-demo-analytics-1 (i-",
    "director-analytics": "the director acme-demo-director (i-",
}


def failures(message: str) -> list[str]:
    """The numbered problems of a VerificationError's message."""
    return re.split(r" \(\d+\) ", message)[1:]


@pytest.mark.parametrize("revoked, port, named", [case[1:] for case in PATHS], ids=[case[0] for case in PATHS])
def test_a_missing_path_fails_verify_naming_the_path_and_the_rule_that_opens_it(aws, state, change, request, revoked, port, named):
    ids = {**groups(state), "edxapp": edxapp_own_group(aws, state), "dbsetup": aws.parameters["DbSetupSecurityGroupId"]}
    for group_key, source_key in revoked:
        change(ids[group_key], IngressRule.tcp(port, ids.get(source_key, source_key)))

    with pytest.raises(VerificationError) as raised:
        invoke(verify.run, state)

    source_name = next((name for prefix, name in SOURCES.items() if request.node.callspec.id.startswith(prefix)), "")
    [line] = [line for line in failures(str(raised.value)) if named in line and source_name in line]
    group_key, source_key = revoked[0]
    assert command(ids[group_key], port, ids.get(source_key, source_key)) in line
    restored = "Network restores the rules of the deployment's groups" in line
    assert restored is (group_key != "edxapp")  # the edxapp database's group is its owner's: only the command


def described(state: dict) -> tuple[ResolvedDeployment, verify.Facts]:
    """The deployment and what AWS describes for it, as Verify sees them."""
    deployment = ResolvedDeployment.from_state(state["deployment"])
    return deployment, verify.describe(
        deployment, NetworkOutput.from_state(state["network"]), Resources.from_state(state["resources"]), "DbSetupFunction"
    )


def test_every_path_the_runbook_needs_is_checked(state):
    names = [path.name for path in verify.required_paths(*described(state))]
    analytics = state["resources"]["compute"]["analytics_instances"][0]["name"]
    for expected in (
        "DbSetup to the analytics database",
        "DbSetup to the edxapp database",
        f"{analytics} (i-",
        "EMR master group",
        "EMR slave group",
        "the director",
        "the world to",
        "network.director_ssh_cidrs",
    ):
        assert any(expected in name for name in names), (expected, names)
    assert any("to the search domain on 443" in name for name in names)
    # DbSetup x 2 databases, EMR master/slave x 2 databases, 5 per analytics instance, the director's CIDRs, the search domain's readers and writers
    assert len(names) == 2 + 4 + 5 + len(state["deployment"]["network"]["director_ssh_cidrs"]) + (1 + 2)


@pytest.mark.parametrize(
    "target, port, source",
    [
        ("analytics", 8080, "0.0.0.0/0"),  # Jenkins to the world: what the runbook warns about most
        ("analytics", 22, "0.0.0.0/0"),  # SSH beyond network.analytics_ssh_cidrs
        ("director", 22, "0.0.0.0/0"),  # the director beyond network.director_ssh_cidrs
        ("director", 3389, "198.51.100.0/24"),
    ],
)
def test_a_port_open_to_the_world_beyond_the_runbook_fails_naming_the_command_that_closes_it(aws, state, change, target, port, source):
    group_id = groups(state)[target]
    change(group_id, IngressRule.tcp(port, source), "authorize")

    with pytest.raises(VerificationError) as raised:
        invoke(verify.run, state)

    message = str(raised.value)
    assert f"is open to {source} on tcp {port} by a rule of {group_id}, which the runbook does not ask for" in message
    closing = json.dumps({"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": source}]}, separators=(",", ":"))
    assert f"aws ec2 revoke-security-group-ingress --region {REGION} --group-id {group_id} --ip-permissions '{closing}'" in message


def test_ssh_from_elsewhere_names_the_field_that_would_allow_it_and_a_group_not_ours_its_owner(aws, state, change):
    default = groups(state)["default"]
    change(default, IngressRule.tcp(22, "192.0.2.0/24"), "authorize")

    with pytest.raises(VerificationError) as raised:
        invoke(verify.run, state)

    lines = failures(str(raised.value))
    assert len(lines) == 2  # the analytics instance and the director are both in the VPC's default group
    assert all(f"the command that closes it ({default} is not the deployment's: its owner decides)" in line for line in lines)
    assert any("or, if 192.0.2.0/24 is meant to reach it over SSH, add it to network.director_ssh_cidrs." in line for line in lines)
    assert any("add it to network.analytics_ssh_cidrs." in line for line in lines)


def test_the_world_on_80_and_443_over_ipv6_is_the_runbooks_anywhere(aws, state, change):
    for port in (80, 443):
        change(groups(state)["analytics"], IngressRule.tcp(port, "::/0"), "authorize")
    assert invoke(verify.run, state)["paths"]


def test_rules_for_addresses_inside_the_vpc_are_not_the_world(aws, state, change):
    vpc_cidr = aws.client("ec2").describe_vpcs(VpcIds=[state["network"]["vpc_id"]])["Vpcs"][0]["CidrBlock"]
    change(groups(state)["analytics"], IngressRule.tcp(8080, vpc_cidr), "authorize")
    assert invoke(verify.run, state)["paths"]


# The runbook's RDS test ----------------------------------------------------------------------------
def test_without_a_registered_agent_the_rds_test_is_skipped_with_the_reason(state):
    test = invoke(verify.run, state)["rds_test"]
    role = Deployment.from_state(state["deployment"]).names.analytics_role
    assert test["status"] == "skipped"
    assert "is registered with Systems Manager" in test["reason"]
    assert f"aws iam attach-role-policy --role-name {role} --policy-arn {SSM_CORE}" in test["reason"]


@pytest.fixture
def ssm_agent(aws, state):
    """The analytics role allowed to register its SSM agent, as the README tells the operator."""
    iam, role = aws.client("iam"), Deployment.from_state(state["deployment"]).names.analytics_role
    iam.attach_role_policy(RoleName=role, PolicyArn=SSM_CORE)
    yield
    iam.detach_role_policy(RoleName=role, PolicyArn=SSM_CORE)


def test_with_a_registered_agent_the_rds_test_runs_over_ssm_and_passes(aws, state, ssm_agent):
    verified = invoke(verify.run, state)
    test = verified["rds_test"]
    instance_id = state["resources"]["compute"]["analytics_instances"][0]["instance_id"]
    endpoint = state["resources"]["database"]["endpoint"]
    assert test["status"] == "running" and test["instance_ids"] == [instance_id]
    sent = aws.client("ssm").list_commands(CommandId=test["command_id"])["Commands"][0]
    assert sent["DocumentName"] == "AWS-RunShellScript"
    assert sent["Parameters"]["commands"] == [verify.probe_script(endpoint, 3306)]
    assert f"/dev/tcp/{endpoint}/3306" in sent["Parameters"]["commands"][0] and "-p" not in sent["Parameters"]["commands"][0].split()

    event = {"action": "status", "deployment": state["deployment"], "verify": verified}
    still = invoke(verify.status, event)  # the command has not run yet: no simulated time passed
    assert still["rds_test"]["status"] == "running" and still["rds_test"]["poll"]["checks"] == 1
    aws.clock.wait(verify.RDS_TEST_WAIT_SECONDS * 2)
    done = invoke(verify.status, {**event, "verify": still})
    assert done["rds_test"]["status"] == "passed", done["rds_test"]
    assert done["rds_test"]["results"] == [
        {
            "instance_id": instance_id,
            "status": "passed",
            "ssm_status": "Success",
            "output": f"connected to {endpoint}:3306: the server answered",
        }
    ]


def test_a_failed_rds_test_fails_verify_with_the_instances_output(aws, state, ssm_agent, change):
    deployment, facts = described(state)
    change(groups(state)["emr_rds"], IngressRule.tcp(3306, groups(state)["analytics"]))  # after the paths were judged
    test = verify.start_rds_test(deployment, facts)
    aws.clock.wait(verify.RDS_TEST_CEILING_SECONDS)

    with pytest.raises(VerificationError) as raised:
        invoke(verify.status, {"deployment": state["deployment"], "verify": sample(VerifyOutput, rds_test=test, warnings=[]).to_state()})

    message = str(raised.value)
    assert "the runbook's RDS test failed: analytics instance i-" in message
    assert f"cannot connect to the analytics database {test.endpoint}:3306 (cannot connect to {test.endpoint}:3306)" in message
    assert test.command_id in message


def test_no_verdict_by_the_ceiling_is_reported_as_inconclusive(aws, state, ssm_agent):
    verified = invoke(verify.run, state)
    test = verified["rds_test"]
    late = {**verified, "rds_test": {**test, "poll": {**test["poll"], "waited_seconds": verify.RDS_TEST_CEILING_SECONDS}}}
    found = invoke(verify.status, {"deployment": state["deployment"], "verify": late})  # no simulated time passed: still InProgress
    assert found["rds_test"]["status"] == "inconclusive"
    assert "no result after" in found["rds_test"]["results"][0]["output"]
    assert any("gave no verdict" in warning for warning in found["warnings"])


def test_a_database_setup_function_outside_any_vpc_is_named_with_the_stack_parameters_to_set(state, monkeypatch):
    monkeypatch.setenv(settings.DB_SETUP_FUNCTION_ENV, "StorageFunction")  # a function of the stack without VpcConfig

    with pytest.raises(VerificationError) as raised:
        invoke(verify.run, state)

    lines = failures(str(raised.value))
    assert [line.split(" (tcp")[0] for line in lines] == ["DbSetup to the analytics database", "DbSetup to the edxapp database"]
    assert all(
        "the database-setup function runs outside any VPC: update the stack with DbSetupSubnetIds and DbSetupSecurityGroupId" in line
        for line in lines
    )


def test_an_edxapp_database_in_another_vpc_is_not_judged_but_warned_about(aws, state):
    ec2, rds = aws.client("ec2"), aws.client("rds")
    identifier = state["deployment"]["edxapp"]["db_instance_id"]
    before = [
        g["VpcSecurityGroupId"] for g in rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["VpcSecurityGroups"]
    ]
    other_vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    elsewhere = ec2.create_security_group(GroupName="edxapp-elsewhere", Description="edxapp elsewhere", VpcId=other_vpc)["GroupId"]
    rds.modify_db_instance(DBInstanceIdentifier=identifier, VpcSecurityGroupIds=[elsewhere], ApplyImmediately=True)
    try:
        verified = invoke(verify.run, state)
    finally:
        rds.modify_db_instance(DBInstanceIdentifier=identifier, VpcSecurityGroupIds=before, ApplyImmediately=True)

    unjudged = [path for path in verified["paths"] if path["open"] is None]
    assert sorted(path["path"].split(" to ")[0] for path in unjudged) == sorted(
        ["DbSetup", f"the EMR master group {groups(state)['emr_master']}", f"the EMR slave group {groups(state)['emr_slave']}"]
    )
    assert all(f"is in {other_vpc}" in path["note"] and "VPC peering is not modelled" in path["note"] for path in unjudged)
    assert len(verified["warnings"]) == 3 and all(w.startswith("not verified: ") for w in verified["warnings"])
