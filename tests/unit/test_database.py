"""Database: the analytics RDS instance as the runbook wants it (MySQL, 3306, private, EMR RDS group),
secured (encrypted, deletion protection, backups, RDS-managed master secret), its subnet group, the
poll loop, and the upgrade path (a new generation leaves the old instance alone)."""

import json

import pytest

from analytics_provisioner.aws import rds as rds_api
from analytics_provisioner.errors import OwnershipError, ResourceStateError, ResourceTimeoutError
from analytics_provisioner.handler import invoke
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import TAG_DEPLOYMENT, TAG_MANAGED_BY
from analytics_provisioner.phases import database, validate
from analytics_provisioner.state import NetworkOutput, SecurityGroups
from samples import sample
from testkit import ApiCalls, not_ready_times, store_edxapp_admin_secret

REGION = "us-east-1"
INSTANCE = "acme-demo-analytics"
RDS_READS = ("Describe", "ListTagsForResource")


def state_for(emulator, doc: dict, **options) -> dict:
    """The state as Database receives it: validated deployment plus the Network phase's EMR RDS group."""
    doc["options"] = {**doc.get("options", {}), **options}
    seed(emulator, doc)
    store_edxapp_admin_secret(emulator, doc)
    validated = invoke(validate.run, doc)
    vpc_id = validated["deployment"]["network"]["vpc_id"]
    group = emulator.client("ec2").create_security_group(GroupName="acme-demo-emr-rds", Description="EMR RDS", VpcId=vpc_id)["GroupId"]
    return {**validated, "network": sample(NetworkOutput, vpc_id=vpc_id, security_groups=sample(SecurityGroups, emr_rds=group)).to_state()}


def with_options(state: dict, **options) -> dict:
    deployment = {**state["deployment"], "options": {**state["deployment"]["options"], **options}}
    return {**state, "deployment": deployment}


def check(state: dict, previous: dict) -> dict:
    return invoke(database.status, {"action": "status", "deployment": state["deployment"], "database": previous})


def describe(emulator, identifier: str) -> dict:
    return emulator.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]


def test_instance_is_created_private_encrypted_and_protected(aws, minimal_input):
    state = state_for(aws, minimal_input)
    calls = ApiCalls("rds")
    invoke(database.run, state)

    (sent,) = calls.named("CreateDBInstance")
    options = state["deployment"]["options"]
    assert sent["Engine"] == "mysql" and sent["EngineVersion"] == options["rds_engine_version"] == "8.4.4"
    assert sent["DBInstanceClass"] == "db.t3.small" and sent["AllocatedStorage"] == 20
    assert sent["Port"] == 3306
    assert sent["PubliclyAccessible"] is False
    assert sent["VpcSecurityGroupIds"] == [state["network"]["security_groups"]["emr_rds"]]
    assert sent["StorageEncrypted"] is True and sent["DeletionProtection"] is True
    assert sent["BackupRetentionPeriod"] == 7
    assert sent["ManageMasterUserPassword"] is True
    assert "MasterUserPassword" not in sent  # no password we invent travels anywhere
    assert sent["CopyTagsToSnapshot"] is False  # ownership must not travel to snapshots and restored copies
    assert sent["EngineLifecycleSupport"] == "open-source-rds-extended-support-disabled"  # RDS's default: paid Extended Support
    assert describe(aws, sent["DBInstanceIdentifier"])["EngineLifecycleSupport"] == "open-source-rds-extended-support-disabled"

    instance = describe(aws, INSTANCE)
    assert instance["Endpoint"]["Port"] == 3306 and instance["PubliclyAccessible"] is False
    assert [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]] == [state["network"]["security_groups"]["emr_rds"]]
    assert instance["StorageEncrypted"] is True and instance["DeletionProtection"] is True
    assert instance["BackupRetentionPeriod"] == 7
    assert instance["MasterUserSecret"]["SecretArn"].startswith("arn:aws:secretsmanager:")
    tags = {t["Key"]: t["Value"] for t in instance["TagList"]}
    assert tags[TAG_DEPLOYMENT] == "acme-demo" and tags[TAG_MANAGED_BY] == "analytics-provisioner"


def test_subnet_group_spans_the_deployment_vpc_and_is_ours(aws, minimal_input):
    state = state_for(aws, minimal_input)
    invoke(database.run, state)
    instance = describe(aws, INSTANCE)
    group = instance["DBSubnetGroup"]
    assert group["DBSubnetGroupName"] == INSTANCE
    assert group["VpcId"] == state["deployment"]["network"]["vpc_id"]
    zones = [s["SubnetAvailabilityZone"]["Name"] for s in group["Subnets"]]
    assert len(zones) >= 2 and len(set(zones)) == len(zones)  # one subnet per zone, at least two zones
    described = aws.client("rds").describe_db_subnet_groups(DBSubnetGroupName=INSTANCE)["DBSubnetGroups"][0]
    tags = aws.client("rds").list_tags_for_resource(ResourceName=described["DBSubnetGroupArn"])["TagList"]
    assert {t["Key"]: t["Value"] for t in tags}[TAG_DEPLOYMENT] == "acme-demo"


def test_output_holds_ids_and_the_master_secret_arn_but_no_password(aws, minimal_input):
    state = state_for(aws, minimal_input, database_first_check_seconds=420)
    result = invoke(database.run, state)
    instance = describe(aws, INSTANCE)
    assert result["db_instance_id"] == INSTANCE and result["port"] == 3306
    assert result["master_secret_arn"] == instance["MasterUserSecret"]["SecretArn"]
    assert result["poll"] == {"checks": 0, "waited_seconds": 0, "next_wait_seconds": 420}
    password = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=result["master_secret_arn"])["SecretString"])["password"]
    assert password and password not in json.dumps(result)
    checked = check(state, result)
    assert checked["ready"] is True and checked["endpoint"] == instance["Endpoint"]["Address"]
    assert password not in json.dumps(checked)


