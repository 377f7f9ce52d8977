"""The Identity phase against moto: every role, profile, policy, user, key and tag it leaves, the
EMR default roles it shares, and what a re-run does with what it finds."""

import fnmatch
import json

import pytest

from analytics_provisioner import policies
from analytics_provisioner.aws import secrets
from analytics_provisioner.errors import OwnershipError, TransientAwsError
from analytics_provisioner.handler import invoke
from analytics_provisioner.local.emulator import ACCOUNT
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import EMR_EC2_ROLE, EMR_SERVICE_ROLE, TAG_DEPLOYMENT, TAG_MANAGED_BY, TAG_SHARED, TOOL, Names
from analytics_provisioner.phases import identity, validate

REGION = "us-east-1"
NAMES = Names("acme-demo")
PATH = "/analytics-provisioner/"
EMR_SERVICE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceRole"
EMR_EC2_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceforEC2Role"
OUR_TAGS = {TAG_DEPLOYMENT: "acme-demo", TAG_MANAGED_BY: TOOL}
# The actions the runbook itself grants with a wildcard: nothing else may have one.
RUNBOOK_WILDCARD_ACTIONS = {"elasticmapreduce:*", "es:*", "route53:Get*", "route53:List*", "s3:Get*", "s3:List*"}
# Actions that take no resource-level permission (or whose resources do not exist yet).
STAR_RESOURCE_ACTIONS = {
    "elasticmapreduce:*",
    "route53:Get*",
    "route53:List*",
    "ec2:DescribeInstances",
    "rds:DescribeDBInstances",
    # what EMR's agents on the cluster's instances read (policies.emr_instance)
    "elasticmapreduce:DescribeCluster",
    "elasticmapreduce:DescribeStep",
    "elasticmapreduce:ListBootstrapActions",
    "elasticmapreduce:ListClusters",
    "elasticmapreduce:ListInstanceGroups",
    "elasticmapreduce:ListInstances",
    "elasticmapreduce:ListSteps",
    "ec2:DescribeTags",
}


def state_for(doc: dict) -> dict:
    return invoke(validate.run, doc)


@pytest.fixture
def state(ready, minimal_input):
    return state_for(minimal_input)


@pytest.fixture
def reports_state(ready, minimal_input):
    minimal_input["features"] = {"reports": True}
    return state_for(minimal_input)


def iam(aws):
    return aws.client("iam")


def tags_of(resource: dict) -> dict:
    return {tag["Key"]: tag["Value"] for tag in resource.get("Tags", [])}


def attached(aws, role: str) -> set[str]:
    return {p["PolicyArn"] for p in iam(aws).list_attached_role_policies(RoleName=role)["AttachedPolicies"]}


def default_document(aws, arn: str) -> dict:
    policy = iam(aws).get_policy(PolicyArn=arn)["Policy"]
    return iam(aws).get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]


def secret_value(aws, secret_id: str) -> dict:
    return json.loads(aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])


def keys_of(aws, user: str) -> list[dict]:
    return iam(aws).list_access_keys(UserName=user)["AccessKeyMetadata"]


def trusted_services(role: dict) -> list[str]:
    statements = role["AssumeRolePolicyDocument"]["Statement"]
    assert all(s["Effect"] == "Allow" and s["Action"] == "sts:AssumeRole" for s in statements)
    return [s["Principal"]["Service"] for s in statements]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def inventory(aws) -> dict:
    api = iam(aws)
    users = [u["UserName"] for u in api.list_users()["Users"]]
    return {
        "roles": sorted(r["RoleName"] for r in api.list_roles()["Roles"]),
        "profiles": sorted(p["InstanceProfileName"] for p in api.list_instance_profiles()["InstanceProfiles"]),
        "policies": sorted((p["PolicyName"], p["DefaultVersionId"]) for p in api.list_policies(Scope="Local")["Policies"]),
        "users": sorted(users),
        "keys": sorted(k["AccessKeyId"] for u in users for k in keys_of(aws, u)),
        "secrets": sorted(s["Name"] for s in aws.client("secretsmanager").list_secrets()["SecretList"]),
        "attachments": {r: sorted(attached(aws, r)) for r in (NAMES.emr_instance_role, EMR_SERVICE_ROLE, NAMES.analytics_role)},
    }


