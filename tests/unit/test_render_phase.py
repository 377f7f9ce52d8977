"""The Render phase against moto: it reads what the earlier phases left (state + secrets) and writes the secure repo."""

import json
import os

import pytest
import yaml
from render_state import provision

from analytics_provisioner.errors import NotOptedInError, OwnershipError, PreflightError, ResourceStateError
from analytics_provisioner.handler import invoke
from analytics_provisioner.naming import TAG_ALLOW, TAG_DEPLOYMENT
from analytics_provisioner.phases import render

FILES = [
    "analytics.pem",
    "vars-analytics.yml",
    "analytics-tasks/jenkins_env",
    "analytics-tasks/emr-vars.yml",
    "analytics-tasks/analytics-override.cfg",
    "analytics-tasks/edxapp_creds",
    "analytics-tasks/edxanalytics_creds",
    "manifest.json",
]


@pytest.fixture
def state(aws, full_input):
    aws.client("s3").put_bucket_versioning(Bucket=aws.secure_repo_bucket, VersioningConfiguration={"Status": "Enabled"})
    return provision(aws, full_input)


def read(aws, bucket: str, key: str) -> str:
    return aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def all_secret_values(aws) -> list[str]:
    """Every string stored in any secret: none of them may appear in the output."""
    sm, found = aws.client("secretsmanager"), []
    for listed in sm.list_secrets()["SecretList"]:
        value = json.loads(sm.get_secret_value(SecretId=listed["ARN"])["SecretString"])
        found += [
            v
            for k, v in value.items()
            if isinstance(v, str) and k not in ("host", "port", "username", "user_name", "key_name", "key_pair_id", "access_key_id")
        ]
    return found


