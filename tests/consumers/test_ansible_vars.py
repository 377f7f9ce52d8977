"""ansible-core loads vars-analytics.yml as extra vars; a play asserts what the insights and analytics_api roles read."""

import hashlib
import json

import pytest
import yaml
from secure_repo import run_ansible

RELEASES = ["open-release/ironwood.master", "open-release/koa.master", "open-release/nutmeg.master"]
DATABASES = {("ANALYTICS_API_DATABASES", "default"): "analytics-api", ("ANALYTICS_API_DATABASES", "reports"): "reports",
             ("INSIGHTS_DATABASES", "default"): "dashboard"}
GRANULAR = {"ANALYTICS_API_DEFAULT": ("ANALYTICS_API_DEFAULT_DB_NAME", "analytics-api"),
            "ANALYTICS_API_REPORTS": ("ANALYTICS_API_REPORTS_DB_NAME", "reports"),
            "INSIGHTS_DATABASE": ("INSIGHTS_DATABASE_NAME", "dashboard")}
OIDC_KEYS = ["INSIGHTS_OAUTH2_KEY", "INSIGHTS_OAUTH2_SECRET", "INSIGHTS_OAUTH2_URL_ROOT", "INSIGHTS_OIDC_LOGOUT_URL", "jenkins_version"]
OAUTH2_KEYS = ["INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_KEY", "INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_SECRET", "INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_KEY",
               "INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_SECRET", "INSIGHTS_OAUTH2_URL_LOGOUT", "JENKINS_VERSION"]


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def expected_values(ctx) -> dict:
    """What the created resources are, independent of the file; secrets only as hashes (they may look like Jinja)."""
    db = ctx.analytics_db
    return {"expected": {
        "db": {"host": db.host, "port": db.port, "user": db.username, "password_sha256": sha256(db.password)},
        "migration": {"user": ctx.migration_user, "password_sha256": sha256(ctx.migration_password)},
        "es": {"url": f"https://{ctx.es_endpoint}", "region": ctx.region, "key_id": ctx.es_key.access_key_id,
               "secret_sha256": sha256(ctx.es_key.secret_access_key)},
        "reports": {"bucket": ctx.buckets.reports, "backend": ctx.release.report_storage_backend,
                    "key_id": ctx.reports_key.access_key_id, "secret_sha256": sha256(ctx.reports_key.secret_access_key)},
        "token_sha256": sha256(ctx.app.api_auth_token),
        "sso_sha256": [sha256(ctx.app.sso_client_id), sha256(ctx.app.sso_client_secret)],
        "backend_sha256": [sha256(ctx.app.backend_client_id), sha256(ctx.app.backend_client_secret)],
        "lms_url": ctx.lms_url, "cms_url": ctx.cms_url, "insights_url": ctx.insights_url,
        "private_key_sha256": sha256(ctx.analytics_private_key),
    }}


def database_checks() -> list[str]:
    checks = []
    for (variable, alias), name in DATABASES.items():
        db = f"{variable}['{alias}']"
        checks += [f"{db}.NAME == '{name}'", f"{db}.ENGINE == 'django.db.backends.mysql'", f"{db}.HOST == expected.db.host",
                   f"{db}.PORT == expected.db.port", f"{db}.USER == expected.db.user",
                   f"{db}.PASSWORD | hash('sha256') == expected.db.password_sha256"]
    for prefix, (name_variable, name) in GRANULAR.items():
        checks += [f"{name_variable} == '{name}'", f"{prefix}_HOST == expected.db.host", f"{prefix}_PORT == expected.db.port",
                   f"{prefix}_USER == expected.db.user", f"{prefix}_PASSWORD | hash('sha256') == expected.db.password_sha256"]
    return checks + ["ANALYTICS_MYSQL_HOST == expected.db.host", "ANALYTICS_MYSQL_USER == expected.db.user",
                     "COMMON_MYSQL_MIGRATE_USER == expected.migration.user",
                     "COMMON_MYSQL_MIGRATE_PASS | hash('sha256') == expected.migration.password_sha256"]


