"""Search, Database and Storage in local mode: the real state machine's Wait -> status -> Choice loops
for the search domain and the analytics RDS instance, the ceiling that ends a loop, the 3306 path from
the analytics instances, and a re-run that adopts everything and creates nothing (the edxapp grades
bucket's policy keeps its own statements)."""

import json

from analytics_provisioner import execution as executions
from analytics_provisioner.aws import rds as rds_api
from analytics_provisioner.aws import search as es
from analytics_provisioner.local.runner import execute, tagged_resources
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import Names
from testkit import not_ready_times

DOMAIN = "acme-demo-analytics-es"


def prepare(emulator, doc: dict, **options) -> dict:
    """Seed the runbook's prerequisites; set the poll options under test."""
    seed(emulator, doc)
    doc["options"] = {**doc.get("options", {}), **options}
    return doc


def ran(result) -> list[str]:
    return [state["state"] for state in result.view.summary()]


def outputs(result, state: str) -> list[dict]:
    """What ``state`` passed on, each time it exited."""
    return [
        json.loads(event["stateExitedEventDetails"]["output"])
        for event in result.view.events
        if event["type"].endswith("StateExited") and event["stateExitedEventDetails"]["name"] == state
    ]


def inventory(emulator) -> dict:
    s3, rds, ec2, iam = (emulator.client(s) for s in ("s3", "rds", "ec2", "iam"))
    buckets = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    policies = {}
    for bucket in buckets:
        try:
            policies[bucket] = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except s3.exceptions.from_code("NoSuchBucketPolicy"):
            policies[bucket] = None
    return {
        "buckets": buckets,
        "bucket_policies": policies,
        "domains": sorted(d["DomainName"] for d in emulator.client("opensearch").list_domain_names()["DomainNames"]),
        "databases": sorted(i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]),
        "subnet_groups": sorted(g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]),
        "secrets": sorted(s["ARN"] for s in emulator.client("secretsmanager").list_secrets()["SecretList"]),
        "security_groups": sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]),
        "instances": sorted(i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]),
        "users": sorted(u["UserName"] for u in iam.list_users()["Users"]),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
    }


def allows_mysql_from(group: dict, source_group_id: str) -> bool:
    return any(
        permission["IpProtocol"] == "tcp"
        and permission["FromPort"] <= 3306 <= permission["ToPort"]
        and any(pair["GroupId"] == source_group_id for pair in permission.get("UserIdGroupPairs", []))
        for permission in group["IpPermissions"]
    )


def test_poll_loops_wait_until_ready_and_the_analytics_instances_reach_mysql(emulator, minimal_input, monkeypatch):
    doc = prepare(
        emulator,
        minimal_input,
        poll_interval_seconds=60,
        poll_watch_seconds=0,
        search_first_check_seconds=600,
        database_first_check_seconds=420,
    )
    not_ready_times(monkeypatch, es, "domain_ready", 4)  # the ensure call, then three checks
    not_ready_times(monkeypatch, rds_api, "instance_ready", 3)  # the ensure call, then two checks

    result = execute(emulator, doc)

    assert result.status == "SUCCEEDED", result.cause
    states = ran(result)
    assert states.count("Wait for search domain") == states.count("Check search domain") == 4
    assert states.count("Search domain ready?") == 4 and states.count("Search done") == 1
    assert states.count("Wait for analytics RDS instance") == states.count("Check analytics RDS instance") == 3
    assert states.index("Ensure network and security groups") < states.index("Create resources in parallel")
    (domain,) = outputs(result, "Search done")
    assert domain["ready"] is True and domain["endpoint"] == f"{DOMAIN}.us-east-1.es.amazonaws.com"
    assert domain["poll"] == {"checks": 4, "waited_seconds": 600 + 3 * 60, "next_wait_seconds": 60}
    checks = [out["database"]["poll"] for out in outputs(result, "Check analytics RDS instance")]
    assert [(p["checks"], p["waited_seconds"]) for p in checks] == [(1, 420), (2, 480), (3, 540)]

    # the path the runbook asks to test: analytics instance -> 3306 -> a group the analytics RDS is in
    ec2, names = emulator.client("ec2"), Names("acme-demo")
    instance = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=names.analytics_rds)["DBInstances"][0]
    analytics_group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [names.analytics_security_group]}])[
        "SecurityGroups"
    ][0]
    member_of = [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]]
    groups = ec2.describe_security_groups(GroupIds=member_of)["SecurityGroups"]
    assert any(allows_mysql_from(group, analytics_group["GroupId"]) for group in groups)
    assert [g["GroupName"] for g in groups] == [names.emr_rds_security_group]
    assert instance["PubliclyAccessible"] is False and instance["Endpoint"]["Port"] == 3306


