"""Teardown after a full run: nothing carrying the deployment tag is left, what existed before is
as it was (shared EMR roles and groups kept), and a second teardown is safe."""

import json
import re

from analytics_provisioner import naming
from analytics_provisioner.aws import s3 as buckets
from analytics_provisioner.aws import tags
from analytics_provisioner.local.emulator import ACCOUNT
from analytics_provisioner.local.rds_deletion import set_status
from analytics_provisioner.local.runner import execute, tagged_resources
from analytics_provisioner.local.seed import seed
from analytics_provisioner.phases.teardown import storage as teardown_storage
from analytics_provisioner.phases.teardown.preview import preview
from analytics_provisioner.phases.teardown.request import TeardownRequest, check
from testkit import diff, inventory, write_versions

SHARED = {"roles": {naming.EMR_SERVICE_ROLE}}  # the EMR instances had the deployment's own role and profile


def _edxapp_state(emulator, document) -> dict:
    edxapp = document["edxapp"]
    instance = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=edxapp["db_instance_id"])["DBInstances"][0]
    return {
        "edxapp_db_groups": sorted(g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]),
        "grades_policy": json.loads(emulator.client("s3").get_bucket_policy(Bucket=edxapp["grades_bucket"])["Policy"]),
    }


def _shared_security_groups(emulator) -> set[str]:
    groups = emulator.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [naming.EMR_MASTER_SECURITY_GROUP, naming.EMR_SLAVE_SECURITY_GROUP]}]
    )["SecurityGroups"]
    return {group["GroupId"] for group in groups}


def test_teardown_removes_everything_tagged_and_restores_what_existed(emulator, full_input):
    seed(emulator, full_input)
    before, edxapp_before = inventory(emulator), _edxapp_state(emulator, full_input)
    provisioned = execute(emulator, full_input)
    assert provisioned.status == "SUCCEEDED", provisioned.cause
    assert tagged_resources(emulator, "acme-prod"), "the provisioning run tagged nothing?"
    assert _edxapp_state(emulator, full_input) != edxapp_before  # the EMR RDS group and the grades statement were added
    names = naming.Names("acme-prod")
    created = {s["Name"] for s in emulator.client("secretsmanager").list_secrets()["SecretList"] if s["Name"].startswith(names.secret(""))}
    assert created and created <= set(names.secrets), "teardown finds secrets by name: name every new one in Names.secrets"

    shown = preview(TeardownRequest.from_event(check({"deployment": full_input}, "us-east-1")))
    assert any(":db:" in arn for arn in shown["delete"]) and any(arn.endswith(names.emr_bucket) for arn in shown["delete"])
    assert {kept["what"] for kept in shown["keep"]} >= {f"a final snapshot of RDS instance {names.analytics_rds}"}
    assert len(shown["revert"]) == 2  # the grades statement and the edxapp RDS instance's groups

    # at once: ListSecrets does not list the secrets Render created yet (local/secrets_listing.py); teardown finds them by name
    removed = execute(emulator, {"deployment": full_input}, name="teardown-1", machine="TeardownStateMachine")
    assert removed.status == "SUCCEEDED", removed.cause
    still_tagged = set(tagged_resources(emulator, "acme-prod"))
    assert not [arn for arn in shown["delete"] if arn in still_tagged and ":instance/" not in arn and ":secret:" not in arn], (
        "the preview listed something the teardown kept"
    )
    iam_removed = removed.output["identity"]
    assert {names.analytics_role, names.emr_instance_role} == set(iam_removed["roles_deleted"])
    assert {names.analytics_instance_profile, names.emr_instance_profile} == set(iam_removed["instance_profiles_deleted"])
    assert names.emr_instance_policy in iam_removed["policies_deleted"]
    _only_deliberate_remains(emulator, tagged_resources(emulator, "acme-prod"))
    leftovers = diff(before, inventory(emulator))
    shared_groups = _shared_security_groups(emulator)
    for kind, change in leftovers.items():
        assert change["removed"] == [], f"teardown removed pre-existing {kind}: {change['removed']}"
        allowed = SHARED.get(kind, set()) | (shared_groups if kind == "security_groups" else set())
        if kind == "security_group_rules":
            continue  # the shared EMR groups' own rules (checked below)
        assert set(change["added"]) <= allowed, f"{kind} left behind: {set(change['added']) - allowed}"
    assert _edxapp_state(emulator, full_input) == edxapp_before
    _shared_groups_reference_nothing_of_ours(emulator, shared_groups)

    again = execute(emulator, {"deployment": full_input}, name="teardown-2", machine="TeardownStateMachine")
    assert again.status == "SUCCEEDED", again.cause
    assert diff(before, inventory(emulator)) == leftovers


