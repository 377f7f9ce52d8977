"""Identity and Network in local mode: the real state machine runs Validate -> Identity -> Network,
and a second execution with the same input creates nothing new (IAM, keys, groups, rules, secrets)."""

import json

from analytics_provisioner.local.runner import execute, tagged_resources
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import EMR_SERVICE_ROLE, Names
from testkit import assert_no_leak, history_places

IDENTITY, NETWORK = "Ensure IAM roles and users", "Ensure network and security groups"


def phase_status(result, state: str) -> str:
    ran = [run["status"] for run in result.view.summary() if run["state"] == state]
    return ran[-1] if ran else f"never entered ({result.error}: {result.cause})"


def phase_output(result, state: str, key: str) -> dict:
    (output,) = [
        json.loads(event["stateExitedEventDetails"]["output"])[key]
        for event in result.view.events
        if event["type"].endswith("StateExited") and event["stateExitedEventDetails"]["name"] == state
    ]
    return output


def inventory(emulator, names: Names) -> dict:
    iam, ec2 = emulator.client("iam"), emulator.client("ec2")
    users = sorted(u["UserName"] for u in iam.list_users()["Users"])
    return {
        "roles": sorted(r["RoleId"] for r in iam.list_roles()["Roles"]),
        "users": users,
        "policies": sorted((p["Arn"], p["DefaultVersionId"]) for p in iam.list_policies(Scope="Local")["Policies"]),
        "instance_profiles": sorted(p["InstanceProfileId"] for p in iam.list_instance_profiles()["InstanceProfiles"]),
        "access_keys": sorted(k["AccessKeyId"] for u in users for k in iam.list_access_keys(UserName=u)["AccessKeyMetadata"]),
        "attached": {
            r: sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=r)["AttachedPolicies"])
            for r in (EMR_SERVICE_ROLE, names.emr_instance_role, names.analytics_role)
        },
        "security_groups": sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]),
        "security_group_rules": sorted(r["SecurityGroupRuleId"] for r in ec2.describe_security_group_rules()["SecurityGroupRules"]),
        # This phase's secrets; other phases' are counted by their own tests.
        "secrets": sorted(
            (s["ARN"], s.get("LastChangedDate"))
            for s in emulator.client("secretsmanager").list_secrets()["SecretList"]
            if s["Name"].startswith(names.secret("iam/"))
        ),
        "edxapp_db_groups": [
            g["VpcSecurityGroupId"]
            for g in emulator.client("rds").describe_db_instances(DBInstanceIdentifier="acme-edxapp-db")["DBInstances"][0][
                "VpcSecurityGroups"
            ]
        ],
    }


def test_identity_and_network_run_and_a_rerun_creates_nothing(emulator, full_input):
    seed(emulator, full_input)
    names = Names(full_input["deployment_id"])

    first = execute(emulator, full_input, name="identity-network-1")
    assert (phase_status(first, "Validate input"), phase_status(first, IDENTITY), phase_status(first, NETWORK)) == ("succeeded",) * 3
    identity, network = phase_output(first, IDENTITY, "identity"), phase_output(first, NETWORK, "network")
    after_first = inventory(emulator, names)

    assert identity["emr_roles_created"] == [EMR_SERVICE_ROLE]
    assert identity["emr_ec2_instance_profile"] == names.emr_instance_profile
    assert identity["reports_user_name"] == names.reports_user and identity["reports_key_secret_arn"]
    assert {names.es_user, names.reports_user} <= set(after_first["users"])
    assert len(after_first["access_keys"]) == 2  # one per user
    assert len(after_first["secrets"]) == 2
    assert network["security_groups"]["emr_rds"] in after_first["edxapp_db_groups"]
    tagged = tagged_resources(emulator, names.id)
    assert {network["security_groups"][key] for key in ("analytics", "director", "emr_rds")} <= {arn.rsplit("/", 1)[-1] for arn in tagged}

    second = execute(emulator, full_input, name="identity-network-2")
    assert (phase_status(second, IDENTITY), phase_status(second, NETWORK)) == ("succeeded", "succeeded")
    assert inventory(emulator, names) == after_first
    assert phase_output(second, IDENTITY, "identity") == identity
    assert phase_output(second, NETWORK, "network") == network

    keys = {}
    for secret_arn in (identity["es_key_secret_arn"], identity["reports_key_secret_arn"]):
        keys[f"the secret access key in {secret_arn}"] = json.loads(
            emulator.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
        )["secret_access_key"]
    assert_no_leak(keys, {**history_places(first.view.events, "first history"), **history_places(second.view.events, "second history")})