def test_default_schedule_sees_readiness_inside_one_check(emulator, minimal_input, monkeypatch):
    """The product's schedule (Options defaults): a first check near the bottom of each resource's range, which
    keeps reading every poll_interval_seconds: readiness is seen within 15 s for one Wait -> Check -> Choice round."""
    doc = prepare(emulator, minimal_input)
    not_ready_times(monkeypatch, es, "domain_ready", 10)  # the ensure call, then nine reads of the first check
    not_ready_times(monkeypatch, rds_api, "instance_ready", 3)

    result = execute(emulator, doc)

    assert result.status == "SUCCEEDED", result.cause
    states = ran(result)
    assert states.count("Check search domain") == 1 and states.count("Check analytics RDS instance") == 1
    (domain,) = outputs(result, "Search done")
    assert domain["poll"] == {"checks": 1, "waited_seconds": 420 + 9 * 15, "next_wait_seconds": 15}
    (database,) = [out["database"]["poll"] for out in outputs(result, "Check analytics RDS instance")]
    assert database == {"checks": 1, "waited_seconds": 240 + 2 * 15, "next_wait_seconds": 15}


def test_ceiling_ends_the_execution_with_a_clear_cause(emulator, minimal_input, monkeypatch):
    doc = prepare(
        emulator, minimal_input, poll_interval_seconds=60, poll_watch_seconds=0, search_first_check_seconds=600, search_timeout_minutes=12
    )
    monkeypatch.setattr(es, "domain_ready", lambda status: False)

    result = execute(emulator, doc)

    assert result.status == "FAILED" and result.error == "Search.ResourceTimeoutError"
    assert "not active after" in result.cause
    assert f"Elasticsearch domain {DOMAIN} not active after 12 minutes" in result.cause
    states = ran(result)
    assert states.count("Check search domain") == 3  # scheduled waits 600, 660, 720 s: the third reaches 12 minutes
    assert "Search failed" in states and "Search done" not in states
    assert "Render secure-repo files" not in states


def test_rerun_adopts_everything_and_creates_nothing(emulator, full_input):
    doc = prepare(emulator, full_input)
    s3, grades = emulator.client("s3"), doc["edxapp"]["grades_bucket"]
    existing = json.loads(s3.get_bucket_policy(Bucket=grades)["Policy"])  # seeded: the edxapp site's own statement

    first = execute(emulator, doc)

    assert first.status == "SUCCEEDED", first.cause
    merged = json.loads(s3.get_bucket_policy(Bucket=grades)["Policy"])
    assert merged["Version"] == existing["Version"]
    assert all(statement in merged["Statement"] for statement in existing["Statement"])
    ours = [s for s in merged["Statement"] if s.get("Sid") == Names("acme-prod").grades_policy_sid]
    assert [(s["Principal"], s["Action"], s["Resource"]) for s in ours] == [
        ({"AWS": doc["edxapp"]["aws_user_arn"]}, "s3:GetObject", f"arn:aws:s3:::{grades}/grades-download/*")
    ]
    before, tagged = inventory(emulator), tagged_resources(emulator, "acme-prod")

    second = execute(emulator, doc, name=executions.execution_name(doc, attempt=2))

    assert second.status == "SUCCEEDED", second.cause
    assert inventory(emulator) == before  # bucket policies included: the grades statement is not added twice
    assert tagged_resources(emulator, "acme-prod") == tagged
    (storage,) = outputs(second, "Ensure S3 buckets")
    assert storage["created"] == []
    assert sorted(storage["adopted"]) == sorted(set(storage["buckets"].values()))
    states = ran(second)
    assert states.count("Check search domain") == 1 and states.count("Check analytics RDS instance") == 1
    (domain,) = outputs(second, "Search done")
    assert domain["poll"]["waited_seconds"] == 0  # adopted and ready: no wait scheduled