def release_checks(release: str) -> list[str]:
    present, absent = (OIDC_KEYS, OAUTH2_KEYS) if "ironwood" in release else (OAUTH2_KEYS, OIDC_KEYS)
    checks = [f"{key} is defined" for key in present] + [f"{key} is not defined" for key in absent]
    if "ironwood" in release:
        return checks + ["[INSIGHTS_OAUTH2_KEY | hash('sha256'), INSIGHTS_OAUTH2_SECRET | hash('sha256')] == expected.sso_sha256",
                         "INSIGHTS_OAUTH2_URL_ROOT == expected.lms_url ~ '/oauth2'"]
    return checks + [
        "[INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_KEY | hash('sha256'), INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_SECRET | hash('sha256')] == expected.sso_sha256",
        "[INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_KEY | hash('sha256'), INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_SECRET | hash('sha256')] == expected.backend_sha256",
        "INSIGHTS_OAUTH2_URL_LOGOUT == expected.lms_url ~ '/logout'",
    ]


def playbook(release: str) -> list[dict]:
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "switches, site and release", "assert": {"quiet": True, "that": [
            "SANDBOX_ENABLE_ANALYTICS_API is sameas true", "SANDBOX_ENABLE_INSIGHTS is sameas true",
            "SANDBOX_ENABLE_ANALYTICS_PIPELINE is sameas false", f"OPENEDX_RELEASE == '{release}'",
            "EDXAPP_LMS_BASE_SCHEME == 'https'", "EDXAPP_LMS_BASE ~ '' == expected.lms_url | urlsplit('hostname')",
        ]}},
        {"name": "databases agree with the analytics server", "assert": {"quiet": True, "that": database_checks()}},
        {"name": "Elasticsearch agrees with the domain and its IAM user", "assert": {"quiet": True, "that": [
            "ANALYTICS_API_ELASTICSEARCH_LEARNERS_HOST == expected.es.url",
            "ANALYTICS_API_ELASTICSEARCH_CONNECTION_DEFAULT_REGION == expected.es.region",
            "ANALYTICS_API_ELASTICSEARCH_AWS_ACCESS_KEY_ID == expected.es.key_id",
            "ANALYTICS_API_ELASTICSEARCH_AWS_SECRET_ACCESS_KEY | hash('sha256') == expected.es.secret_sha256",
            "ANALYTICS_API_ELASTICSEARCH_CONNECTION_CLASS == 'analytics_data_api.v0.connections.BotoHttpConnection'",
            "ANALYTICS_API_ELASTICSEARCH_LEARNERS_INDEX == 'roster_1_2'",
            "ANALYTICS_API_ELASTICSEARCH_LEARNERS_UPDATE_INDEX == 'index_updates'",
        ]}},
        {"name": "report downloads agree with the reports bucket and user", "assert": {"quiet": True, "that": [
            "ANALYTICS_API_REPORT_DOWNLOAD_BACKEND.AWS_STORAGE_BUCKET_NAME == expected.reports.bucket",
            "ANALYTICS_API_REPORT_DOWNLOAD_BACKEND.DEFAULT_FILE_STORAGE == expected.reports.backend",
            "ANALYTICS_API_REPORT_DOWNLOAD_BACKEND.AWS_ACCESS_KEY_ID == expected.reports.key_id",
            "ANALYTICS_API_REPORT_DOWNLOAD_BACKEND.AWS_SECRET_ACCESS_KEY | hash('sha256') == expected.reports.secret_sha256",
            "ANALYTICS_API_REPORT_DOWNLOAD_BACKEND.COURSE_REPORT_DOWNLOAD_EXPIRY_TIME == 120",
        ]}},
        {"name": "API token shared by the API and Insights", "assert": {"quiet": True, "that": [
            "ANALYTICS_API_AUTH_TOKEN | hash('sha256') == expected.token_sha256",
            "ANALYTICS_API_USERS.values() | list | map('hash', 'sha256') | list == [expected.token_sha256]",
            "INSIGHTS_DATA_API_AUTH_TOKEN == ANALYTICS_API_AUTH_TOKEN", "ANALYTICS_API_SECRET_KEY | length >= 50",
        ]}},
        {"name": "Insights site, ports and login", "assert": {"quiet": True, "that": [
            "INSIGHTS_LMS_BASE == expected.lms_url", "INSIGHTS_CMS_BASE == expected.cms_url", "INSIGHTS_BASE_URL == expected.insights_url",
            "INSIGHTS_LMS_COURSE_SHORTCUT_BASE_URL == expected.lms_url ~ '/courses'",
            "INSIGHTS_CMS_COURSE_SHORTCUT_BASE_URL == expected.cms_url ~ '/course'",
            "INSIGHTS_NGINX_PORT == 80", "INSIGHTS_NGINX_SSL_PORT == 443", "INSIGHTS_ENABLE_AUTO_AUTH is sameas false",
            "INSIGHTS_SECRET_KEY | length >= 50", *release_checks(release),
        ]}},
        {"name": "Jenkins SSH credential for EMR", "assert": {"quiet": True, "that": [
            "JENKINS_ANALYTICS_CREDENTIALS | length == 1",
            "JENKINS_ANALYTICS_CREDENTIALS[0].username == 'hadoop'", "JENKINS_ANALYTICS_CREDENTIALS[0].type == 'ssh-private-key'",
            "JENKINS_ANALYTICS_CREDENTIALS[0].scope == 'GLOBAL'",
            "JENKINS_ANALYTICS_CREDENTIALS[0].privatekey | hash('sha256') == expected.private_key_sha256",
        ]}},
        # The roles compose their settings from these variables with templates; a value is rendered once
        # more that way, and must come out unchanged (the passwords here contain '{{ x }}').
        {"name": "compose the way the roles' defaults do", "set_fact": {"role_view": {
            "db_password": "{{ ANALYTICS_API_DEFAULT_PASSWORD }}", "databases": "{{ INSIGHTS_DATABASES }}",
            "migrate_pass": "{{ COMMON_MYSQL_MIGRATE_PASS }}"}}},
        {"name": "composed values are unchanged", "assert": {"quiet": True, "that": [
            "role_view.db_password | hash('sha256') == expected.db.password_sha256",
            "role_view.databases.default.PASSWORD | hash('sha256') == expected.db.password_sha256",
            "role_view.migrate_pass | hash('sha256') == expected.migration.password_sha256",
        ]}},
    ]}]


