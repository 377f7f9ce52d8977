"""vars-analytics.yml as the configuration repo's roles use it, for every release.

ansible-core loads the file as extra vars on top of the roles' placeholder defaults, then composes the
apps' settings the way each release's roles do (the expressions in upstream.py) and asserts what
Insights, the Analytics API, their checkouts and the playbooks end up with (Jenkins: test_jenkins_role.py), against the values the
resources and the stored secrets hold (secrets compared as hashes: they may look like Jinja).
"""

import hashlib
import json
import re

import pytest
import yaml
from secure_repo import load_vars, run_ansible

from upstream import (
    API_SETTINGS,
    APP_CHECKOUTS,
    DEAD,
    INSIGHTS_SETTINGS,
    JUNIPER_INSIGHTS_CONFIG_KEYS,
    JUNIPER_ROLE_OAUTH2_PLACEHOLDERS,
    JUNIPER_ROLE_VARIABLES,
    MEMCACHE_ROLE_WHEN,
    PLACEHOLDER_DEFAULTS,
    READ_AT,
    RELEASES,
    RUNBOOK_NAMES,
    branch,
)

DATABASES = {
    ("ANALYTICS_API_DATABASES", "default"): "analytics-api",
    ("ANALYTICS_API_DATABASES", "reports"): "reports",
    ("INSIGHTS_DATABASES", "default"): "dashboard",
}
GRANULAR = {
    "ANALYTICS_API_DEFAULT": ("ANALYTICS_API_DEFAULT_DB_NAME", "analytics-api"),
    "ANALYTICS_API_REPORTS": ("ANALYTICS_API_REPORTS_DB_NAME", "reports"),
    "INSIGHTS_DATABASE": ("INSIGHTS_DATABASE_NAME", "dashboard"),
}
# The insights role's default for a variable its settings use and vars-analytics.yml may leave alone.
ROLE_DEFAULTS = {"INSIGHTS_OAUTH2_URL_ROOT": "{{ INSIGHTS_LMS_BASE }}/oauth2"}
JINJA_NAME = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\|\s*default)")  # a defaulted name need not exist


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def expected_values(ctx) -> dict:
    """What the created resources and stored secrets are, independent of the file; secrets only as hashes."""
    db, app = ctx.analytics_db, ctx.app
    return {
        "expected": {
            "branch": ctx.release.branch,
            "db": {"host": db.host, "port": db.port, "user": db.username, "password_sha256": sha256(db.password)},
            "migration": {"user": ctx.migration_user, "password_sha256": sha256(ctx.migration_password)},
            "es": {
                "url": f"https://{ctx.es_endpoint}",
                "region": ctx.region,
                "key_id": ctx.es_key.access_key_id,
                "secret_sha256": sha256(ctx.es_key.secret_access_key),
            },
            "reports": {
                "bucket": ctx.buckets.reports,
                "key_id": ctx.reports_key.access_key_id,
                "secret_sha256": sha256(ctx.reports_key.secret_access_key),
            },
            "app": {key: sha256(value) for key, value in app.as_dict().items()},
            "lms_url": ctx.lms_url,
            "cms_url": ctx.cms_url,
            "contact_email": ctx.contact_email,
        }
    }


def role_view(release: str) -> dict:
    """The settings each role writes for the apps, composed from the variables as that release's role does."""
    insights = INSIGHTS_SETTINGS[release] or "{{ INSIGHTS_CONFIG }}"  # juniper: the file's own INSIGHTS_CONFIG
    return {"insights": insights, "api": API_SETTINGS[release], "checkouts": APP_CHECKOUTS}


