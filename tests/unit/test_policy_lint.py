"""The runtime-policy linter (tests/policy_lint.py) catches what it is there to catch."""

import pytest

from policy_lint import lint_policy


def policy(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


READ_REPORTS = {
    "Sid": "ReadReports",
    "Effect": "Allow",
    "Action": ["s3:GetObject"],
    "Resource": "arn:aws:s3:::acme-analytics-api-reports/*",
}


def test_a_least_privilege_policy_is_clean():
    assert (
        lint_policy(
            policy(READ_REPORTS, {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::acme-analytics-api-reports"})
        )
        == []
    )


def test_an_action_that_does_not_exist():
    assert lint_policy(policy(dict(READ_REPORTS, Action=["s3:GetObjects"]))) == [
        "UNKNOWN_ACTION: Unknown action s3:GetObjects (string=s3:GetObjects)"
    ]


def test_a_resource_the_action_cannot_apply_to():
    """s3:GetObject on the bucket ARN instead of its objects: grants nothing, hides a bug."""
    findings = lint_policy(policy(dict(READ_REPORTS, Resource="arn:aws:s3:::acme-analytics-api-reports")))
    assert [finding.split(":")[0] for finding in findings] == ["RESOURCE_MISMATCH"], findings


def test_a_star_resource_where_the_action_can_be_scoped():
    assert lint_policy(policy(dict(READ_REPORTS, Resource="*"))) == ["RESOURCE_STAR: ['s3:GetObject']"]


def test_wildcard_actions():
    """parliament itself says nothing about Action "*": the helper does."""
    assert lint_policy(policy(READ_REPORTS, {"Effect": "Allow", "Action": "*", "Resource": "*"})) == ["STAR_ACTION: * (statement=#1)"]
    assert "SERVICE_WILDCARD_ACTION: s3:* (statement=ReadReports)" in lint_policy(policy(dict(READ_REPORTS, Action="s3:*")))
    assert "STAR_ACTION: NotAction ['s3:GetObject'] (statement=ReadReports)" in lint_policy(
        policy(dict({k: v for k, v in READ_REPORTS.items() if k != "Action"}, NotAction=["s3:GetObject"]))
    )


def test_privilege_escalation_and_credentials():
    findings = lint_policy(policy({"Effect": "Allow", "Action": ["iam:CreateAccessKey", "iam:PassRole"], "Resource": "*"}))
    assert {"CREDENTIALS_EXPOSURE", "PERMISSIONS_MANAGEMENT_ACTIONS", "PRIVILEGE_ESCALATION"} <= {
        finding.split(":")[0] for finding in findings
    }


def test_malformed_json():
    assert [finding.split(":")[0] for finding in lint_policy('{"Version": "2012-10-17", "Statement": [')] == ["MALFORMED_JSON"]


def test_an_issue_is_allowed_only_with_its_reason():
    star = policy(dict(READ_REPORTS, Resource="*"))
    assert lint_policy(star, allowed={"RESOURCE_STAR": "the runbook's policy, kept verbatim"}) == []
    with pytest.raises(ValueError, match="RESOURCE_STAR"):
        lint_policy(star, allowed={"RESOURCE_STAR": " "})
