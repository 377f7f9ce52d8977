"""Every secret in the rendered files is the stored value it must be, at exactly the places it belongs.

Render runs against moto for each release; every string of every file (YAML and JSON leaves, INI
options, shell variables, whole files) that equals a value kept in Secrets Manager is located, and
the set of (place -> secret, key) found must be exactly the expected one. Giving Insights the
Analytics API's Django key, or the pipeline the login client's secret, changes that set.
"""

import configparser
import json
import shlex

import pytest
import yaml
from render_state import provision

from analytics_provisioner.handler import invoke
from analytics_provisioner.naming import Names
from analytics_provisioner.phases import render
from upstream import RELEASES, branch

# Keys of stored secrets that are not secret (identifiers, endpoints): never looked for.
NOT_SECRET = {"host", "port", "username", "user_name", "key_name", "key_pair_id", "access_key_id"}


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, item.get("id", index) if isinstance(item, dict) else index))
    elif isinstance(value, str):
        yield path, value


def file_leaves(name: str, text: str):
    if name.endswith(".yml"):
        yield from leaves(yaml.load(text, Loader=_Loader))  # noqa: S506  # a SafeLoader subclass
    elif name.endswith("_creds") or name.endswith(".json"):
        yield from leaves(json.loads(text))
    elif name.endswith(".cfg"):
        parser = configparser.RawConfigParser()
        parser.read_string(text)
        yield from (((section, option), parser.get(section, option)) for section in parser.sections() for option in parser.options(section))
    elif name.endswith("jenkins_env"):
        yield from (
            (tuple(line.split()[1].split("=")[:1]), shlex.split(line)[1].split("=", 1)[1])
            for line in text.splitlines()
            if line.startswith("export ")
        )
    yield ("<whole file>",), text.strip()


def stored_values(aws, secret_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Every secret string kept for the deployment and its inputs -> (secret name, key)."""
    sm, found = aws.client("secretsmanager"), {}
    for secret_id in secret_ids:
        described = sm.describe_secret(SecretId=secret_id)
        for key, value in json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"]).items():
            if key not in NOT_SECRET and isinstance(value, str):
                assert value.strip() not in found, (
                    f"{described['Name']}.{key} repeats {found.get(value.strip())}: the check needs distinct values"
                )
                found[value.strip()] = (described["Name"], key)
    return found


def expected_places(release: str, names: Names, migration: str) -> dict:
    app, db, ro, key_pair = (
        names.app_secrets_secret,
        names.analytics_db_secret,
        names.edxapp_ro_db_secret,
        names.key_pair_secret(names.analytics_key_pair),
    )
    deploy_key = names.key_pair_secret(names.jenkins_deploy_key_pair)
    vars_file = {
        ("COMMON_MYSQL_MIGRATE_PASS",): (migration, "password"),
        **{
            path: (db, "password")
            for path in [
                ("ANALYTICS_MYSQL_PASSWORD",),
                ("ANALYTICS_API_DEFAULT_PASSWORD",),
                ("ANALYTICS_API_REPORTS_PASSWORD",),
                ("INSIGHTS_DATABASE_PASSWORD",),
                ("ANALYTICS_API_DATABASES", "default", "PASSWORD"),
                ("ANALYTICS_API_DATABASES", "reports", "PASSWORD"),
                ("INSIGHTS_DATABASES", "default", "PASSWORD"),
            ]
        },
        ("ANALYTICS_API_SECRET_KEY",): (app, "api_secret_key"),
        ("INSIGHTS_SECRET_KEY",): (app, "insights_secret_key"),
        ("COMMON_JWT_SECRET_KEY",): (app, "api_jwt_secret_key"),
        ("ANALYTICS_API_AUTH_TOKEN",): (app, "api_auth_token"),
        ("ANALYTICS_API_USERS", "insights"): (app, "api_auth_token"),
        ("INSIGHTS_DATA_API_AUTH_TOKEN",): (app, "api_auth_token"),
        ("ANALYTICS_API_ELASTICSEARCH_AWS_SECRET_ACCESS_KEY",): (names.es_user_key_secret, "secret_access_key"),
        ("ANALYTICS_API_REPORT_DOWNLOAD_BACKEND", "AWS_SECRET_ACCESS_KEY"): (names.reports_user_key_secret, "secret_access_key"),
        ("JENKINS_ANALYTICS_CREDENTIALS", "ssh-access-key", "privatekey"): (key_pair, "private_key"),
        ("JENKINS_ANALYTICS_CREDENTIALS", "github-deploy-key", "privatekey"): (deploy_key, "private_key"),
        ("JENKINS_ANALYTICS_USER_PASSWORD_PLAIN",): (app, "jenkins_password"),
    }
    if release == "ironwood":
        vars_file |= {("INSIGHTS_OAUTH2_KEY",): (app, "sso_client_id"), ("INSIGHTS_OAUTH2_SECRET",): (app, "sso_client_secret")}
    else:
        vars_file |= {
            ("INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_KEY",): (app, "sso_client_id"),
            ("INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_SECRET",): (app, "sso_client_secret"),
            ("INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_KEY",): (app, "backend_client_id"),
            ("INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_SECRET",): (app, "backend_client_secret"),
        }
    return {
        **{("vars-analytics.yml", *path): where for path, where in vars_file.items()},
        ("analytics-tasks/analytics-override.cfg", "edx-rest-api", "client_id"): (app, "backend_client_id"),
        ("analytics-tasks/analytics-override.cfg", "edx-rest-api", "client_secret"): (app, "backend_client_secret"),
        ("analytics-tasks/edxanalytics_creds", "password"): (db, "password"),
        ("analytics-tasks/edxapp_creds", "password"): (ro, "password"),
        ("analytics.pem", "<whole file>"): (key_pair, "private_key"),
    }


@pytest.mark.parametrize("release", RELEASES)
def test_every_rendered_secret_is_its_stored_value_and_sits_only_where_it_belongs(aws, full_input, release):
    full_input["options"]["openedx_release"] = branch(release)
    state = provision(aws, full_input)
    invoke(render.run, state)
    names, s3 = Names(full_input["deployment_id"]), aws.client("s3")
    listed = aws.client("secretsmanager").list_secrets()["SecretList"]
    values = stored_values(aws, [secret["ARN"] for secret in listed])
    found = {}
    for item in s3.list_objects_v2(Bucket=aws.secure_repo_bucket, Prefix=names.secure_repo_prefix)["Contents"]:
        name = item["Key"][len(names.secure_repo_prefix) :]
        text = s3.get_object(Bucket=aws.secure_repo_bucket, Key=item["Key"])["Body"].read().decode()
        for path, value in file_leaves(name, text):
            if value.strip() in values:
                found[(name, *path)] = values[value.strip()]
    assert found == expected_places(release, names, full_input["edxapp"]["migration_secret_id"])
