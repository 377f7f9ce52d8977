"""The renderers as pure functions of a context: key names per release, agreement between files, no secret where it must not be."""

import configparser
import json
from pathlib import Path

import pytest
import yaml

from analytics_provisioner.deployment import schema
from analytics_provisioner.errors import InputError
from analytics_provisioner.render import (
    FILES,
    PIPELINE_CREDS,
    creds,
    emr_vars,
    jenkins,
    jenkins_env,
    manifest,
    override_cfg,
    render_files,
    vars_analytics,
)
from analytics_provisioner.render.context import AccessKey, AppSecrets, Buckets, DbLogin, EmrSettings, Pipeline, RenderContext, Scheduler
from analytics_provisioner.render.releases import ES_HOSTS_JSON_URLS, RELEASES, for_release
from testkit import load_event

PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0test\n-----END RSA PRIVATE KEY-----\n"
DEPLOY_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAdeploy\nKEY\n-----END RSA PRIVATE KEY-----\n"
DEPLOY_PUBLIC_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDdeploy acme-prod-jenkins-deploy"


def make_context(release="open-release/nutmeg.master", reports=True, **changes) -> RenderContext:
    ctx = RenderContext(
        deployment_id="acme-prod",
        region="eu-west-1",
        release=for_release(release),
        lms_host="lms.acme.org",
        cms_host="studio.acme.org",
        scheme="https",
        contact_email="ops@acme.org",
        migration_user="edxapp001",
        migration_password="migr#ate:%pass",
        analytics_db=DbLogin("acme-prod-analytics.abc.eu-west-1.rds.amazonaws.com", "3306", "analytics", "an'al\"ytics"),
        edxapp_ro_db=DbLogin("acme-edxapp-db.abc.eu-west-1.rds.amazonaws.com", "3306", "edxapp_ro", "read-only-pw"),
        es_endpoint="search-acme-prod-analytics-es-xyz.eu-west-1.es.amazonaws.com",
        es_key=AccessKey("AKIAESESESESESESESES", "es/secret+key"),
        reports_key=AccessKey("AKIAREPORTSREPORTSRE", "reports/secret+key") if reports else None,
        app=AppSecrets.generate(),
        buckets=Buckets(
            "acme-prod-analytics-emr",
            "acme-prod-analytics-emr-logs",
            "acme-prod-edxanalytics",
            "acme-prod-edxanalytics-hadoop",
            "acme-prod-tracking-logs",
            "acme-prod-analytics-api-reports" if reports else None,
            "acme-prod-edxapp",
        ),
        emr=EmrSettings("acme-prod-emr-ec2", "acme-prod-analytics", "subnet-0abc1234", "emr-4.7.2", "acme-prod-analytics"),
        pipeline=Pipeline(
            "https://github.com/openedx/edx-analytics-pipeline.git",
            "master",
            "https://github.com/openedx/edx-analytics-configuration.git",
            "master",
        ),
        analytics_private_key=PRIVATE_KEY,
        insights_public_ip="203.0.113.10",
        scheduler=Scheduler(
            DEPLOY_KEY, DEPLOY_PUBLIC_KEY, "git@github.com:acme/analytics-secure.git", "main", "10.0.1.10", "198.51.100.20"
        ),
    )
    return ctx._replace(**changes)


def secret_values(ctx: RenderContext) -> list[str]:
    found = [
        ctx.migration_password,
        ctx.analytics_db.password,
        ctx.edxapp_ro_db.password,
        ctx.es_key.secret_access_key,
        ctx.analytics_private_key.splitlines()[1],
        ctx.scheduler.deploy_key.splitlines()[1],
        *ctx.app.as_dict().values(),
    ]
    return found + ([ctx.reports_key.secret_access_key] if ctx.reports_key else [])


def vars_of(ctx) -> dict:
    return yaml.safe_load(vars_analytics.render(ctx))


def override_of(ctx) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=configparser.BasicInterpolation())
    parser.read_string(override_cfg.render(ctx))
    return parser


def test_every_release_the_schema_accepts_has_its_key_choices():
    assert set(schema()["properties"]["options"]["properties"]["openedx_release"]["enum"]) == set(RELEASES)
    with pytest.raises(InputError, match="options.openedx_release: 'open-release/olive.master'"):
        for_release("open-release/olive.master")


