"""The IAM documents the Identity phase creates at runtime, linted with parliament (no template
scanner sees them). Every allowed finding carries its reason."""

from analytics_provisioner import policies
from policy_lint import lint_policy

EMR_SERVICE_ROLE = "arn:aws:iam::123456789012:role/EMR_DefaultRole"
EMR_EC2_ROLE = "arn:aws:iam::123456789012:role/analytics-provisioner/acme-prod-emr-ec2"  # the deployment's own


def test_emr_provisioning_policy():
    document = policies.emr_provisioning(EMR_SERVICE_ROLE, EMR_EC2_ROLE)
    assert (
        lint_policy(
            document,
            allowed={
                "SERVICE_WILDCARD_ACTION": "the runbook's provision_emr_clusters grants elasticmapreduce:* so Jenkins can run any EMR task",
                "RESOURCE_STAR": "EMR clusters are created by the pipeline's playbook under names we do not know; the describe calls have no resource-level permissions",
                "PERMISSIONS_MANAGEMENT_ACTIONS": "RunJobFlow must pass the EMR service role and the deployment's EMR instance role: iam:PassRole names only those, each to its own service",
            },
        )
        == []
    )


def test_es_write_policy_is_scoped_to_the_deployments_domain():
    domain = policies.es_domain_arn("aws", "us-east-1", "123456789012", "acme-prod-analytics-es")
    document = policies.es_write(domain)
    assert (
        lint_policy(
            document,
            allowed={
                "SERVICE_WILDCARD_ACTION": "the runbook's elasticsearch_all (es:*), here on our domain only",
                "PERMISSIONS_MANAGEMENT_ACTIONS": "es:* includes the domain's access policy; the role may change only our domain's",
                "RESOURCE_MISMATCH": "es:* also expands to account-level actions, which a domain ARN never matches: they grant nothing",
            },
        )
        == []
    )
    assert {resource for st in document["Statement"] for resource in _list(st["Resource"])} <= {domain, f"{domain}/*"}


def test_emr_instance_policy_reaches_only_the_deployments_buckets():
    own = ["acme-prod-analytics-emr", "acme-prod-edxanalytics"]
    document = policies.emr_instance("aws", "us-east-1", own, "acme-prod-tracking-logs")
    assert (
        lint_policy(
            document,
            allowed={
                "RESOURCE_STAR": "EMR's on-instance agents describe their cluster, whose id exists only once the playbook made it; ec2:DescribeInstances/DescribeTags take no resource-level permissions",
            },
        )
        == []
    )
    s3_resources = {
        resource for st in document["Statement"] if _list(st["Action"])[0].startswith("s3:") for resource in _list(st["Resource"])
    }
    assert s3_resources == {
        *(f"arn:aws:s3:::{b}" for b in [*own, "acme-prod-tracking-logs"]),
        *(f"arn:aws:s3:::{b}/*" for b in own),
        "arn:aws:s3:::acme-prod-tracking-logs/*",
        "arn:aws:s3:::us-east-1.elasticmapreduce/libs/*",
    }


def test_reports_read_policy():
    document = policies.reports_read(policies.bucket_arn("aws", "acme-prod-analytics-api-reports"))
    findings = lint_policy(
        document,
        allowed={
            "RESOURCE_MISMATCH": "the runbook's s3:Get*/s3:List* on the bucket and its objects: each wildcard expands to bucket- and object-level actions"
        },
    )
    assert findings == []


def test_trust_policies():
    for service in (policies.EMR_SERVICE, "ec2.amazonaws.com"):
        assert lint_policy(policies.trust(service), allowed={"MALFORMED": "a trust policy names a Principal, not a Resource"}) == []


def test_the_linter_catches_a_star_action():
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert any(finding.startswith("STAR_ACTION") for finding in lint_policy(bad))


def _list(value):
    return value if isinstance(value, list) else [value]