def database_checks() -> list[str]:
    checks = []
    for (variable, alias), name in DATABASES.items():
        db = f"{variable}['{alias}']"
        checks += [
            f"{db}.NAME == '{name}'",
            f"{db}.ENGINE == 'django.db.backends.mysql'",
            f"{db}.HOST == expected.db.host",
            f"{db}.PORT == expected.db.port",
            f"{db}.USER == expected.db.user",
            f"{db}.PASSWORD | hash('sha256') == expected.db.password_sha256",
        ]
    for prefix, (name_variable, name) in GRANULAR.items():
        checks += [
            f"{name_variable} == '{name}'",
            f"{prefix}_HOST == expected.db.host",
            f"{prefix}_PORT == expected.db.port",
            f"{prefix}_USER == expected.db.user",
            f"{prefix}_PASSWORD | hash('sha256') == expected.db.password_sha256",
        ]
    return checks + [
        "COMMON_MYSQL_MIGRATE_USER == expected.migration.user",
        "COMMON_MYSQL_MIGRATE_PASS | hash('sha256') == expected.migration.password_sha256",
        "view.insights.DATABASES.default.PASSWORD | hash('sha256') == expected.db.password_sha256",
        "view.api.DATABASES.reports.PASSWORD | hash('sha256') == expected.db.password_sha256",
    ]


def insights_login_checks(release: str) -> list[str]:
    if release == "ironwood":
        return [
            "view.insights.SOCIAL_AUTH_EDX_OIDC_KEY | hash('sha256') == expected.app.sso_client_id",
            "view.insights.SOCIAL_AUTH_EDX_OIDC_SECRET | hash('sha256') == expected.app.sso_client_secret",
            "view.insights.SOCIAL_AUTH_EDX_OIDC_ID_TOKEN_DECRYPTION_KEY | hash('sha256') == expected.app.sso_client_secret",
            "view.insights.SOCIAL_AUTH_EDX_OIDC_URL_ROOT == expected.lms_url ~ '/oauth2'",
            "view.insights.SOCIAL_AUTH_EDX_OIDC_LOGOUT_URL == expected.lms_url ~ '/logout'",
        ]
    return [
        "view.insights.SOCIAL_AUTH_EDX_OAUTH2_KEY | hash('sha256') == expected.app.sso_client_id",
        "view.insights.SOCIAL_AUTH_EDX_OAUTH2_SECRET | hash('sha256') == expected.app.sso_client_secret",
        "view.insights.BACKEND_SERVICE_EDX_OAUTH2_KEY | hash('sha256') == expected.app.backend_client_id",
        "view.insights.BACKEND_SERVICE_EDX_OAUTH2_SECRET | hash('sha256') == expected.app.backend_client_secret",
        "view.insights.SOCIAL_AUTH_EDX_OAUTH2_URL_ROOT == expected.lms_url",
        "view.insights.SOCIAL_AUTH_EDX_OAUTH2_ISSUER == expected.lms_url",
        "view.insights.SOCIAL_AUTH_EDX_OAUTH2_LOGOUT_URL == expected.lms_url ~ '/logout'",
        "view.insights.BACKEND_SERVICE_EDX_OAUTH2_PROVIDER_URL == expected.lms_url ~ '/oauth2'",
    ]


def playbook_checks(release: str) -> list[str]:
    if release == "ironwood":  # analytics_single.yml is not what the file is for at ironwood; nothing here reads the switches
        return ["SANDBOX_ENABLE_INSIGHTS is not defined", "EDXAPP_MEMCACHE is not defined", "migrate_db == 'yes'"]
    return [
        "SANDBOX_ENABLE_ANALYTICS_API is sameas true",
        "SANDBOX_ENABLE_INSIGHTS is sameas true",
        "SANDBOX_ENABLE_ANALYTICS_PIPELINE is sameas false",
        MEMCACHE_ROLE_WHEN,
        "migrate_db == 'yes'",
    ]