def test_ironwood_uses_the_oidc_keys_and_lowercase_jenkins_version():
    ctx = make_context("open-release/ironwood.master")
    variables = vars_of(ctx)
    assert variables["INSIGHTS_OAUTH2_KEY"] == ctx.app.sso_client_id
    assert variables["INSIGHTS_OAUTH2_SECRET"] == ctx.app.sso_client_secret
    assert variables["INSIGHTS_OAUTH2_URL_ROOT"] == "https://lms.acme.org/oauth2"
    assert variables["INSIGHTS_OIDC_LOGOUT_URL"] == "https://lms.acme.org/logout"
    assert not any(key.startswith(("INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2", "INSIGHTS_BACKEND_SERVICE")) for key in variables)
    assert variables["jenkins_version"] and "JENKINS_VERSION" not in variables


@pytest.mark.parametrize("release", ["open-release/juniper.master", "open-release/koa.master", "open-release/nutmeg.master"])
def test_juniper_and_later_use_the_edx_oauth2_keys_and_uppercase_jenkins_version(release):
    ctx = make_context(release)
    variables = vars_of(ctx)
    assert variables["INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_KEY"] == ctx.app.sso_client_id
    assert variables["INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_SECRET"] == ctx.app.sso_client_secret
    assert variables["INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_KEY"] == ctx.app.backend_client_id
    assert variables["INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_SECRET"] == ctx.app.backend_client_secret
    assert variables["INSIGHTS_OAUTH2_URL_LOGOUT"] == "https://lms.acme.org/logout"
    assert "INSIGHTS_OAUTH2_KEY" not in variables and "INSIGHTS_OIDC_LOGOUT_URL" not in variables
    assert variables["JENKINS_VERSION"] and "jenkins_version" not in variables
    assert variables["ANALYTICS_API_REPORT_DOWNLOAD_BACKEND"]["DEFAULT_FILE_STORAGE"] == "storages.backends.s3boto3.S3Boto3Storage"
    assert ("INSIGHTS_CONFIG" in variables) == (release == "open-release/juniper.master")


@pytest.mark.parametrize(
    "release, host",
    [
        ("open-release/ironwood.master", ["https://search-acme-prod-analytics-es-xyz.eu-west-1.es.amazonaws.com"]),
        ("open-release/koa.master", ["https://search-acme-prod-analytics-es-xyz.eu-west-1.es.amazonaws.com"]),
        ("open-release/lilac.master", ["https://search-acme-prod-analytics-es-xyz.eu-west-1.es.amazonaws.com"]),
        ("open-release/maple.master", "search-acme-prod-analytics-es-xyz.eu-west-1.es.amazonaws.com"),
        ("open-release/nutmeg.master", "search-acme-prod-analytics-es-xyz.eu-west-1.es.amazonaws.com"),
    ],
)
def test_pipeline_elasticsearch_host_format_follows_the_release(release, host):
    value = override_of(make_context(release)).get("elasticsearch", "host")
    assert (json.loads(value) if isinstance(host, list) else value) == host


def test_the_three_database_forms_agree_with_the_analytics_login():
    ctx = make_context()
    variables, db = vars_of(ctx), ctx.analytics_db
    expected = {"USER": db.username, "PASSWORD": db.password, "HOST": db.host, "PORT": db.port, "ENGINE": "django.db.backends.mysql"}
    assert variables["ANALYTICS_API_DATABASES"]["default"] | expected == variables["ANALYTICS_API_DATABASES"]["default"]
    assert variables["ANALYTICS_API_DATABASES"]["default"]["NAME"] == variables["ANALYTICS_API_DEFAULT_DB_NAME"] == "analytics-api"
    assert variables["ANALYTICS_API_DATABASES"]["reports"]["NAME"] == variables["ANALYTICS_API_REPORTS_DB_NAME"] == "reports"
    assert variables["INSIGHTS_DATABASES"]["default"]["NAME"] == variables["INSIGHTS_DATABASE_NAME"] == "dashboard"
    for prefix in ("ANALYTICS_API_DEFAULT", "ANALYTICS_API_REPORTS"):
        assert [variables[f"{prefix}_{k}"] for k in ("USER", "PASSWORD", "HOST", "PORT")] == [db.username, db.password, db.host, db.port]
    assert [variables[f"INSIGHTS_DATABASE_{k}"] for k in ("USER", "PASSWORD", "HOST", "PORT")] == [
        db.username,
        db.password,
        db.host,
        db.port,
    ]
    assert [variables[f"ANALYTICS_MYSQL_{k}"] for k in ("USER", "PASSWORD", "HOST")] == [db.username, db.password, db.host]