# What the first run creates ---------------------------------------------------------------------
def test_analytics_role_and_profile(state, ready):
    out = invoke(identity.run, state)
    role = iam(ready).get_role(RoleName=NAMES.analytics_role)["Role"]
    assert out["analytics_role_arn"] == role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role{PATH}acme-demo-edxanalytics"
    assert trusted_services(role) == ["ec2.amazonaws.com"]
    assert tags_of(role) == OUR_TAGS
    assert attached(ready, NAMES.analytics_role) == {out["emr_provisioning_policy_arn"]}
    profile = iam(ready).get_instance_profile(InstanceProfileName=NAMES.analytics_instance_profile)["InstanceProfile"]
    assert (out["analytics_instance_profile_name"], out["analytics_instance_profile_arn"]) == (
        profile["InstanceProfileName"],
        profile["Arn"],
    )
    assert profile["Path"] == PATH
    assert [r["RoleName"] for r in profile["Roles"]] == [NAMES.analytics_role]
    assert tags_of(profile) == OUR_TAGS


def test_emr_provisioning_policy_is_the_runbooks_with_passrole_scoped(state, ready):
    out = invoke(identity.run, state)
    arn = out["emr_provisioning_policy_arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy{PATH}acme-demo-provision-emr-clusters"
    assert tags_of(iam(ready).get_policy(PolicyArn=arn)["Policy"]) == OUR_TAGS
    statements = {s["Sid"]: s for s in default_document(ready, arn)["Statement"]}
    assert statements["ManageEmrClusters"]["Action"] == "elasticmapreduce:*"
    lookups = statements["LookUpHostsAndDatabases"]
    assert set(lookups["Action"]) == {"route53:Get*", "route53:List*", "ec2:DescribeInstances", "rds:DescribeDBInstances"}
    passes = {
        s["Resource"]: s["Condition"]["StringLike"]["iam:PassedToService"] for s in statements.values() if s["Action"] == "iam:PassRole"
    }
    assert passes == {
        f"arn:aws:iam::{ACCOUNT}:role/EMR_DefaultRole": "elasticmapreduce.amazonaws.com*",
        out["emr_ec2_role_arn"]: "ec2.amazonaws.com*",  # the deployment's own EMR instance role, no other
    }
    assert out["emr_ec2_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role{PATH}acme-demo-emr-ec2"


def test_the_emr_service_role_is_created_through_the_api_and_tagged_shared(state, ready):
    out = invoke(identity.run, state)
    assert ready.client("emr").list_clusters()["Clusters"] == []  # no throw-away cluster
    service = iam(ready).get_role(RoleName=EMR_SERVICE_ROLE)["Role"]
    assert trusted_services(service) == ["elasticmapreduce.amazonaws.com"] and service["Path"] == "/"
    assert attached(ready, EMR_SERVICE_ROLE) == {EMR_SERVICE_POLICY}
    # Shared: teardown must never count it as this deployment's.
    assert tags_of(service) == {TAG_SHARED: "acme-demo", TAG_MANAGED_BY: TOOL}
    assert out["emr_roles_created"] == [EMR_SERVICE_ROLE]
    assert out["emr_service_role"] == EMR_SERVICE_ROLE
    roles = {r["RoleName"] for r in iam(ready).list_roles()["Roles"]}
    assert EMR_EC2_ROLE not in roles  # nothing of ours runs with the shared instance role any more


def test_emr_instances_get_a_role_and_profile_of_the_deployment(state, ready):
    out = invoke(identity.run, state)
    role = iam(ready).get_role(RoleName=NAMES.emr_instance_role)["Role"]
    assert (
        (out["emr_ec2_role"], out["emr_ec2_role_arn"])
        == (role["RoleName"], role["Arn"])
        == ("acme-demo-emr-ec2", f"arn:aws:iam::{ACCOUNT}:role{PATH}acme-demo-emr-ec2")
    )
    assert trusted_services(role) == ["ec2.amazonaws.com"] and tags_of(role) == OUR_TAGS
    assert attached(ready, NAMES.emr_instance_role) == {out["es_write_policy_arn"], out["emr_instance_policy_arn"]}
    profile = iam(ready).get_instance_profile(InstanceProfileName=NAMES.emr_instance_profile)["InstanceProfile"]
    # EMR finds the role through a profile of the same name (emr-vars.yml's role)
    assert out["emr_ec2_instance_profile"] == profile["InstanceProfileName"] == role["RoleName"]
    assert [r["RoleName"] for r in profile["Roles"]] == [role["RoleName"]] and tags_of(profile) == OUR_TAGS


def test_es_user_key_goes_to_secrets_manager_and_not_into_the_output(state, ready):
    out = invoke(identity.run, state)
    user = iam(ready).get_user(UserName=NAMES.es_user)["User"]
    assert (out["es_user_name"], out["es_user_arn"]) == (user["UserName"], user["Arn"])
    assert user["Path"] == PATH and tags_of(user) == OUR_TAGS
    keys = keys_of(ready, NAMES.es_user)
    assert [k["Status"] for k in keys] == ["Active"]
    stored = secret_value(ready, out["es_key_secret_arn"])
    assert set(stored) == {"access_key_id", "secret_access_key", "user_name"}
    assert stored["access_key_id"] == keys[0]["AccessKeyId"] and stored["user_name"] == NAMES.es_user
    described = ready.client("secretsmanager").describe_secret(SecretId=out["es_key_secret_arn"])
    assert described["Name"] == NAMES.es_user_key_secret
    assert tags_of(described) == OUR_TAGS
    assert described["KmsKeyId"] == ready.secrets_key_arn
    assert stored["secret_access_key"] not in json.dumps(out)


def test_es_write_policy_names_only_this_deployments_domain(state, ready):
    out = invoke(identity.run, state)
    arn = out["es_write_policy_arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy{PATH}acme-demo-elasticsearch-all"
    assert tags_of(iam(ready).get_policy(PolicyArn=arn)["Policy"]) == OUR_TAGS
    domain = f"arn:aws:es:{REGION}:{ACCOUNT}:domain/{NAMES.es_domain}"
    (statement,) = default_document(ready, arn)["Statement"]
    assert statement["Action"] == "es:*" and statement["Resource"] == [domain, f"{domain}/*"]
    assert arn in attached(ready, NAMES.emr_instance_role)


def test_reports_user_reads_the_reports_bucket_and_its_objects(reports_state, ready):
    out = invoke(identity.run, reports_state)
    user = iam(ready).get_user(UserName=NAMES.reports_user)["User"]
    assert (out["reports_user_name"], out["reports_user_arn"]) == (user["UserName"], user["Arn"])
    assert tags_of(user) == OUR_TAGS
    document = iam(ready).get_user_policy(UserName=NAMES.reports_user, PolicyName="s3-read-analytics-reports")["PolicyDocument"]
    (statement,) = document["Statement"]
    bucket = "arn:aws:s3:::acme-demo-analytics-api-reports"
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["s3:Get*", "s3:List*"]
    assert statement["Resource"] == [bucket, f"{bucket}/*"]
    assert iam(ready).list_attached_user_policies(UserName=NAMES.reports_user)["AttachedPolicies"] == []
    stored = secret_value(ready, out["reports_key_secret_arn"])
    assert stored["access_key_id"] == keys_of(ready, NAMES.reports_user)[0]["AccessKeyId"]
    assert stored["user_name"] == NAMES.reports_user


def test_without_reports_there_is_no_reports_user(state, ready):
    out = invoke(identity.run, state)
    assert (out["reports_user_name"], out["reports_user_arn"], out["reports_key_secret_arn"]) == (None, None, None)
    assert NAMES.reports_user not in {u["UserName"] for u in iam(ready).list_users()["Users"]}


def test_the_es_user_has_no_policy_of_its_own(state, ready):
    # The runbook: access is granted by the domain's access policy, not by the user's policies.
    invoke(identity.run, state)
    assert iam(ready).list_attached_user_policies(UserName=NAMES.es_user)["AttachedPolicies"] == []
    assert iam(ready).list_user_policies(UserName=NAMES.es_user)["PolicyNames"] == []


# The documents the code builds -------------------------------------------------------------------
def _documents(aws, out) -> dict[str, dict]:
    docs = {
        "provisioning": default_document(aws, out["emr_provisioning_policy_arn"]),
        "es_write": default_document(aws, out["es_write_policy_arn"]),
        "reports": iam(aws).get_user_policy(UserName=NAMES.reports_user, PolicyName="s3-read-analytics-reports")["PolicyDocument"],
    }
    docs["emr_instance"] = default_document(aws, out["emr_instance_policy_arn"])
    for role in (NAMES.analytics_role, EMR_SERVICE_ROLE, NAMES.emr_instance_role):
        docs[f"trust {role}"] = iam(aws).get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    return docs


def test_no_wildcard_the_runbook_does_not_ask_for(reports_state, ready):
    out = invoke(identity.run, reports_state)
    for name, document in _documents(ready, out).items():
        assert document["Version"] == "2012-10-17", name
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow", name
            actions = as_list(statement["Action"])
            assert "*" not in actions, name
            assert {a for a in actions if "*" in a} <= RUNBOOK_WILDCARD_ACTIONS, name
            if "Resource" in statement and "*" in as_list(statement["Resource"]):
                assert set(actions) <= STAR_RESOURCE_ACTIONS, (name, statement)
            assert "iam:PassRole" not in actions or statement["Resource"] != "*", name


def test_policy_builders_match_the_runbook():
    document = policies.emr_provisioning("arn:aws:iam::1:role/EMR_DefaultRole", "arn:aws:iam::1:role/EMR_EC2_DefaultRole")
    actions = {a for s in document["Statement"] for a in as_list(s["Action"])}
    # consumers.md: provision_emr_clusters, with iam:PassRole narrowed.
    assert actions == {
        "elasticmapreduce:*",
        "iam:PassRole",
        "route53:Get*",
        "route53:List*",
        "ec2:DescribeInstances",
        "rds:DescribeDBInstances",
    }
    assert policies.trust("ec2.amazonaws.com")["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]


# Re-runs ------------------------------------------------------------------------------------------
def test_rerun_creates_nothing_and_keeps_the_key(reports_state, ready):
    first = invoke(identity.run, reports_state)
    before = inventory(ready)
    es_key = secret_value(ready, first["es_key_secret_arn"])
    second = invoke(identity.run, reports_state)
    assert second == first
    assert inventory(ready) == before
    assert secret_value(ready, first["es_key_secret_arn"]) == es_key


def test_rerun_converges_an_edited_policy_and_trust(state, ready):
    out = invoke(identity.run, state)
    arn = out["emr_provisioning_policy_arn"]
    loose = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam(ready).create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(loose), SetAsDefault=True)
    iam(ready).update_assume_role_policy(RoleName=NAMES.analytics_role, PolicyDocument=json.dumps(policies.trust("lambda.amazonaws.com")))
    invoke(identity.run, state)
    assert default_document(ready, arn)["Statement"][0]["Sid"] == "ManageEmrClusters"
    assert trusted_services(iam(ready).get_role(RoleName=NAMES.analytics_role)["Role"]) == ["ec2.amazonaws.com"]


def test_policy_versions_stay_within_the_iam_limit(state, ready):
    out = invoke(identity.run, state)
    arn = out["emr_provisioning_policy_arn"]
    for n in range(4):  # five versions: the most IAM keeps
        other = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ec2:DescribeRegions", "Resource": "*", "Sid": f"V{n}"}],
        }
        iam(ready).create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(other), SetAsDefault=True)
    invoke(identity.run, state)
    versions = iam(ready).list_policy_versions(PolicyArn=arn)["Versions"]
    assert len(versions) == 5
    assert default_document(ready, arn) == policies.emr_provisioning(
        f"arn:aws:iam::{ACCOUNT}:role/EMR_DefaultRole", out["emr_ec2_role_arn"]
    )


def test_extra_keys_on_our_user_are_deleted(state, ready):
    out = invoke(identity.run, state)
    stored = secret_value(ready, out["es_key_secret_arn"])["access_key_id"]
    iam(ready).create_access_key(UserName=NAMES.es_user)
    invoke(identity.run, state)
    assert [k["AccessKeyId"] for k in keys_of(ready, NAMES.es_user)] == [stored]


@pytest.mark.parametrize(
    "lose_key",
    [
        lambda api, key: api.delete_access_key(UserName=NAMES.es_user, AccessKeyId=key),
        lambda api, key: api.update_access_key(UserName=NAMES.es_user, AccessKeyId=key, Status="Inactive"),
    ],
    ids=["deleted", "deactivated"],
)
def test_a_lost_key_is_replaced_and_only_one_key_remains(state, ready, lose_key):
    out = invoke(identity.run, state)
    old = secret_value(ready, out["es_key_secret_arn"])["access_key_id"]
    lose_key(iam(ready), old)
    again = invoke(identity.run, state)
    keys = keys_of(ready, NAMES.es_user)
    assert len(keys) == 1 and keys[0]["Status"] == "Active" and keys[0]["AccessKeyId"] != old
    assert secret_value(ready, again["es_key_secret_arn"])["access_key_id"] == keys[0]["AccessKeyId"]
    assert again["es_key_secret_arn"] == out["es_key_secret_arn"]


def test_a_key_that_cannot_be_stored_is_deleted_again(state, ready, monkeypatch):
    def failing_put(*args, **kwargs):
        raise TransientAwsError("store secret: AWS CreateSecret failed (ThrottlingException)")

    monkeypatch.setattr(secrets, "put_json", failing_put)
    with pytest.raises(TransientAwsError):
        invoke(identity.run, state)
    assert keys_of(ready, NAMES.es_user) == []


def test_a_role_still_propagating_is_retried(state, ready):
    class NotYet:
        status_code, headers = 404, {}

    answered = []

    def not_yet(**_):
        if not answered:
            answered.append(True)
            return NotYet(), {"Error": {"Code": "NoSuchEntity", "Message": "The role with name EMR_DefaultRole cannot be found."}}
        return None

    iam(ready).meta.events.register("before-call.iam.AttachRolePolicy", not_yet)
    with pytest.raises(TransientAwsError, match="attach policy .*AmazonElasticMapReduceRole to IAM role EMR_DefaultRole.*retrying"):
        invoke(identity.run, state)
    assert invoke(identity.run, state)["emr_roles_created"] == [EMR_SERVICE_ROLE]  # the retry finishes the job
    assert attached(ready, EMR_SERVICE_ROLE) == {EMR_SERVICE_POLICY}


# Sharing and ownership ----------------------------------------------------------------------------
def test_existing_emr_roles_are_left_alone(state, ready):
    api = iam(ready)
    trust = policies.trust("elasticmapreduce.amazonaws.com")
    api.create_role(RoleName=EMR_SERVICE_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    api.create_role(RoleName=EMR_EC2_ROLE, AssumeRolePolicyDocument=json.dumps(policies.trust("ec2.amazonaws.com")))
    api.create_instance_profile(InstanceProfileName=EMR_EC2_ROLE)
    out = invoke(identity.run, state)
    assert out["emr_roles_created"] == []
    for role in (EMR_SERVICE_ROLE, EMR_EC2_ROLE):
        assert tags_of(api.get_role(RoleName=role)["Role"]) == {}
        assert attached(ready, role) == set()  # not even the runbook's search-write policy: our clusters never use it
    profile = api.get_instance_profile(InstanceProfileName=EMR_EC2_ROLE)["InstanceProfile"]
    assert profile["Roles"] == [] and tags_of(profile) == {}


def test_the_search_write_policy_an_earlier_version_put_on_the_shared_role_comes_off(state, ready):
    api = iam(ready)
    out = invoke(identity.run, state)
    api.create_role(RoleName=EMR_EC2_ROLE, AssumeRolePolicyDocument=json.dumps(policies.trust("ec2.amazonaws.com")))
    api.attach_role_policy(RoleName=EMR_EC2_ROLE, PolicyArn=EMR_EC2_POLICY)
    api.attach_role_policy(RoleName=EMR_EC2_ROLE, PolicyArn=out["es_write_policy_arn"])  # as earlier versions left it
    invoke(identity.run, state)
    assert attached(ready, EMR_EC2_ROLE) == {EMR_EC2_POLICY}  # only ours came off


def test_an_interrupted_emr_role_creation_is_finished(state, ready):
    api = iam(ready)
    shared = [{"Key": TAG_SHARED, "Value": "acme-demo"}, {"Key": TAG_MANAGED_BY, "Value": TOOL}]
    api.create_role(
        RoleName=EMR_SERVICE_ROLE, AssumeRolePolicyDocument=json.dumps(policies.trust("elasticmapreduce.amazonaws.com")), Tags=shared
    )
    out = invoke(identity.run, state)
    assert EMR_SERVICE_POLICY in attached(ready, EMR_SERVICE_ROLE)
    assert out["emr_roles_created"] == [EMR_SERVICE_ROLE]


def _allows(documents: list[dict], action: str, resource: str) -> bool:
    """Whether any Allow statement matches (IAM's wildcards; these documents carry no Deny or condition on S3/es)."""
    return any(
        fnmatch.fnmatchcase(action, a) and any(fnmatch.fnmatchcase(resource, r) for r in as_list(st["Resource"]))
        for doc in documents
        for st in doc["Statement"]
        if st["Effect"] == "Allow"
        for a in as_list(st["Action"])
    )


def _role_documents(aws, role: str) -> list[dict]:
    return [default_document(aws, arn) for arn in attached(aws, role)]


def test_two_deployments_emr_instances_reach_only_their_own_domain_and_buckets(state, ready, minimal_input):
    first = invoke(identity.run, state)
    minimal_input["deployment_id"] = "acme-other"
    seed(ready, minimal_input)  # the edxapp owner opts its database and secrets in for the second deployment too
    second = invoke(identity.run, state_for(minimal_input))
    assert second["emr_roles_created"] == []
    roles = [r["RoleName"] for r in iam(ready).list_roles()["Roles"]]
    assert roles.count(EMR_SERVICE_ROLE) == 1 and EMR_EC2_ROLE not in roles
    for key in (
        "analytics_role_arn",
        "analytics_instance_profile_arn",
        "emr_provisioning_policy_arn",
        "es_write_policy_arn",
        "emr_instance_policy_arn",
        "emr_ec2_role_arn",
        "emr_ec2_instance_profile",
        "es_user_arn",
        "es_key_secret_arn",
    ):
        assert first[key] != second[key], key

    domain = {d: f"arn:aws:es:{REGION}:{ACCOUNT}:domain/{Names(d).es_domain}" for d in ("acme-demo", "acme-other")}
    for me, other in (("acme-demo", "acme-other"), ("acme-other", "acme-demo")):
        docs = _role_documents(ready, Names(me).emr_instance_role)
        mine, theirs = Names(me), Names(other)
        assert _allows(docs, "es:ESHttpPost", f"{domain[me]}/roster_1_2/_bulk")
        assert not _allows(docs, "es:ESHttpPost", f"{domain[other]}/roster_1_2/_bulk")
        assert not _allows(docs, "es:UpdateDomainConfig", domain[other])
        for bucket in (mine.edxanalytics_bucket, mine.emr_bucket):
            assert _allows(docs, "s3:PutObject", f"arn:aws:s3:::{bucket}/warehouse/x")
        assert _allows(docs, "s3:GetObject", f"arn:aws:s3:::{mine.edxanalytics_bucket}/edxapp_creds")
        assert _allows(docs, "s3:GetObject", f"arn:aws:s3:::{me}-tracking-logs/logs/tracking/tracking.log-1.gz")
        assert not _allows(docs, "s3:PutObject", f"arn:aws:s3:::{me}-tracking-logs/logs/tracking/x")  # read only
        for bucket in (theirs.edxanalytics_bucket, theirs.emr_bucket, f"{other}-tracking-logs", "acme-edxapp", "anything-else"):
            for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
                assert not _allows(docs, action, f"arn:aws:s3:::{bucket}/edxapp_creds"), (me, action, bucket)
        # and the other deployment's Jenkins cannot start clusters with this one's instance role
        provisioning = default_document(ready, (second if me == "acme-demo" else first)["emr_provisioning_policy_arn"])
        assert not _allows([provisioning], "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role{PATH}{mine.emr_instance_role}")


def _take(aws, kind: str, tags: list[dict]) -> str:
    api = iam(aws)
    if kind == "role":
        api.create_role(RoleName=NAMES.analytics_role, AssumeRolePolicyDocument="{}", Tags=tags)
        return f"IAM role '{NAMES.analytics_role}'"
    if kind == "instance profile":
        api.create_instance_profile(InstanceProfileName=NAMES.analytics_instance_profile, Tags=tags)
        return f"IAM instance profile '{NAMES.analytics_instance_profile}'"
    if kind == "policy":
        api.create_policy(
            PolicyName=NAMES.es_write_policy, Path=PATH, PolicyDocument=json.dumps(policies.es_write("arn:aws:es:::domain/x")), Tags=tags
        )
        return f"IAM policy '{NAMES.es_write_policy}'"
    if kind == "user":
        api.create_user(UserName=NAMES.es_user, Tags=tags)
        return f"IAM user '{NAMES.es_user}'"
    aws.client("secretsmanager").create_secret(Name=NAMES.es_user_key_secret, SecretString="{}", Tags=tags)
    return f"secret '{NAMES.es_user_key_secret}'"


@pytest.mark.parametrize("kind", ["role", "instance profile", "policy", "user", "secret"])
@pytest.mark.parametrize("tags", [[], [{"Key": TAG_DEPLOYMENT, "Value": "someone-else"}]], ids=["untagged", "other-deployment"])
def test_a_name_taken_by_a_resource_without_our_tag_fails_naming_it(state, ready, kind, tags):
    what = _take(ready, kind, tags)  # after Validate: taken between the two phases
    with pytest.raises(OwnershipError) as refused:
        invoke(identity.run, state)
    message = str(refused.value)
    assert what in message
    if kind != "secret":  # aws.secrets words its own refusal
        assert "is not ours" in message and ("deployment someone-else" if tags else "no deployment tag") in message
    if kind in ("user", "secret"):
        assert keys_of(ready, NAMES.es_user) == []  # nothing minted for someone else's user or secret