def _only_deliberate_remains(emulator, arns: list[str]) -> None:
    """What still carries the tag: terminated instances (EC2 lists them for an hour), secrets in their
    recovery window, and the final RDS snapshot (kept by default). Nothing else."""
    ec2, secrets = emulator.client("ec2"), emulator.client("secretsmanager")
    for arn in arns:
        if ":instance/" in arn:
            state = ec2.describe_instances(InstanceIds=[arn.rsplit("/", 1)[1]])["Reservations"][0]["Instances"][0]["State"]["Name"]
            assert state == "terminated", (arn, state)
        elif ":secret:" in arn:
            assert secrets.describe_secret(SecretId=arn).get("DeletedDate"), f"{arn} is not scheduled for deletion"
        else:
            assert re.search(r":snapshot:acme-[a-z]+-analytics-final-", arn), f"left behind: {arn}"


def _shared_groups_reference_nothing_of_ours(emulator, shared_groups: set[str]) -> None:
    existing = {g["GroupId"] for g in emulator.client("ec2").describe_security_groups()["SecurityGroups"]}
    rules = emulator.client("ec2").describe_security_group_rules(Filters=[{"Name": "group-id", "Values": sorted(shared_groups)}])[
        "SecurityGroupRules"
    ]
    for rule in rules:
        referenced = rule.get("ReferencedGroupInfo", {}).get("GroupId")
        assert referenced is None or referenced in existing, rule


def test_keep_data_keeps_buckets_and_the_final_snapshot_is_taken(emulator, minimal_input):
    seed(emulator, minimal_input)
    assert execute(emulator, minimal_input).status == "SUCCEEDED"
    buckets = {b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]}
    result = execute(emulator, {"deployment": minimal_input, "keep_data": True}, name="teardown-keep", machine="TeardownStateMachine")
    assert result.status == "SUCCEEDED", result.cause
    assert (
        {"acme-demo-analytics-emr", "acme-demo-edxanalytics"}
        <= {b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]}
        <= buckets
    )
    snapshots = emulator.client("rds").describe_db_snapshots()["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"] for s in snapshots if s["DBSnapshotIdentifier"].startswith("acme-demo-analytics-final-")]


def test_by_default_teardown_keeps_the_tracking_logs_and_every_bucket_holding_data_and_says_why(emulator, minimal_input):
    seed(emulator, minimal_input)
    assert execute(emulator, minimal_input).status == "SUCCEEDED"
    names, s3 = naming.Names("acme-demo"), emulator.client("s3")
    s3.put_object(Bucket=names.emr_bucket, Key="packages/edx-analytics-hadoop-util.jar", Body=b"jar")  # the operator's upload

    result = execute(emulator, {"deployment": minimal_input}, name="teardown-default", machine="TeardownStateMachine")

    assert result.status == "SUCCEEDED", result.cause
    storage = result.output["storage"]
    assert {kept["bucket"]: kept["reason"] for kept in storage["buckets_kept"]} == {
        "acme-demo-tracking-logs": teardown_storage.TRACKING_LOGS,
        names.emr_bucket: teardown_storage.HOLDS_OBJECTS,
    }
    assert storage["buckets_deleted"] == [names.edxanalytics_bucket]  # it held only the deployment's own creds files
    left = [arn for arn in tagged_resources(emulator, "acme-demo") if arn.startswith("arn:aws:s3:::")]
    assert sorted(left) == sorted(f"arn:aws:s3:::{bucket}" for bucket in ("acme-demo-tracking-logs", names.emr_bucket))

    again = execute(
        emulator,
        {"deployment": minimal_input, "delete_data": True, "delete_tracking_logs": True},
        name="teardown-delete-data",
        machine="TeardownStateMachine",
    )
    assert again.status == "SUCCEEDED", again.cause
    assert again.output["storage"]["buckets_kept"] == []
    assert sorted(again.output["storage"]["buckets_deleted"]) == sorted(["acme-demo-tracking-logs", names.emr_bucket])
    _only_deliberate_remains(emulator, tagged_resources(emulator, "acme-demo"))