def test_poll_loop_keeps_waiting_while_not_available(aws, minimal_input, monkeypatch):
    state = state_for(aws, minimal_input, database_first_check_seconds=420, poll_interval_seconds=30, poll_watch_seconds=0)
    current = invoke(database.run, state)
    not_ready_times(monkeypatch, rds_api, "instance_ready", 2)
    seen = []
    for _ in range(3):
        current = check(state, current)
        seen.append((current["ready"], current["endpoint"] is not None, current["poll"]["checks"], current["poll"]["waited_seconds"]))
    assert seen == [(False, False, 1, 420), (False, False, 2, 450), (True, True, 3, 480)]


def test_a_check_watches_the_instance_until_available(aws, minimal_input, monkeypatch):
    state = state_for(aws, minimal_input, database_first_check_seconds=240, poll_interval_seconds=15, poll_watch_seconds=300)
    current = invoke(database.run, state)
    not_ready_times(monkeypatch, rds_api, "instance_ready", 4)
    current = check(state, current)
    assert current["ready"] is True and current["endpoint"] is not None
    assert current["poll"] == {"checks": 1, "waited_seconds": 240 + 4 * 15, "next_wait_seconds": 15}


def test_ceiling_ends_the_loop_with_a_clear_cause(aws, minimal_input, monkeypatch):
    state = state_for(
        aws, minimal_input, database_first_check_seconds=420, poll_interval_seconds=60, poll_watch_seconds=0, database_timeout_minutes=8
    )
    current = invoke(database.run, state)
    not_ready_times(monkeypatch, rds_api, "instance_ready", 100)
    current = check(state, current)  # waited 420 s
    with pytest.raises(ResourceTimeoutError, match=f"RDS instance {INSTANCE} not active after 8 minutes; .*database_timeout_minutes"):
        check(state, current)  # waited 480 s = the ceiling


def test_instance_in_a_state_waiting_cannot_fix_stops_at_once(aws, minimal_input, monkeypatch):
    state = state_for(aws, minimal_input)
    created = invoke(database.run, state)
    real = rds_api.db_instance
    monkeypatch.setattr(rds_api, "db_instance", lambda name, region: {**real(name, region), "DBInstanceStatus": "incompatible-network"})
    with pytest.raises(ResourceStateError, match=f"RDS instance {INSTANCE} is 'incompatible-network'"):
        check(state, created)


def test_rerun_adopts_and_creates_nothing(aws, minimal_input):
    state = state_for(aws, minimal_input)
    first = invoke(database.run, state)
    calls = ApiCalls("rds")
    second = invoke(database.run, state)
    assert calls.writes(RDS_READS) == []
    assert second["master_secret_arn"] == first["master_secret_arn"]
    assert second["ready"] is True and second["poll"]["next_wait_seconds"] == 0


def test_new_generation_creates_a_fresh_instance_and_leaves_the_old_one(aws, minimal_input):
    state = state_for(aws, minimal_input)
    first = invoke(database.run, state)
    old_before = describe(aws, INSTANCE)
    calls = ApiCalls("rds")
    second = invoke(database.run, with_options(state, rds_generation=2))
    assert second["db_instance_id"] == "acme-demo-analytics-g2"
    assert second["master_secret_arn"] != first["master_secret_arn"]
    written = [(name, p.get("DBInstanceIdentifier") or p.get("DBSubnetGroupName")) for name, p in calls.writes(RDS_READS)]
    assert written == [("CreateDBSubnetGroup", "acme-demo-analytics-g2"), ("CreateDBInstance", "acme-demo-analytics-g2")]
    old_after = describe(aws, INSTANCE)
    for key in ("DBInstanceStatus", "DeletionProtection", "VpcSecurityGroups", "DBSubnetGroup", "MasterUserSecret", "TagList", "Endpoint"):
        assert old_after[key] == old_before[key], key
    assert describe(aws, "acme-demo-analytics-g2")["DeletionProtection"] is True


@pytest.mark.parametrize("tags", [[], [{"Key": TAG_DEPLOYMENT, "Value": "acme-other"}]], ids=["untagged", "other-deployment"])
def test_instance_name_taken_by_someone_else_is_refused(aws, minimal_input, tags):
    state = state_for(aws, minimal_input)
    aws.client("rds").create_db_instance(
        DBInstanceIdentifier=INSTANCE,
        Engine="mysql",
        DBInstanceClass="db.t3.small",
        MasterUsername="admin",
        ManageMasterUserPassword=True,
        Tags=tags,
    )
    with pytest.raises(
        OwnershipError, match=rf"RDS instance '{INSTANCE}' exists and is not ours \(.*expected the tag {TAG_DEPLOYMENT}=acme-demo\)"
    ):
        invoke(database.run, state)


def test_subnet_group_name_taken_by_someone_else_is_refused(aws, minimal_input):
    state = state_for(aws, minimal_input)
    ec2 = aws.client("ec2")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    aws.client("rds").create_db_subnet_group(DBSubnetGroupName=INSTANCE, DBSubnetGroupDescription="theirs", SubnetIds=subnets)
    with pytest.raises(OwnershipError, match=rf"DB subnet group '{INSTANCE}' exists and is not ours \(no deployment tag"):
        invoke(database.run, state)
    assert INSTANCE not in [i["DBInstanceIdentifier"] for i in aws.client("rds").describe_db_instances()["DBInstances"]]