@pytest.mark.parametrize("release", RELEASES)
def test_roles_variables_load_and_agree_with_the_resources(render_repo, tmp_path, release):
    repo = render_repo(release)
    assert "{{ x }}" in repo.ctx.analytics_db.password  # the hostile value really is in play
    play, expected = tmp_path / "play.yml", tmp_path / "expected.json"
    play.write_text(yaml.safe_dump(playbook(release), sort_keys=False))
    expected.write_text(json.dumps(expected_values(repo.ctx)))
    result = run_ansible(play, [repo.path("vars-analytics.yml"), expected], tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "failed=0" in result.stdout and "ok=9" in result.stdout


def test_the_play_fails_when_a_value_disagrees(render_repo, tmp_path):
    """The assertions bite: a different database host is caught."""
    repo = render_repo()
    wrong = expected_values(repo.ctx)
    wrong["expected"]["db"]["host"] = "another-server.example.org"
    play, expected = tmp_path / "play.yml", tmp_path / "expected.json"
    play.write_text(yaml.safe_dump(playbook("open-release/nutmeg.master"), sort_keys=False))
    expected.write_text(json.dumps(wrong))
    result = run_ansible(play, [repo.path("vars-analytics.yml"), expected], tmp_path)
    assert result.returncode != 0 and "ANALYTICS_API_DATABASES['default'].HOST == expected.db.host" in result.stdout