def playbook(release: str) -> list[dict]:
    alias = (
        ["view.api.ELASTICSEARCH_LEARNERS_INDEX_ALIAS == 'roster_1_2'"]
        if "ELASTICSEARCH_LEARNERS_INDEX_ALIAS" in API_SETTINGS[release]
        else []
    )
    return [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {"name": "compose the apps' settings the way the roles do", "set_fact": {"view": role_view(release)}},
                {
                    "name": "the apps are checked out at the release",
                    "assert": {"quiet": True, "that": ["view.checkouts.values() | unique | list == [expected.branch]"]},
                },
                {
                    "name": "the release's playbooks install what the runbook's topology needs",
                    "assert": {"quiet": True, "that": playbook_checks(release)},
                },
                {"name": "databases agree with the analytics server", "assert": {"quiet": True, "that": database_checks()}},
                {
                    "name": "Insights: its secrets, the API token and its login clients are the stored ones",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "view.insights.SECRET_KEY | hash('sha256') == expected.app.insights_secret_key",
                            "view.insights.DATA_API_AUTH_TOKEN | hash('sha256') == expected.app.api_auth_token",
                            "view.insights.SUPPORT_EMAIL == expected.contact_email",
                            *insights_login_checks(release),
                        ],
                    },
                },
                {
                    "name": "Insights: no placeholder service",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "view.insights.SEGMENT_IO_KEY is none",
                            "view.insights.CACHES.default.LOCATION == ['localhost:11211']",
                            "view.insights.EMAIL_HOST == 'localhost'",
                            "view.insights.EMAIL_HOST_PASSWORD == ''",
                            "view.insights.EMAIL_HOST_USER == ''",
                        ],
                    },
                },
                {
                    "name": "Analytics API: its secrets are the stored ones",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "view.api.SECRET_KEY | hash('sha256') == expected.app.api_secret_key",
                            "view.api.API_AUTH_TOKEN | hash('sha256') == expected.app.api_auth_token",
                            "ANALYTICS_API_USERS.values() | list | map('hash', 'sha256') | list == [expected.app.api_auth_token]",
                            "view.api.JWT_AUTH.JWT_ISSUERS[0].SECRET_KEY | hash('sha256') == expected.app.api_jwt_secret_key",
                            "view.api.JWT_AUTH.JWT_ISSUERS[0].AUDIENCE != 'SET-ME-PLEASE'",
                            "view.api.CACHES.default.LOCATION == ['localhost:11211']",
                        ],
                    },
                },
                {
                    "name": "no two of the generated secrets are the same",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "[view.insights.SECRET_KEY, view.api.SECRET_KEY, view.api.JWT_AUTH.JWT_ISSUERS[0].SECRET_KEY, view.api.API_AUTH_TOKEN] | unique | length == 4",
                        ],
                    },
                },
                {
                    "name": "Analytics API: Elasticsearch agrees with the domain and its IAM user",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "view.api.ELASTICSEARCH_LEARNERS_HOST == expected.es.url",
                            "view.api.ELASTICSEARCH_CONNECTION_DEFAULT_REGION == expected.es.region",
                            "view.api.ELASTICSEARCH_AWS_ACCESS_KEY_ID == expected.es.key_id",
                            "view.api.ELASTICSEARCH_AWS_SECRET_ACCESS_KEY | hash('sha256') == expected.es.secret_sha256",
                            "ANALYTICS_API_ELASTICSEARCH_CONNECTION_CLASS == 'analytics_data_api.v0.connections.BotoHttpConnection'",
                            "view.api.ELASTICSEARCH_LEARNERS_INDEX == 'roster_1_2'",
                            *alias,
                        ],
                    },
                },
                {
                    "name": "Analytics API: report downloads from the reports bucket with the reports user",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "view.api.REPORT_DOWNLOAD_BACKEND.AWS_STORAGE_BUCKET_NAME == expected.reports.bucket",
                            "view.api.REPORT_DOWNLOAD_BACKEND.DEFAULT_FILE_STORAGE == 'storages.backends.s3boto3.S3Boto3Storage'",
                            "view.api.REPORT_DOWNLOAD_BACKEND.AWS_S3_REGION_NAME == expected.es.region",
                            "view.api.REPORT_DOWNLOAD_BACKEND.AWS_ACCESS_KEY_ID == expected.reports.key_id",
                            "view.api.REPORT_DOWNLOAD_BACKEND.AWS_SECRET_ACCESS_KEY | hash('sha256') == expected.reports.secret_sha256",
                        ],
                    },
                },
                {
                    "name": "Insights' site and ports",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "INSIGHTS_LMS_BASE == expected.lms_url",
                            "INSIGHTS_LMS_COURSE_SHORTCUT_BASE_URL == expected.lms_url ~ '/courses'",
                            "INSIGHTS_CMS_COURSE_SHORTCUT_BASE_URL == expected.cms_url ~ '/course'",
                            "INSIGHTS_NGINX_PORT == 80",
                            "INSIGHTS_NGINX_SSL_PORT == 443",
                            "INSIGHTS_ENABLE_AUTO_AUTH is sameas false",
                        ],
                    },
                },
            ],
        }
    ]