def test_every_file_is_written_under_the_prefix_and_the_creds_go_to_the_pipeline_bucket(aws, state):
    output = invoke(render.run, state)
    prefix = "acme-prod/"
    assert output["secure_repo"] == f"s3://{aws.secure_repo_bucket}/{prefix}"
    assert output["files"] == [f"s3://{aws.secure_repo_bucket}/{prefix}{name}" for name in FILES]
    listed = aws.client("s3").list_objects_v2(Bucket=aws.secure_repo_bucket, Prefix=prefix)["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted(prefix + name for name in FILES)
    assert output["creds_uploaded"] == ["s3://acme-prod-edxanalytics/edxapp_creds", "s3://acme-prod-edxanalytics/edxanalytics_creds"]
    for name in ("edxapp_creds", "edxanalytics_creds"):
        assert read(aws, "acme-prod-edxanalytics", name) == read(aws, aws.secure_repo_bucket, f"{prefix}analytics-tasks/{name}")


def test_files_hold_the_created_resources_and_stored_secrets(aws, state):
    invoke(render.run, state)
    region, sm = aws.region, aws.client("secretsmanager")
    setup = state["resources"]["database"]["setup"]
    analytics = json.loads(sm.get_secret_value(SecretId=setup["analytics_db_secret_arn"])["SecretString"])
    edxapp_ro = json.loads(sm.get_secret_value(SecretId=setup["edxapp_ro_secret_arn"])["SecretString"])
    es_key = json.loads(sm.get_secret_value(SecretId=state["identity"]["es_key_secret_arn"])["SecretString"])
    migration = json.loads(sm.get_secret_value(SecretId="acme/edxapp/db-migrate")["SecretString"])
    endpoint = aws.client("opensearch").describe_domain(DomainName="acme-prod-analytics-es")["DomainStatus"]["Endpoint"]

    assert json.loads(read(aws, "acme-prod-edxanalytics", "edxanalytics_creds")) == analytics
    assert json.loads(read(aws, "acme-prod-edxanalytics", "edxapp_creds")) == edxapp_ro
    variables = yaml.safe_load(read(aws, aws.secure_repo_bucket, "acme-prod/vars-analytics.yml"))
    assert variables["ANALYTICS_API_DATABASES"]["default"]["HOST"] == state["resources"]["database"]["endpoint"] == analytics["host"]
    assert variables["ANALYTICS_MYSQL_PASSWORD"] == analytics["password"]
    assert variables["ANALYTICS_API_ELASTICSEARCH_LEARNERS_HOST"] == f"https://{endpoint}"
    assert variables["ANALYTICS_API_ELASTICSEARCH_AWS_SECRET_ACCESS_KEY"] == es_key["secret_access_key"]
    assert variables["ANALYTICS_API_ELASTICSEARCH_CONNECTION_DEFAULT_REGION"] == region
    assert (variables["COMMON_MYSQL_MIGRATE_USER"], variables["COMMON_MYSQL_MIGRATE_PASS"]) == (
        migration["username"],
        migration["password"],
    )
    assert variables["ANALYTICS_API_REPORT_DOWNLOAD_BACKEND"]["AWS_STORAGE_BUCKET_NAME"] == "acme-prod-analytics-api-reports"
    key_pair = json.loads(
        sm.get_secret_value(SecretId=state["resources"]["compute"]["key_pairs"]["analytics"]["secret_arn"])["SecretString"]
    )
    assert read(aws, aws.secure_repo_bucket, "acme-prod/analytics.pem").strip() == key_pair["private_key"].strip()
    emr = yaml.safe_load(read(aws, aws.secure_repo_bucket, "acme-prod/analytics-tasks/emr-vars.yml"))
    assert (emr["vpc_subnet_id"], emr["keypair_name"]) == (state["network"]["subnet_id"], "acme-prod-analytics")
    assert emr["log_uri"] == "s3://acme-prod-analytics-emr-logs/logs/"


def test_output_manifest_and_jenkins_env_hold_no_secret_value(aws, state):
    output = invoke(render.run, state)
    manifest = read(aws, aws.secure_repo_bucket, "acme-prod/manifest.json")
    jenkins_env = read(aws, aws.secure_repo_bucket, "acme-prod/analytics-tasks/jenkins_env")
    stored = all_secret_values(aws)
    assert len(stored) >= 12  # the app secrets, passwords, keys: the check below looks at real values
    for value in stored:
        assert value not in json.dumps(output) and value not in manifest and value not in jenkins_env
    assert json.loads(manifest)["files"][0] == {
        "path": "analytics.pem",
        "uri": output["files"][0],
        "version_id": json.loads(manifest)["files"][0]["version_id"],
    }
    assert any("create_dot_application" in step for step in output["next_steps"])


def test_app_secrets_are_generated_once_tagged_and_encrypted_then_reused(aws, state):
    sm = aws.client("secretsmanager")
    invoke(render.run, state)
    name = "analytics-provisioner/acme-prod/app"
    first = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    described = sm.describe_secret(SecretId=name)
    assert {tag["Key"]: tag["Value"] for tag in described["Tags"]}[TAG_DEPLOYMENT] == "acme-prod"
    assert described["KmsKeyId"] == os.environ["SECRETS_KMS_KEY_ID"]
    versions = len(sm.list_secret_version_ids(SecretId=name)["Versions"])
    invoke(render.run, state)
    assert json.loads(sm.get_secret_value(SecretId=name)["SecretString"]) == first
    assert len(sm.list_secret_version_ids(SecretId=name)["Versions"]) == versions


def test_a_rerun_writes_no_new_object_version(aws, state):
    s3 = aws.client("s3")
    first = invoke(render.run, state)
    before = s3.list_object_versions(Bucket=aws.secure_repo_bucket, Prefix="acme-prod/")["Versions"]
    creds_before = s3.list_object_versions(Bucket="acme-prod-edxanalytics")["Versions"]
    assert invoke(render.run, state) == first
    assert s3.list_object_versions(Bucket=aws.secure_repo_bucket, Prefix="acme-prod/")["Versions"] == before
    assert s3.list_object_versions(Bucket="acme-prod-edxanalytics")["Versions"] == creds_before


def test_a_changed_value_is_written_as_a_new_version(aws, state):
    s3 = aws.client("s3")
    invoke(render.run, state)
    state["resources"]["search"]["endpoint"] = "search-acme-prod-analytics-es-new.us-east-1.es.amazonaws.com"
    invoke(render.run, state)
    versions = s3.list_object_versions(Bucket=aws.secure_repo_bucket, Prefix="acme-prod/vars-analytics.yml")["Versions"]
    assert len(versions) == 2
    assert "https://search-acme-prod-analytics-es-new.us-east-1" in read(aws, aws.secure_repo_bucket, "acme-prod/vars-analytics.yml")
    manifest = json.loads(read(aws, aws.secure_repo_bucket, "acme-prod/manifest.json"))
    latest = next(v["VersionId"] for v in versions if v["IsLatest"])
    assert next(f for f in manifest["files"] if f["path"] == "vars-analytics.yml")["version_id"] == latest


def test_earlier_warnings_reach_the_output(aws, state):
    state["warnings"] = ["the runbook's Elasticsearch 1.5 is not offered here; using Elasticsearch_7.10"]
    state["resources"]["compute"]["warnings"] = ["options.ami_id is older than a year"]
    output = invoke(render.run, state)
    assert output["warnings"] == state["warnings"] + state["resources"]["compute"]["warnings"]
    assert json.loads(read(aws, aws.secure_repo_bucket, "acme-prod/manifest.json"))["warnings"] == output["warnings"]


def test_a_stale_failure_report_is_removed(aws, state):
    aws.client("s3").put_object(Bucket=aws.secure_repo_bucket, Key="acme-prod/failure-report.json", Body=b"{}")
    invoke(render.run, state)
    keys = [item["Key"] for item in aws.client("s3").list_objects_v2(Bucket=aws.secure_repo_bucket, Prefix="acme-prod/")["Contents"]]
    assert "acme-prod/failure-report.json" not in keys


def test_without_reports_no_reports_key_is_needed(aws, full_input):
    full_input["features"]["reports"] = False
    state = provision(aws, full_input)
    assert state["identity"]["reports_key_secret_arn"] is None
    invoke(render.run, state)
    assert "ANALYTICS_API_REPORT_DOWNLOAD_BACKEND" not in read(aws, aws.secure_repo_bucket, "acme-prod/vars-analytics.yml")


@pytest.mark.parametrize(
    "path", ["resources.search.endpoint", "resources.database.setup", "resources.compute.eip", "identity.reports_key_secret_arn"]
)
def test_a_missing_upstream_output_is_named(aws, state, path):
    *parents, last = path.split(".")
    node = state
    for part in parents:
        node = node[part]
    node[last] = None
    with pytest.raises(ResourceStateError, match=path.replace(".", r"\.")):
        invoke(render.run, state)
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket=aws.secure_repo_bucket, Prefix="acme-prod/")