def test_bad_teardown_request_is_refused_before_anything_is_deleted(emulator, minimal_input):
    seed(emulator, minimal_input)
    before = inventory(emulator)
    result = execute(
        emulator, {"deployment": {**minimal_input, "deployment_id": "Bad"}}, name="teardown-bad", machine="TeardownStateMachine"
    )
    assert result.status == "FAILED" and result.error == "InputError"
    assert "deployment.deployment_id: 'Bad' is not valid" in result.cause
    assert inventory(emulator) == before


def _provisioned(emulator, document) -> str:
    seed(emulator, document)
    assert execute(emulator, document).status == "SUCCEEDED"
    return naming.Names(document["deployment_id"]).analytics_rds


def test_a_failed_rds_instance_is_deleted_without_the_final_snapshot_it_cannot_have_and_that_is_reported(emulator, minimal_input):
    identifier = _provisioned(emulator, minimal_input)
    set_status(ACCOUNT, emulator.region, identifier, "failed")  # AWS refuses its final snapshot (local/rds_deletion.py)

    result = execute(emulator, {"deployment": minimal_input}, name="teardown-failed-rds", machine="TeardownStateMachine")

    assert result.status == "SUCCEEDED", result.cause
    (reported,) = result.output["slow"]["db_instances_without_final_snapshot"]
    assert reported["db_instance_id"] == identifier and reported["status"] == "failed"
    assert "without the requested final snapshot" in reported["reason"] and "automated backups are kept" in reported["reason"]
    rds = emulator.client("rds")
    assert rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [identifier]}])["DBInstances"] == []
    assert [s for s in rds.describe_db_snapshots()["DBSnapshots"] if "-final-" in s["DBSnapshotIdentifier"]] == []


def test_a_busy_rds_instance_is_asked_again_at_each_check_until_it_goes(emulator, minimal_input):
    identifier = _provisioned(emulator, minimal_input)
    busy = emulator.faults.aws("TeardownFunction", times=2, code="InvalidDBInstanceState", operation="DeleteDBInstance")

    result = execute(
        emulator, {"deployment": minimal_input, "poll_interval_seconds": 30}, name="teardown-busy-rds", machine="TeardownStateMachine"
    )

    assert result.status == "SUCCEEDED", result.cause
    assert busy.injected == 2  # refused at the start and at the first check, deleted at the second
    assert result.output["slow"]["db_instances_busy"] == [] and identifier in result.output["slow"]["db_instances_deleting"]
    assert [
        s
        for s in emulator.client("rds").describe_db_snapshots()["DBSnapshots"]
        if s["DBSnapshotIdentifier"].startswith(f"{identifier}-final-")
    ]


def test_an_rds_instance_busy_for_good_stops_the_teardown_at_its_ceiling_naming_it(emulator, minimal_input):
    identifier = _provisioned(emulator, minimal_input)
    emulator.faults.aws("TeardownFunction", times=10_000, code="InvalidDBInstanceState", operation="DeleteDBInstance")

    result = execute(
        emulator,
        {"deployment": minimal_input, "poll_interval_seconds": 60, "timeout_minutes": 3},
        name="teardown-stuck-rds",
        machine="TeardownStateMachine",
    )

    assert result.status == "FAILED" and result.error == "ResourceTimeoutError", (result.error, result.cause)
    assert f"db_instances {identifier}" in result.cause and f"RDS instance {identifier} refuses deletion while available" in result.cause
    assert "not deleted after 3 minutes" in result.cause


def test_a_busy_edxapp_instance_is_retried_until_our_group_comes_off(emulator, full_input):
    _provisioned(emulator, full_input)
    edxapp = full_input["edxapp"]["db_instance_id"]
    # the edxapp RDS is backing up when teardown takes the EMR RDS group off it (after the secrets step)
    busy = emulator.faults.aws(
        "TeardownFunction", times=2, code="InvalidDBInstanceState", operation="ModifyDBInstance", after="DeleteSecret"
    )

    result = execute(emulator, {"deployment": full_input}, name="teardown-busy-edxapp", machine="TeardownStateMachine")

    assert result.status == "SUCCEEDED", result.cause
    assert busy.injected == 2
    assert result.output["network"]["edxapp_db_groups_removed"]
    groups = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=edxapp)["DBInstances"][0]["VpcSecurityGroups"]
    assert not set(result.output["network"]["edxapp_db_groups_removed"]) & {g["VpcSecurityGroupId"] for g in groups}