def test_api_token_elasticsearch_and_ports():
    ctx = make_context()
    variables = vars_of(ctx)
    assert variables["ANALYTICS_API_USERS"] == {"insights": ctx.app.api_auth_token}
    assert variables["INSIGHTS_DATA_API_AUTH_TOKEN"] == variables["ANALYTICS_API_AUTH_TOKEN"] == ctx.app.api_auth_token
    assert variables["ANALYTICS_API_ELASTICSEARCH_LEARNERS_HOST"] == f"https://{ctx.es_endpoint}"
    assert variables["ANALYTICS_API_ELASTICSEARCH_CONNECTION_DEFAULT_REGION"] == "eu-west-1"
    assert variables["ANALYTICS_API_ELASTICSEARCH_AWS_SECRET_ACCESS_KEY"] == ctx.es_key.secret_access_key
    assert (variables["INSIGHTS_NGINX_PORT"], variables["INSIGHTS_NGINX_SSL_PORT"]) == (80, 443)
    assert variables["INSIGHTS_SOCIAL_AUTH_REDIRECT_IS_HTTPS"] is False
    assert variables["SANDBOX_ENABLE_ANALYTICS_PIPELINE"] is False
    credential = next(c for c in variables["JENKINS_ANALYTICS_CREDENTIALS"] if c["id"] == "ssh-access-key")
    assert credential["username"] == "hadoop" and credential["privatekey"] == PRIVATE_KEY and credential["scope"] == "GLOBAL"


def test_without_reports_there_is_no_report_backend():
    ctx = make_context(reports=False)
    assert "ANALYTICS_API_REPORT_DOWNLOAD_BACKEND" not in vars_of(ctx)
    assert not any("ProblemResponseReportWorkflow" in step for step in manifest.next_steps(ctx, "arn:app", "s3://repo/acme-prod/"))


def test_report_backend_points_at_the_reports_bucket_with_the_reports_key():
    backend = vars_of(make_context())["ANALYTICS_API_REPORT_DOWNLOAD_BACKEND"]
    assert backend["AWS_STORAGE_BUCKET_NAME"] == "acme-prod-analytics-api-reports"
    assert (backend["AWS_ACCESS_KEY_ID"], backend["AWS_SECRET_ACCESS_KEY"]) == ("AKIAREPORTSREPORTSRE", "reports/secret+key")
    assert backend["COURSE_REPORT_FILE_LOCATION_TEMPLATE"] == "/{course_id}_{report_name}.csv"


def test_creds_files_are_exactly_the_four_keys_with_a_string_port():
    ctx = make_context()
    for render, login in ((creds.render_edxapp, ctx.edxapp_ro_db), (creds.render_edxanalytics, ctx.analytics_db)):
        assert json.loads(render(ctx)) == {"host": login.host, "port": "3306", "username": login.username, "password": login.password}


def test_override_points_at_the_uploaded_creds_and_the_apis_index():
    ctx = make_context()
    parser = override_of(ctx)
    uploaded = {f"s3://{ctx.buckets.edxanalytics}/{key}" for key in PIPELINE_CREDS.values()}
    assert {parser.get("database-import", "credentials"), parser.get("database-export", "credentials")} == uploaded
    assert parser.get("module-engagement", "alias") == vars_of(ctx)["ANALYTICS_API_ELASTICSEARCH_LEARNERS_INDEX"]
    assert (
        parser.get("hive", "warehouse_path")
        == parser.get("database-import", "destination")
        == "s3://acme-prod-edxanalytics-hadoop/warehouse/hive/"
    )
    assert parser.get("manifest", "lib_jar") == "s3://acme-prod-analytics-emr/edx-analytics-hadoop-util.jar"
    assert json.loads(parser.get("event-logs", "source")) == ["s3://acme-prod-tracking-logs/logs/tracking/"]
    assert parser.get("edx-rest-api", "client_id") == ctx.app.backend_client_id


