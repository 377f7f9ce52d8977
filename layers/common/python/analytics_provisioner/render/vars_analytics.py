"""vars-analytics.yml: extra-vars for ``analytics_single.yml`` (the insights and analytics_api roles).

The roles read the database dicts and the granular variables; ``ANALYTICS_MYSQL_*`` are helpers
only. All three forms are rendered from the same login, so they cannot disagree.
"""

from .context import (
    API_DATABASE,
    API_USER,
    EMR_SSH_USER,
    INSIGHTS_DATABASE,
    LEARNERS_INDEX,
    LEARNERS_UPDATE_INDEX,
    REPORTS_DATABASE,
    RenderContext,
)
from .formats import dump_ansible_yaml
from .releases import JENKINS_RELEASE, OIDC

NAME = "vars-analytics.yml"

MYSQL_ENGINE = "django.db.backends.mysql"
# The roles' own OPTIONS defaults: kept, since overriding a dict replaces it whole.
API_MYSQL_OPTIONS = {"connect_timeout": 10, "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
INSIGHTS_MYSQL_OPTIONS = {"connect_timeout": 10}
ES_CONNECTION_CLASS = "analytics_data_api.v0.connections.BotoHttpConnection"
# Id of the Jenkins credential the analytics jobs SSH to EMR with (the role's default id).
EMR_SSH_CREDENTIAL_ID = "ssh-access-key"
REPORT_FILE_LOCATION_TEMPLATE = "/{course_id}_{report_name}.csv"
REPORT_DOWNLOAD_EXPIRY_SECONDS = 120


def render(ctx: RenderContext) -> str:
    variables = {
        **switches_and_site(ctx),
        **migration(ctx),
        **databases(ctx),
        **api_secrets(ctx),
        **elasticsearch(ctx),
        **report_downloads(ctx),
        **insights(ctx),
        **insights_oauth2(ctx),
        **jenkins(ctx),
    }
    header = (f"Ansible extra-vars for analytics_single.yml: deployment {ctx.deployment_id}, {ctx.release.openedx_release}.\n"
              "Rendered by analytics-provisioner. Holds secrets: keep it in the private secure repo.")
    return dump_ansible_yaml(variables, header)


def switches_and_site(ctx: RenderContext) -> dict:
    return {
        "OPENEDX_RELEASE": ctx.release.openedx_release,
        "SANDBOX_ENABLE_ANALYTICS_API": True,
        "SANDBOX_ENABLE_INSIGHTS": True,
        "SANDBOX_ENABLE_ANALYTICS_PIPELINE": False,  # the pipeline runs on EMR
        "EDXAPP_LMS_BASE_SCHEME": ctx.scheme,
        "EDXAPP_LMS_BASE": ctx.lms_host,
        "EDXAPP_CMS_BASE": ctx.cms_host,
        "EDXAPP_CONTACT_EMAIL": ctx.contact_email,
    }


def migration(ctx: RenderContext) -> dict:
    return {"COMMON_MYSQL_MIGRATE_USER": ctx.migration_user, "COMMON_MYSQL_MIGRATE_PASS": ctx.migration_password}


def _django_db(ctx: RenderContext, name: str, options: dict) -> dict:
    db = ctx.analytics_db
    return {"ENGINE": MYSQL_ENGINE, "NAME": name, "USER": db.username, "PASSWORD": db.password,
            "HOST": db.host, "PORT": db.port, "OPTIONS": dict(options)}


def databases(ctx: RenderContext) -> dict:
    db = ctx.analytics_db
    return {
        "ANALYTICS_MYSQL_USER": db.username,
        "ANALYTICS_MYSQL_PASSWORD": db.password,
        "ANALYTICS_MYSQL_HOST": db.host,
        "ANALYTICS_MYSQL_PORT": db.port,
        "ANALYTICS_API_DEFAULT_DB_NAME": API_DATABASE,
        "ANALYTICS_API_DEFAULT_USER": db.username,
        "ANALYTICS_API_DEFAULT_PASSWORD": db.password,
        "ANALYTICS_API_DEFAULT_HOST": db.host,
        "ANALYTICS_API_DEFAULT_PORT": db.port,
        "ANALYTICS_API_REPORTS_DB_NAME": REPORTS_DATABASE,
        "ANALYTICS_API_REPORTS_USER": db.username,
        "ANALYTICS_API_REPORTS_PASSWORD": db.password,
        "ANALYTICS_API_REPORTS_HOST": db.host,
        "ANALYTICS_API_REPORTS_PORT": db.port,
        "ANALYTICS_API_DATABASES": {
            "default": _django_db(ctx, API_DATABASE, API_MYSQL_OPTIONS),
            "reports": _django_db(ctx, REPORTS_DATABASE, API_MYSQL_OPTIONS),
        },
        "INSIGHTS_DATABASE_NAME": INSIGHTS_DATABASE,
        "INSIGHTS_DATABASE_USER": db.username,
        "INSIGHTS_DATABASE_PASSWORD": db.password,
        "INSIGHTS_DATABASE_HOST": db.host,
        "INSIGHTS_DATABASE_PORT": db.port,
        "INSIGHTS_DATABASES": {"default": _django_db(ctx, INSIGHTS_DATABASE, INSIGHTS_MYSQL_OPTIONS)},
    }


def api_secrets(ctx: RenderContext) -> dict:
    token = ctx.app.api_auth_token
    return {
        "ANALYTICS_API_SECRET_KEY": ctx.app.api_secret_key,
        "ANALYTICS_API_AUTH_TOKEN": token,
        "ANALYTICS_API_USERS": {API_USER: token},
        "INSIGHTS_DATA_API_AUTH_TOKEN": token,
    }


def elasticsearch(ctx: RenderContext) -> dict:
    return {
        "ANALYTICS_API_ELASTICSEARCH_LEARNERS_HOST": ctx.es_url,
        "ANALYTICS_API_ELASTICSEARCH_LEARNERS_INDEX": LEARNERS_INDEX,
        "ANALYTICS_API_ELASTICSEARCH_LEARNERS_UPDATE_INDEX": LEARNERS_UPDATE_INDEX,
        "ANALYTICS_API_ELASTICSEARCH_CONNECTION_CLASS": ES_CONNECTION_CLASS,
        "ANALYTICS_API_ELASTICSEARCH_AWS_ACCESS_KEY_ID": ctx.es_key.access_key_id,
        "ANALYTICS_API_ELASTICSEARCH_AWS_SECRET_ACCESS_KEY": ctx.es_key.secret_access_key,
        "ANALYTICS_API_ELASTICSEARCH_CONNECTION_DEFAULT_REGION": ctx.region,
    }


def report_downloads(ctx: RenderContext) -> dict:
    if not ctx.reports_enabled:
        return {}
    return {
        "ANALYTICS_API_REPORT_DOWNLOAD_BACKEND": {
            "DEFAULT_FILE_STORAGE": ctx.release.report_storage_backend,
            "AWS_ACCESS_KEY_ID": ctx.reports_key.access_key_id,
            "AWS_SECRET_ACCESS_KEY": ctx.reports_key.secret_access_key,
            "AWS_STORAGE_BUCKET_NAME": ctx.buckets.reports,
            "COURSE_REPORT_FILE_LOCATION_TEMPLATE": REPORT_FILE_LOCATION_TEMPLATE,
            "COURSE_REPORT_DOWNLOAD_EXPIRY_TIME": REPORT_DOWNLOAD_EXPIRY_SECONDS,
        }
    }


def insights(ctx: RenderContext) -> dict:
    return {
        "INSIGHTS_LMS_BASE": ctx.lms_url,
        "INSIGHTS_CMS_BASE": ctx.cms_url,
        "INSIGHTS_BASE_URL": ctx.insights_url,
        "INSIGHTS_SECRET_KEY": ctx.app.insights_secret_key,
        "INSIGHTS_LMS_COURSE_SHORTCUT_BASE_URL": f"{ctx.lms_url}/courses",
        "INSIGHTS_CMS_COURSE_SHORTCUT_BASE_URL": f"{ctx.cms_url}/course",
        "INSIGHTS_SOCIAL_AUTH_REDIRECT_IS_HTTPS": ctx.insights_url.startswith("https://"),
        "INSIGHTS_ENABLE_AUTO_AUTH": False,
        # The analytics security group opens 80 and 443 only (the roles default to 18110/18113).
        "INSIGHTS_NGINX_PORT": 80,
        "INSIGHTS_NGINX_SSL_PORT": 443,
    }


def insights_oauth2(ctx: RenderContext) -> dict:
    sso, backend = ctx.app.sso_client, ctx.app.backend_client
    if ctx.release.oauth2_family == OIDC:
        return {
            "INSIGHTS_OAUTH2_KEY": sso.client_id,
            "INSIGHTS_OAUTH2_SECRET": sso.client_secret,
            "INSIGHTS_OAUTH2_URL_ROOT": f"{ctx.lms_url}/oauth2",
            "INSIGHTS_OIDC_LOGOUT_URL": f"{ctx.lms_url}/logout",
        }
    return {
        "INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_KEY": sso.client_id,
        "INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_SECRET": sso.client_secret,
        "INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_KEY": backend.client_id,
        "INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_SECRET": backend.client_secret,
        "INSIGHTS_OAUTH2_URL_LOGOUT": f"{ctx.lms_url}/logout",
    }


def jenkins(ctx: RenderContext) -> dict:
    return {
        ctx.release.jenkins_version_key: JENKINS_RELEASE,
        "JENKINS_ANALYTICS_CREDENTIALS": [
            {
                "id": EMR_SSH_CREDENTIAL_ID,
                "scope": "GLOBAL",
                "username": EMR_SSH_USER,
                "type": "ssh-private-key",
                "passphrase": None,  # nosec B105  # the key has no passphrase; a field the consumer reads, not a password
                "description": f"SSH key of {ctx.emr.key_pair_name} for the EMR clusters (analytics-provisioner)",
                "privatekey": ctx.analytics_private_key,
            }
        ],
    }