def play_files(repo, release: str, tmp_path, expected: dict | None = None) -> list:
    """Lowest first: the roles' placeholder defaults (and juniper's own variables), the rendered file, the expectations."""
    defaults = PLACEHOLDER_DEFAULTS | ROLE_DEFAULTS | (JUNIPER_ROLE_VARIABLES if release == "juniper" else {})
    files = {"defaults.json": defaults, "expected.json": expected or expected_values(repo.ctx)}
    for name, content in files.items():
        (tmp_path / name).write_text(json.dumps(content))
    return [tmp_path / "defaults.json", repo.path("vars-analytics.yml"), tmp_path / "expected.json"]


@pytest.mark.parametrize("release", RELEASES)
def test_the_roles_compose_working_settings_for_every_release(render_repo, tmp_path, release):
    repo = render_repo(branch(release))
    assert "{{ x }}" in repo.ctx.analytics_db.password  # the hostile value really is in play
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump(playbook(release), sort_keys=False))
    result = run_ansible(play, play_files(repo, release, tmp_path), tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "failed=0" in result.stdout and f"ok={len(playbook(release)[0]['tasks'])}" in result.stdout


def test_the_play_fails_when_a_value_disagrees(render_repo, tmp_path):
    """The assertions bite: Insights given the API's Django secret key is caught."""
    repo = render_repo()
    wrong = expected_values(repo.ctx)
    wrong["expected"]["app"]["insights_secret_key"] = wrong["expected"]["app"]["api_secret_key"]
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump(playbook("nutmeg"), sort_keys=False))
    result = run_ansible(play, play_files(repo, "nutmeg", tmp_path, wrong), tmp_path)
    assert result.returncode != 0 and "view.insights.SECRET_KEY | hash('sha256') == expected.app.insights_secret_key" in result.stdout


def names_in(value) -> set[str]:
    """Variables a (nested) value's Jinja expressions refer to."""
    if isinstance(value, dict):
        return set().union(*map(names_in, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(names_in, value)) if value else set()
    return set(JINJA_NAME.findall(value)) if isinstance(value, str) else set()


@pytest.mark.parametrize("release", RELEASES)
def test_every_key_is_one_the_release_reads(render_repo, release):
    variables = load_vars(render_repo(branch(release)).path("vars-analytics.yml"))
    read_by_our_config = names_in(variables.get("INSIGHTS_CONFIG", {}))
    unread = {key for key in variables if release not in READ_AT.get(key, ()) and key not in read_by_our_config} - RUNBOOK_NAMES
    assert not unread, f"{release}: nothing reads {sorted(unread)}"
    assert not DEAD & set(variables)


def test_juniper_replaces_the_roles_insights_config_keeping_every_key(render_repo):
    """At juniper the role's INSIGHTS_CONFIG carries sandbox client placeholders; ours keeps every key of the role's
    and templates only variables that juniper's role or the file itself defines."""
    variables = load_vars(render_repo(branch("juniper")).path("vars-analytics.yml"))
    config = variables["INSIGHTS_CONFIG"]
    assert set(config) >= JUNIPER_INSIGHTS_CONFIG_KEYS
    assert not set(JUNIPER_ROLE_OAUTH2_PLACEHOLDERS) & set(config)
    assert not set(map(str, config.values())) & set(JUNIPER_ROLE_OAUTH2_PLACEHOLDERS.values())
    undefined = names_in(config) - set(JUNIPER_ROLE_VARIABLES) - set(variables)
    assert not undefined
