"""Verify in the real state machine: a whole local run proves the runbook's paths and reports the RDS
test (skipped without an SSM agent, run over SSM Run Command with one); a deployment missing a path
fails in Verify, named with the rule, reported like every phase, and no secure-repo file claims it works."""

import json

from analytics_provisioner import execution as executions
from analytics_provisioner.deployment import Deployment
from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import seed
from analytics_provisioner.phases import network

SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def entered(result, state: str) -> int:
    return sum(
        1 for event in result.view.events if event["type"].endswith("StateEntered") and event["stateEnteredEventDetails"]["name"] == state
    )


def test_a_run_verifies_the_paths_then_reports_the_rds_test_skipped_without_ssm_and_passed_with_it(emulator, minimal_input):
    seed(emulator, minimal_input)

    first = execute(emulator, minimal_input)

    assert first.status == "SUCCEEDED", first.cause
    verified = first.output["verify"]
    assert len(verified["paths"]) == 15 and all(path["open"] for path in verified["paths"]), verified["paths"]
    assert verified["rds_test"]["status"] == "skipped" and "registered with Systems Manager" in verified["rds_test"]["reason"]
    assert entered(first, "Verify network paths") == 1 and entered(first, "Check the RDS test") == 0

    # The operator lets the analytics instance's agent register (README, Outputs) and starts the same input again.
    role = Deployment.from_state(_deployment(first)).names.analytics_role
    emulator.client("iam").attach_role_policy(RoleName=role, PolicyArn=SSM_CORE)
    second = execute(emulator, minimal_input, name=executions.execution_name(minimal_input, attempt=2))

    assert second.status == "SUCCEEDED", second.cause
    test = second.output["verify"]["rds_test"]
    assert test["status"] == "passed", test
    [result] = test["results"]
    assert result["status"] == "passed" and result["output"].startswith("connected to acme-demo-analytics.")
    assert entered(second, "Wait for the RDS test") == entered(second, "Check the RDS test") == 2  # in progress, then the verdict


def _deployment(result) -> dict:
    [event] = [
        e for e in result.view.events if e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"] == "Verify network paths"
    ]
    return json.loads(event["stateEnteredEventDetails"]["input"])["deployment"]


def test_a_deployment_missing_a_path_fails_in_verify_naming_the_rule_and_a_rerun_succeeds(emulator, minimal_input, monkeypatch):
    seed(emulator, minimal_input)
    own_rules = network.own_rules

    def without_the_analytics_path(deployment, groups, db_setup):  # Network as if it forgot the runbook's analytics -> EMR RDS rule
        rules = own_rules(deployment, groups, db_setup)
        rules["emr_rds"] = {rule for rule in rules["emr_rds"] if rule.source != groups["analytics"]["GroupId"]}
        return rules

    monkeypatch.setattr(network, "own_rules", without_the_analytics_path)

    failed = execute(emulator, minimal_input)

    assert failed.status == "FAILED" and failed.error == "Verify.VerificationError", failed.error
    assert failed.cause.startswith("Verify: the deployment cannot work as the runbook sets it up: 1 problem(s)")
    assert "acme-demo-analytics-1 (i-" in failed.cause and ") to the analytics database (tcp 3306) is closed" in failed.cause
    assert "aws ec2 authorize-security-group-ingress --region us-east-1 --group-id sg-" in failed.cause
    assert entered(failed, "Render secure-repo files") == 0  # no secure repo claims a deployment that cannot work
    uri = failed.cause.rsplit("failure report: ", 1)[1].rstrip(")")
    bucket, key = uri[len("s3://") :].split("/", 1)
    report = json.loads(emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert report["phase"] == "Verify" and report["error"] == "VerificationError"
    assert {"identity", "network", "resources"} <= set(report["created_before_the_failure"])

    monkeypatch.setattr(network, "own_rules", own_rules)
    rerun = execute(emulator, minimal_input, name=executions.execution_name(minimal_input, attempt=2))
    assert rerun.status == "SUCCEEDED", rerun.cause