def test_a_missing_database_is_named(aws, state):
    state["resources"]["database"]["setup"]["databases"] = ["dashboard", "analytics-api"]
    with pytest.raises(ResourceStateError, match="no database reports"):
        invoke(render.run, state)


def test_an_unreadable_secret_is_named_without_values(aws, state):
    arn = state["identity"]["es_key_secret_arn"]
    aws.client("secretsmanager").delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    with pytest.raises(PreflightError, match="Elasticsearch user key") as raised:
        invoke(render.run, state)
    assert arn in str(raised.value)


def test_an_app_secret_of_someone_else_is_refused(aws, state):
    aws.client("secretsmanager").create_secret(Name="analytics-provisioner/acme-prod/app", SecretString="{}")
    with pytest.raises(OwnershipError, match="analytics-provisioner/acme-prod/app"):
        invoke(render.run, state)


def test_a_migration_secret_whose_opt_in_was_withdrawn_is_not_read(aws, state):
    migration = state["deployment"]["edxapp"]["migration_secret_id"]
    aws.client("secretsmanager").untag_resource(SecretId=migration, TagKeys=[TAG_ALLOW])
    with pytest.raises(NotOptedInError, match=f"edxapp.migration_secret_id: secret '{migration}' is not opted in for deployment acme-prod"):
        invoke(render.run, state)
    assert aws.client("s3").list_objects_v2(Bucket=aws.secure_repo_bucket).get("KeyCount") == 0
