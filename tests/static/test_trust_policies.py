"""Where IAM can enforce the opt-in, the roles in template.yaml do too.

IAM can require that a foreign secret or RDS instance carries the allow tag (any non-empty value:
a role is the stack's, not a deployment's, so "lists this deployment" stays the code's check), and
that a launched image belongs to Canonical or a trusted owner. S3 bucket policies (the grades
statement) have no such condition key here: the Storage phase checks the tag.
"""

import pytest

from analytics_provisioner.local import template as cfn
from analytics_provisioner.phases.compute import CANONICAL_OWNERS
from analytics_provisioner.settings import TRUSTED_IMAGE_OWNERS_ENV

TEMPLATE = cfn.load()
ALLOW_PRESENT = "?*"  # StringLike: the tag exists with a non-empty value
OUR_SECRETS = (":secret:analytics-provisioner/*", ":secret:rds!db-*")  # ours by name; rds!db-*: the analytics RDS master secret
SECRET_READS = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}


def statements():
    for logical_id, resource in TEMPLATE["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            for policy in resource["Properties"].get("Policies", []):
                for statement in policy["Statement"]:
                    if statement["Effect"] == "Allow":
                        yield logical_id, statement


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def _text(resource) -> str:
    return resource.get("Fn::Sub", str(resource)) if isinstance(resource, dict) else resource


def _string_like(statement: dict) -> dict:
    return statement.get("Condition", {}).get("StringLike", {})


def test_foreign_secrets_are_readable_only_with_the_allow_tag():
    checked = []
    for function, statement in statements():
        if not SECRET_READS & set(_list(statement["Action"])):
            continue
        foreign = [_text(r) for r in _list(statement["Resource"]) if not _text(r).endswith(OUR_SECRETS)]
        if foreign:
            checked.append(function)
            assert _string_like(statement) == {"secretsmanager:ResourceTag/analytics-provisioner:allow": ALLOW_PRESENT}, (
                function,
                statement,
            )
    assert sorted(set(checked)) == ["DbSetupFunction", "DbTeardownFunction", "RenderFunction", "ValidateFunction"]


def test_the_edxapp_database_is_modified_only_with_the_allow_tag():
    checked = []
    for function, statement in statements():
        if "rds:ModifyDBInstance" in _list(statement["Action"]):
            checked.append(function)
            assert _list(statement["Action"]) == ["rds:ModifyDBInstance"], (function, "the condition would also limit the other actions")
            assert _string_like(statement) in (
                {"rds:db-tag/analytics-provisioner:allow": ALLOW_PRESENT},
                {"rds:db-tag/analytics-provisioner:deployment": ALLOW_PRESENT},
            ), (function, statement)
    assert sorted(checked) == ["NetworkFunction", "TeardownFunction", "TeardownFunction"]
    network = [s for f, s in statements() if f == "NetworkFunction" and "rds:ModifyDBInstance" in _list(s["Action"])]
    assert [_string_like(s) for s in network] == [{"rds:db-tag/analytics-provisioner:allow": ALLOW_PRESENT}]


def test_only_canonical_or_trusted_images_are_launched():
    launches = [s for f, s in statements() if f == "ComputeFunction" and "ec2:RunInstances" in _list(s["Action"])]
    on_images = [s for s in launches if any("::image/" in _text(r) for r in _list(s["Resource"]))]
    assert len(on_images) == 1 and all(len(_list(s["Resource"])) == 1 for s in on_images)
    owners = on_images[0]["Condition"]["StringEquals"]["ec2:Owner"]
    assert "CanonicalImageOwner" in str(owners) and "TrustedImageOwners" in str(owners)
    mapping = {partition: entry["Id"] for partition, entry in TEMPLATE["Mappings"]["CanonicalImageOwner"].items()}
    assert mapping == CANONICAL_OWNERS


def test_trusted_image_owners_reach_the_functions():
    assert TEMPLATE["Parameters"]["TrustedImageOwners"]["Type"] == "CommaDelimitedList"
    variables = cfn.global_environment(TEMPLATE)
    assert variables[TRUSTED_IMAGE_OWNERS_ENV] == {"Fn::Join": [",", {"Ref": "TrustedImageOwners"}]}
    assert cfn.resolve(variables[TRUSTED_IMAGE_OWNERS_ENV], {}, TEMPLATE) == ""


@pytest.mark.parametrize("value, expected", [({"Ref": "LogRetentionDays"}, "90"), ("plain", "plain"), ({"Ref": "Bucket"}, "from-refs")])
def test_local_mode_resolves_the_globals_like_the_stack(value, expected):
    assert cfn.resolve(value, {"Bucket": "from-refs"}, TEMPLATE) == expected
