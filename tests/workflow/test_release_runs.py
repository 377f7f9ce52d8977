"""One whole local run per release the schema accepts: the state machine as deployed, every phase's real
handler, the real MariaDB. The files it renders must pin the apps and the pipeline to the release, write
the search host the way that release's pipeline reads it, and carry the credentials the run stored."""

import json
from configparser import RawConfigParser
from pathlib import Path

import pytest

from analytics_provisioner.local.runner import run
from analytics_provisioner.naming import Names
from consumers.secure_repo import load_vars
from upstream import ES_HOST_IS_LIST, RELEASES, branch


def stored(emulator, secret_id: str) -> dict:
    return json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])


def shell_env(path: Path) -> dict:
    return dict(line.removeprefix("export ").split("=", 1) for line in path.read_text().splitlines() if line.startswith("export "))


@pytest.mark.parametrize("release", RELEASES)
def test_a_whole_run_renders_files_that_agree_with_the_release(emulator, minimal_input, tmp_path, release):
    document = minimal_input | {"options": {"openedx_release": branch(release)}}
    report = run(document, tmp_path, emulator)
    assert report["status"] == "SUCCEEDED", (report["error"], report["cause"])
    deprecated_image = [warning for warning in report["output"]["warnings"] if "is deprecated since" in warning]
    assert len(deprecated_image) == (release == "ironwood")  # every Ubuntu 16.04 image is deprecated: found and named
    variables = load_vars(tmp_path / "vars-analytics.yml")
    override = RawConfigParser()
    override.read(tmp_path / "analytics-tasks" / "analytics-override.cfg")
    environment = shell_env(tmp_path / "analytics-tasks" / "jenkins_env")

    assert variables["INSIGHTS_VERSION"] == variables["ANALYTICS_API_VERSION"] == branch(release)
    assert environment["TASKS_BRANCH"] == environment["CONFIG_BRANCH"] == branch(release)

    names = Names(document["deployment_id"])
    endpoint = emulator.client("opensearch").describe_domain(DomainName=names.es_domain)["DomainStatus"]["Endpoint"]
    host = override.get("elasticsearch", "host")
    assert (json.loads(host) if ES_HOST_IS_LIST[release] else host) == ([f"https://{endpoint}"] if ES_HOST_IS_LIST[release] else endpoint)
    assert variables["ANALYTICS_API_ELASTICSEARCH_LEARNERS_HOST"] == f"https://{endpoint}"

    app, es_key = stored(emulator, names.app_secrets_secret), stored(emulator, names.es_user_key_secret)
    analytics_db = stored(emulator, names.analytics_db_secret)
    assert variables["ANALYTICS_API_ELASTICSEARCH_AWS_SECRET_ACCESS_KEY"] == es_key["secret_access_key"]
    assert (
        variables["ANALYTICS_API_DATABASES"]["default"]["PASSWORD"] == variables["INSIGHTS_DATABASE_PASSWORD"] == analytics_db["password"]
    )
    assert json.loads((tmp_path / "analytics-tasks" / "edxanalytics_creds").read_text())["password"] == analytics_db["password"]
    assert (variables["ANALYTICS_API_SECRET_KEY"], variables["INSIGHTS_SECRET_KEY"], variables["COMMON_JWT_SECRET_KEY"]) == (
        app["api_secret_key"],
        app["insights_secret_key"],
        app["api_jwt_secret_key"],
    )
    sso_key = "INSIGHTS_OAUTH2_KEY" if release == "ironwood" else "INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_KEY"
    assert variables[sso_key] == app["sso_client_id"]
    assert override.get("edx-rest-api", "client_secret") == app["backend_client_secret"]

    # Jenkins: the stored password and deploy key, the deploy key's public half in the output, no secure repo until given.
    deploy_key = stored(emulator, names.key_pair_secret(names.jenkins_deploy_key_pair))
    credentials = {credential["id"]: credential for credential in variables["JENKINS_ANALYTICS_CREDENTIALS"]}
    assert (variables["JENKINS_ANALYTICS_AUTH_REALM"], variables["JENKINS_ANALYTICS_USER_PASSWORD_PLAIN"]) == (
        "unix",
        app["jenkins_password"],
    )
    assert credentials["github-deploy-key"]["privatekey"] == deploy_key["private_key"]
    public_key = emulator.client("ec2").describe_key_pairs(KeyNames=[names.jenkins_deploy_key_pair], IncludePublicKey=True)["KeyPairs"][0][
        "PublicKey"
    ]
    assert report["output"]["jenkins"]["deploy_public_key"] == public_key.strip()
    assert "ANALYTICS_SCHEDULE_SECURE_REPO_URL" not in variables
    assert any("seed job clones no secure repo yet" in step for step in report["output"]["next_steps"])