def _jenkins_cluster(emulator, name: str, instance_profile: str, protected: bool = False) -> str:
    """What batch/provision.yml starts from the analytics instance: a cluster kept alive, with emr-vars.yml's role."""
    return emulator.client("emr").run_job_flow(
        Name=name,
        JobFlowRole=instance_profile,
        ServiceRole=naming.EMR_SERVICE_ROLE,
        ReleaseLabel="emr-5.36.0",
        VisibleToAllUsers=True,
        Instances={
            "MasterInstanceType": "m4.xlarge",
            "SlaveInstanceType": "m4.xlarge",
            "InstanceCount": 3,
            "KeepJobFlowAliveWhenNoSteps": True,
            "TerminationProtected": protected,
        },
    )["JobFlowId"]


def test_the_deployments_emr_clusters_are_terminated_before_its_buckets_and_role_go(emulator, minimal_input):
    _provisioned(emulator, minimal_input)
    ours = _jenkins_cluster(emulator, "acme-demo-analytics", naming.Names("acme-demo").emr_instance_profile, protected=True)
    others = _jenkins_cluster(emulator, "acme-other-analytics", naming.Names("acme-other").emr_instance_profile)

    result = execute(emulator, {"deployment": minimal_input}, name="teardown-clusters", machine="TeardownStateMachine")

    assert result.status == "SUCCEEDED", result.cause
    assert result.output["slow"]["emr_clusters_terminating"] == [ours] and result.output["slow"]["waiting_for"]["emr_clusters"] == []
    state = {
        cluster: emulator.client("emr").describe_cluster(ClusterId=cluster)["Cluster"]["Status"]["State"] for cluster in (ours, others)
    }
    assert state == {ours: "TERMINATED", others: "WAITING"}  # another deployment's cluster is not ours to end


def test_a_bucket_too_big_for_one_call_is_emptied_over_several_turns_of_the_loop(emulator, minimal_input, monkeypatch):
    _provisioned(emulator, minimal_input)
    s3, bucket = emulator.client("s3"), naming.Names("acme-demo").emr_bucket
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    write_versions(bucket, (f"logs/j-{n % 500}/steps" for n in range(2_500)))  # EMR's logs, rewritten: 2,500 versions of 500 keys
    monkeypatch.setattr(teardown_storage, "BATCH_VERSIONS", 1_000)  # 10,000 on AWS; the loop is the same

    result = execute(
        emulator, {"deployment": minimal_input, "delete_data": True}, name="teardown-big-bucket", machine="TeardownStateMachine"
    )

    assert result.status == "SUCCEEDED", result.cause
    ran = [entry["state"] for entry in result.view.summary()]
    assert (
        ran.count("Empty and delete buckets") == 1 and ran.count("Empty more of the buckets") == 2
    )  # 1,000, 1,000, then 500 and the bucket
    assert bucket in result.output["storage"]["buckets_deleted"] and result.output["storage"]["more"] is False
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_a_bucket_of_25000_versions_is_emptied_over_several_turns_of_the_loop(emulator, minimal_input):
    seed(emulator, minimal_input)
    s3, bucket = emulator.client("s3"), naming.Names("acme-demo").emr_bucket
    buckets.create_bucket(bucket, emulator.region, tags.ours("acme-demo"))  # as Storage creates it (the rest of a deployment costs 8 s)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    write_versions(bucket, (f"logs/j-{n % 2_500}/steps" for n in range(25_000)))  # EMR's logs, rewritten: 10 versions of 2,500 keys
    turns = -(-25_000 // teardown_storage.BATCH_VERSIONS)  # the real turn size (10,000): 3 turns
    assert turns >= 3

    result = execute(emulator, {"deployment": minimal_input, "delete_data": True}, name="teardown-25000", machine="TeardownStateMachine")
    assert result.status == "SUCCEEDED", result.cause
    ran = [entry["state"] for entry in result.view.summary()]
    assert ran.count("Empty and delete buckets") == 1 and ran.count("Empty more of the buckets") == turns - 1
    assert bucket in result.output["storage"]["buckets_deleted"] and result.output["storage"]["more"] is False
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