def test_emr_vars_has_the_keys_provision_yml_reads():
    ctx = make_context()
    variables = yaml.safe_load(emr_vars.render(ctx))
    assert set(variables) == {
        "name",
        "region",
        "keypair_name",
        "vpc_subnet_id",
        "role",
        "log_uri",
        "release_label",
        "instance_groups",
        "applications",
        "configurations",
        "steps",
    }
    assert variables["name"] == "{{ lookup('env', 'CLUSTER_NAME') }}"
    assert (variables["role"], variables["keypair_name"], variables["vpc_subnet_id"]) == (
        "acme-prod-emr-ec2",
        "acme-prod-analytics",
        "subnet-0abc1234",
    )
    assert variables["log_uri"] == "s3://acme-prod-analytics-emr-logs/logs/" and variables["region"] == "eu-west-1"
    assert set(variables["instance_groups"]) == {"master", "core", "task"}
    assert variables["steps"] == [
        {
            "type": "script",
            "name": "Install MySQL connector for Sqoop",
            "action_on_failure": "TERMINATE_JOB_FLOW",
            "step_args": ["s3://acme-prod-analytics-emr/install-sqoop", "s3://acme-prod-analytics-emr"],
        }
    ]


def test_jenkins_env_names_the_cluster_and_buckets_and_holds_no_secret():
    ctx = make_context()
    document = jenkins_env.render(ctx)
    for value in secret_values(ctx):
        assert value not in document
    assert "export CLUSTER_NAME=acme-prod-analytics" in document
    assert "export EXTRA_VARS=@/home/jenkins/emr-vars.yml" in document
    assert "export SCRIPT_RUNNER_JAR_S3_URL=s3://eu-west-1.elasticmapreduce/libs/script-runner/script-runner.jar" in document
    assert "export EDXAPP_S3_BUCKET=acme-prod-edxapp" in document
    assert "EDXAPP_S3_BUCKET" not in jenkins_env.render(make_context(buckets=ctx.buckets._replace(grades=None)))


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_no_role_default_or_placeholder_survives(release):
    """Only the services on the instance itself are local: memcached, and no outside mail server."""
    for name, text in render_files(make_context(release)).items():
        text = text.replace("- localhost:11211\n", "").replace("INSIGHTS_EMAIL_HOST: localhost\n", "")
        for placeholder in (
            "changeme",
            "YOUR_",
            "put-your",
            "example.com",
            "127.0.0.1",
            "localhost",
            "<client",
            "<your",
            "TODO",
            "xxx",
            "None",
        ):
            assert placeholder not in text, f"{name} contains {placeholder!r}"


