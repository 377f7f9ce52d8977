"""The phases' read-only plans on what an account may hold before a deployment or after a changed one:
a role someone else made, an edited policy, a key pair without its key, a profile holding another role,
an earlier version's grades statement. Each is what the ensure would do with it (whole plans, reads only:
tests/workflow/test_plan.py)."""

import json

import pytest

from analytics_provisioner import plan as model
from analytics_provisioner.deployment import Deployment
from analytics_provisioner.handler import invoke
from analytics_provisioner.naming import EMR_SERVICE_ROLE, LEGACY_GRADES_POLICY_SID, Names
from analytics_provisioner.phases import compute, identity, storage, validate
from analytics_provisioner.phases import plan as planning
from testkit import REGION

ROLE_TRUST = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
)


def deployment_of(document: dict) -> Deployment:
    return Deployment.from_state(invoke(validate.run, document)["deployment"])


def by_name(changes: list[model.Change]) -> dict[str, model.Change]:
    return {change.name: change for change in changes}


def test_a_shared_role_someone_else_made_is_left_alone_and_an_edited_policy_is_a_change(ready, minimal_input):
    iam, names = ready.client("iam"), Names(minimal_input["deployment_id"])
    iam.create_role(RoleName=EMR_SERVICE_ROLE, AssumeRolePolicyDocument=ROLE_TRUST)
    deployment = deployment_of(minimal_input)
    ready.client("iam").create_policy(
        PolicyName=names.es_write_policy,
        Path=names.iam_path,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "es:ESHttpGet", "Resource": "*"}]}),
        Tags=[{"Key": "analytics-provisioner:deployment", "Value": deployment.deployment_id}],
    )
    changes = by_name(identity.plan(deployment))
    assert changes[EMR_SERVICE_ROLE].action == "=" and "left as it is" in changes[EMR_SERVICE_ROLE].reason
    assert not [name for name in changes if name.endswith(f"on {EMR_SERVICE_ROLE}")]  # nothing attached to a role not ours
    assert changes[names.es_write_policy].action == "~" and "new default version" in changes[names.es_write_policy].reason
    assert changes[names.analytics_role].action == "+"


def test_a_profile_holding_another_role_and_a_key_pair_without_its_key_are_named(ready, minimal_input):
    deployment, iam = deployment_of(minimal_input), ready.client("iam")
    names, ours = deployment.names, [{"Key": "analytics-provisioner:deployment", "Value": minimal_input["deployment_id"]}]
    iam.create_role(RoleName="someone-else", AssumeRolePolicyDocument=ROLE_TRUST)
    iam.create_instance_profile(InstanceProfileName=names.analytics_instance_profile, Path=names.iam_path, Tags=ours)
    iam.add_role_to_instance_profile(InstanceProfileName=names.analytics_instance_profile, RoleName="someone-else")
    ready.client("ec2").create_key_pair(KeyName=names.director_key_pair, TagSpecifications=[{"ResourceType": "key-pair", "Tags": ours}])
    profile = by_name(identity.plan(deployment))[names.analytics_instance_profile]
    assert profile.action == "=" and "holds someone-else" in profile.reason
    planned = compute.plan(deployment)
    key_pairs = by_name([change for change in planned if change.kind == "key pair"])
    assert key_pairs[names.director_key_pair].action == "=" and "not in" in key_pairs[names.director_key_pair].reason
    assert key_pairs[names.analytics_key_pair].action == "+"
    assert names.key_pair_secret(names.director_key_pair) not in by_name(planned)  # Compute stops there: it creates no secret


def test_an_earlier_versions_grades_statement_is_replaced_and_ours_is_kept(aws, full_input):
    from analytics_provisioner.local.seed import seed
    from testkit import store_edxapp_admin_secret

    seed(aws, full_input)
    full_input["edxapp"]["db_admin_secret_id"] = "acme/edxapp/db-admin-unit"
    store_edxapp_admin_secret(aws, full_input)
    deployment = deployment_of(full_input)
    statement = storage.grades_download_statement(deployment)
    bucket, s3 = full_input["edxapp"]["grades_bucket"], aws.client("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({**policy, "Statement": [*policy["Statement"], {**statement, "Sid": LEGACY_GRADES_POLICY_SID}]})
    )
    [change] = [change for change in storage.plan(deployment) if change.kind == "bucket policy statement"]
    assert change.action == "+" and "replaces an earlier version's identical shared-Sid statement" in change.reason
    storage.ensure_grades_download_statement(deployment)
    [change] = [change for change in storage.plan(deployment) if change.kind == "bucket policy statement"]
    assert change.action == "=" and change.name == f"{bucket} {statement['Sid']}"


def test_the_document_is_stable(ready, minimal_input):
    planned = planning.run(minimal_input, REGION, ready.secure_repo_bucket)
    assert list(planned) == ["deployment_id", "region", "changes", "phases", "summary", "warnings"]
    regrouped = [change for _, changes in model.by_phase(planned) for change in changes]
    assert [change.to_dict() for change in regrouped] == planned["changes"]
    assert model.summary_line(regrouped) == (
        f"Plan: {planned['summary']['create']} to create, {planned['summary']['modify']} to change "
        f"or ensure, {planned['summary']['keep']} unchanged."
    )
    with pytest.raises(ValueError, match="a plan's action is one of"):
        model.Change("-", "S3 bucket", "x", "deleted")