def test_manifest_and_next_steps_hold_no_secret_and_name_the_oauth2_clients():
    ctx = make_context("open-release/ironwood.master")
    steps = manifest.next_steps(ctx, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app", "s3://repo/acme-prod/")
    document = manifest.render(
        ctx,
        [{"path": "vars-analytics.yml", "uri": "s3://repo/acme-prod/vars-analytics.yml", "version_id": "v1"}],
        ["s3://acme-prod-edxanalytics/edxapp_creds"],
        steps,
        manifest.warnings(ctx),
    )
    for value in secret_values(ctx):
        assert value not in document
    assert any("create_oauth2_client http://203.0.113.10 http://203.0.113.10/complete/edx-oidc/" in step for step in steps)
    assert any("s3://acme-prod-analytics-emr/" in step and "install-sqoop" in step for step in steps)
    assert json.loads(document)["release_choices"]["oauth2"] == "oidc"


def test_jenkins_logs_in_through_the_unix_realm_with_the_generated_password_and_keeps_the_roles_credential_ids():
    ctx = make_context()
    variables = vars_of(ctx)
    assert (variables["JENKINS_ANALYTICS_AUTH_REALM"], variables["JENKINS_ANALYTICS_USER_PASSWORD_PLAIN"]) == (
        "unix",
        ctx.app.jenkins_password,
    )
    credentials = {credential["id"]: credential for credential in variables["JENKINS_ANALYTICS_CREDENTIALS"]}
    assert set(credentials) == {"github-deploy-key", "ssh-access-key"}
    assert (credentials["github-deploy-key"]["username"], credentials["github-deploy-key"]["privatekey"]) == ("git", DEPLOY_KEY)
    assert (variables["ANALYTICS_SCHEDULE_SECURE_REPO_URL"], variables["ANALYTICS_SCHEDULE_SECURE_REPO_VERSION"]) == (
        "git@github.com:acme/analytics-secure.git",
        "main",
    )
    assert variables["jenkins_nginx_port"] not in (80, 443, variables["INSIGHTS_NGINX_PORT"], variables["INSIGHTS_NGINX_SSL_PORT"])
    assert ctx.app.jenkins_password.isalnum() and len(ctx.app.jenkins_password) == 32


def test_without_a_secure_repo_the_next_steps_say_how_to_add_one_and_the_file_names_none():
    ctx = make_context(scheduler=make_context().scheduler._replace(secure_repo_url=None))
    assert "ANALYTICS_SCHEDULE_SECURE_REPO_URL" not in vars_of(ctx)
    steps = "\n".join(manifest.next_steps(ctx, "arn:app", "s3://repo/acme-prod/"))
    assert "seed job clones no secure repo yet" in steps and "start this input again with jenkins.secure_repo_url" in steps
    assert DEPLOY_PUBLIC_KEY in steps and "aws s3 cp --recursive s3://repo/acme-prod/ secure-repo/ --exclude manifest.json" in steps


def test_next_steps_take_the_operator_to_a_logged_in_jenkins():
    ctx = make_context()
    steps = manifest.next_steps(ctx, "arn:app", "s3://repo/acme-prod/")
    text = "\n".join(steps)
    assert "git clone git@github.com:acme/analytics-secure.git secure-repo" in text and "push origin HEAD:main" in text
    assert f"read-only deploy key (GitHub: the repository's Settings > Deploy keys): {DEPLOY_PUBLIC_KEY}" in text
    (login,) = [step for step in steps if step.startswith("Log in to Jenkins")]
    assert "--secret-id arn:app" in login and "jq -r .jenkins_password" in login
    assert "ssh -N -L 8080:localhost:8080 -J ubuntu@198.51.100.20 ubuntu@10.0.1.10" in login
    order = [
        next(i for i, step in enumerate(steps) if marker in step)
        for marker in ("Put the secure-repo files", "analytics-jenkins.yml", "Log in")
    ]
    assert order == sorted(order)
    assert jenkins.summary(ctx, "arn:app") == {
        "user": "jenkins",
        "password_secret_id": "arn:app",
        "password_secret_key": "jenkins_password",
        "deploy_public_key": DEPLOY_PUBLIC_KEY,
        "secure_repo_url": "git@github.com:acme/analytics-secure.git",
        "secure_repo_branch": "main",
    }


def test_a_port_other_than_3306_is_warned_about():
    ctx = make_context("open-release/lilac.master", edxapp_ro_db=DbLogin("h", "3307", "edxapp_ro", "pw"))
    assert manifest.warnings(ctx) == [
        "edxapp_creds: the server listens on 3307, but the pipeline's Sqoop import ignores the port and uses 3306"
    ]


def test_every_file_is_rendered_and_rendering_is_deterministic():
    ctx = make_context()
    assert (
        set(render_files(ctx))
        == set(FILES)
        == {
            "analytics.pem",
            "vars-analytics.yml",
            "analytics-tasks/jenkins_env",
            "analytics-tasks/emr-vars.yml",
            "analytics-tasks/analytics-override.cfg",
            "analytics-tasks/edxapp_creds",
            "analytics-tasks/edxanalytics_creds",
        }
    )
    assert render_files(ctx) == render_files(ctx)


def test_app_secrets_keep_stored_values_and_fill_gaps():
    stored = {"api_auth_token": "kept-token", "sso_client_id": "kept-id"}
    app = AppSecrets.completing(stored)
    assert (app.api_auth_token, app.sso_client_id) == ("kept-token", "kept-id")
    assert all(app.as_dict().values())
    fresh = AppSecrets.generate()
    assert len(fresh.api_auth_token) <= 40  # Django REST framework's Token.key
    assert fresh.sso_client_id.isalnum() and len(fresh.sso_client_secret) == 128
    assert fresh != AppSecrets.generate()


def test_every_row_of_the_release_table_cites_the_upstream_files_it_follows():
    for name, release in RELEASES.items():
        assert release.branch == name
        cited = "\n".join(release.sources)
        for path in (
            "playbooks/analytics_single.yml",
            "playbooks/roles/insights/defaults/main.yml",
            "edx/analytics/tasks/common/elasticsearch_load.py",
            "automation/run-automated-task.sh",
            "playbooks/roles/jenkins_analytics/defaults/main.yml",
            "playbooks/roles/jenkins_analytics/tasks/main.yml",
        ):
            assert f"@{name}:{path}" in cited
    assert "analytics_dashboard/settings/yaml_config.py" in "".join(RELEASES["open-release/juniper.master"].sources)
    assert "playbooks/analyticsapi.yml" in "".join(RELEASES["open-release/ironwood.master"].sources)


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_apps_pipeline_and_emr_playbooks_are_pinned_to_the_release(release):
    ctx = make_context(
        release,
        pipeline=Pipeline(
            "https://github.com/openedx/edx-analytics-pipeline.git",
            release,
            "https://github.com/openedx/edx-analytics-configuration.git",
            release,
        ),
    )
    variables = vars_of(ctx)
    assert variables["INSIGHTS_VERSION"] == variables["ANALYTICS_API_VERSION"] == release
    document = jenkins_env.render(ctx)
    assert f"export TASKS_BRANCH={release}" in document and f"export CONFIG_BRANCH={release}" in document


@pytest.mark.parametrize(
    "release, playbooks",
    [
        ("open-release/ironwood.master", ["analyticsapi.yml", "insights.yml"]),
        *[(f"open-release/{name}.master", ["analytics_single.yml"]) for name in ("juniper", "koa", "lilac", "maple", "nutmeg")],
    ],
)
def test_next_steps_name_the_releases_playbooks_with_the_file(release, playbooks):
    steps = "\n".join(manifest.next_steps(make_context(release), "arn:app", "s3://repo/acme-prod/"))
    for playbook in [*playbooks, "analytics-jenkins.yml"]:
        assert f"playbooks/{playbook} -e @vars-analytics.yml" in steps
    assert ("analytics_single.yml -e" in steps) == (playbooks == ["analytics_single.yml"])
    assert ("name=memcached" in steps) == (release == "open-release/ironwood.master")
    assert f"checked out at {release}" in steps


@pytest.mark.parametrize(
    "release, region, warned",
    [
        ("open-release/nutmeg.master", "eu-west-1", True),
        ("open-release/maple.master", "ap-south-1", True),
        ("open-release/nutmeg.master", "us-east-1", False),
        ("open-release/lilac.master", "eu-west-1", False),
        ("open-release/ironwood.master", "eu-west-1", False),
    ],
)
def test_a_pipeline_that_signs_for_another_region_is_reported(release, region, warned):
    """maple's and nutmeg's pipeline sign Elasticsearch requests for us-east-1; up to lilac boto 2 signs for the endpoint's region."""
    ctx = make_context(release, region=region)
    found = [w for w in manifest.warnings(ctx) if "learner index will not load" in w]
    assert bool(found) == warned
    if warned:
        assert region in found[0] and "us-east-1" in found[0] and "lilac" in found[0]


def test_the_readme_lists_each_releases_playbooks_branch_and_search_host_as_the_table_does():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for release in RELEASES.values():
        (row,) = [line for line in readme.splitlines() if line.startswith(f"| {release.name} |")]
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert [
            playbook for playbook in ("analytics_single.yml", "analyticsapi.yml", "insights.yml") if f"`{playbook}`" in cells[1]
        ] == list(release.app_playbooks)
        assert ("memcached" in cells[1]) == (not release.playbooks_install_memcached)
        assert cells[2] == "`analytics-jenkins.yml`" and cells[3] == f"`{release.branch}`"
        assert cells[4] == ('`["https://<endpoint>"]`' if release.es_host_format == ES_HOSTS_JSON_URLS else "`<endpoint>`")
        assert cells[5] == ("the domain's region" if release.es_signing_region is None else f"{release.es_signing_region} only")


@pytest.mark.parametrize(
    "release, region, warned",
    [
        ("open-release/nutmeg.master", "eu-west-1", True),
        ("open-release/nutmeg.master", "us-east-1", False),
        ("open-release/lilac.master", "eu-west-1", False),
    ],
)
def test_validate_warns_about_the_learner_index_before_anything_is_created(release, region, warned):
    from analytics_provisioner.phases import validate
    from analytics_provisioner.state import PreflightEdxappDb, PreflightNetwork
    from samples import resolved, sample

    document = load_event("input-minimal.json") | {"region": region}
    document["options"] = {"openedx_release": release}
    deployment = resolved(document, region, "vpc-1", es_instance_type="t3.small.search", es_engine_version="Elasticsearch_7.10")
    found = validate.warnings(
        deployment,
        sample(PreflightNetwork, dns_hostnames_enabled=True, vpc_id="vpc-1"),
        sample(PreflightEdxappDb, port=3306, vpc_id="vpc-1"),
    )
    assert any("learner index will not load" in warning for warning in found) == warned
