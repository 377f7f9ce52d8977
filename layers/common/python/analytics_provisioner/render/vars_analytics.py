"""vars-analytics.yml: extra-vars for the configuration repo's analytics playbooks at the target release.

``release.app_playbooks`` install Insights and the Analytics API with it, ``analytics-jenkins.yml``
the scheduler. Every key is one the roles or playbooks of that release read (tests/consumers check
it against the upstream facts), except the runbook's ``ANALYTICS_MYSQL_*`` names, kept for the
operator who follows the runbook. The roles read the database dicts and the granular variables;
both are rendered from the same login, so they cannot disagree.
"""

from . import jenkins
from .context import (
    API_DATABASE,
    API_USER,
    INSIGHTS_DATABASE,
    LEARNERS_INDEX,
    LEARNERS_UPDATE_INDEX,
    REPORTS_DATABASE,
    RenderContext,
)
from .formats import Template, dump_ansible_yaml
from .releases import EDX_OAUTH2_IN_CONFIG, OIDC

NAME = "vars-analytics.yml"

MYSQL_ENGINE = "django.db.backends.mysql"
# The roles' own OPTIONS defaults: kept, since overriding a dict replaces it whole.
API_MYSQL_OPTIONS = {"connect_timeout": 10, "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
INSIGHTS_MYSQL_OPTIONS = {"connect_timeout": 10}
ES_CONNECTION_CLASS = "analytics_data_api.v0.connections.BotoHttpConnection"
# django-storages 1.7.1 (ironwood) to 1.8 (nutmeg) ship both S3 backends and every release's Analytics API
# requirements pin boto3; boto 2's backend signs with SigV2, which regions opened since 2014 refuse.
S3_BOTO3 = "storages.backends.s3boto3.S3Boto3Storage"
REPORT_FILE_LOCATION_TEMPLATE = "/{course_id}_{report_name}.csv"
REPORT_DOWNLOAD_EXPIRY_SECONDS = 120
# memcached on the analytics instance itself: Insights' and the API's Django caches point here. The
# memcache role (juniper on: analytics_single.yml runs it when EDXAPP_MEMCACHE names localhost) installs
# Ubuntu's memcached, which listens on localhost:11211.
LOCAL_MEMCACHE = ["localhost:11211"]
# Insights' production settings send no mail (no mail handler in its logging, no view sends any); without
# input.email the settings name no outside server and no credentials instead of the role's smtp.example.com.
NO_MAIL = {"host": "localhost", "port": 25, "username": "", "password": ""}  # nosec B105  # no mail server, so no credentials: an empty value, not a password


def render(ctx: RenderContext) -> str:
    variables = {
        **app_versions(ctx),
        **switches(ctx),
        **migration(ctx),
        **databases(ctx),
        **caches(ctx),
        **api_secrets(ctx),
        **elasticsearch(ctx),
        **report_downloads(ctx),
        **insights(ctx),
        **insights_mail(ctx),
        **insights_oauth2(ctx),
        **jenkins.variables(ctx),
    }
    if ctx.release.oauth2 == EDX_OAUTH2_IN_CONFIG:
        variables["INSIGHTS_CONFIG"] = juniper_insights_config()
    playbooks = ", ".join((*ctx.release.app_playbooks, "analytics-jenkins.yml"))
    header = (
        f"Ansible extra-vars for the configuration repo's {playbooks} at {ctx.release.branch}: deployment {ctx.deployment_id}.\n"
        "Rendered by analytics-provisioner. Holds secrets: keep it in the private secure repo. Not for the edxapp playbooks."
    )
    return dump_ansible_yaml(variables, header)


def app_versions(ctx: RenderContext) -> dict:
    """The roles default both to master: the apps' master, whatever the release (the API's has no Elasticsearch)."""
    return {"INSIGHTS_VERSION": ctx.release.branch, "ANALYTICS_API_VERSION": ctx.release.branch}


def switches(ctx: RenderContext) -> dict:
    found: dict[str, str | bool] = {
        "migrate_db": "yes"
    }  # analyticsapi.yml and insights.yml (ironwood) do not set it; the roles migrate only then
    if ctx.release.analytics_single_honours_switches:
        found |= {
            "SANDBOX_ENABLE_ANALYTICS_API": True,
            "SANDBOX_ENABLE_INSIGHTS": True,
            "SANDBOX_ENABLE_ANALYTICS_PIPELINE": False,  # the pipeline runs on EMR
        }
    return found


def migration(ctx: RenderContext) -> dict:
    return {"COMMON_MYSQL_MIGRATE_USER": ctx.migration_user, "COMMON_MYSQL_MIGRATE_PASS": ctx.migration_password}


def _django_db(ctx: RenderContext, name: str, options: dict) -> dict:
    db = ctx.analytics_db
    return {
        "ENGINE": MYSQL_ENGINE,
        "NAME": name,
        "USER": db.username,
        "PASSWORD": db.password,
        "HOST": db.host,
        "PORT": db.port,
        "OPTIONS": dict(options),
    }


def databases(ctx: RenderContext) -> dict:
    db = ctx.analytics_db
    return {
        # The runbook's names (no role reads them): what an operator following the runbook looks for.
        "ANALYTICS_MYSQL_USER": db.username,
        "ANALYTICS_MYSQL_PASSWORD": db.password,
        "ANALYTICS_MYSQL_HOST": db.host,
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


def caches(ctx: RenderContext) -> dict:
    """Insights' cache (role default 127.0.0.1:11211) and the API's (edx_django_service's default host
    'memcache', which resolves nowhere) on the memcached the playbook installs (juniper on) or the next
    steps do (ironwood)."""
    found = {"INSIGHTS_MEMCACHE": list(LOCAL_MEMCACHE), "edx_django_service_memcache": list(LOCAL_MEMCACHE)}
    if ctx.release.playbooks_install_memcached:
        found["EDXAPP_MEMCACHE"] = list(LOCAL_MEMCACHE)
    return found


def api_secrets(ctx: RenderContext) -> dict:
    token = ctx.app.api_auth_token
    return {
        "ANALYTICS_API_SECRET_KEY": ctx.app.api_secret_key,
        "ANALYTICS_API_AUTH_TOKEN": token,
        "ANALYTICS_API_USERS": {API_USER: token},
        "INSIGHTS_DATA_API_AUTH_TOKEN": token,
        # edx_django_service's JWT_AUTH.JWT_ISSUERS for the API (common_vars defaults: 'SET-ME-PLEASE' for both).
        "COMMON_JWT_SECRET_KEY": ctx.app.api_jwt_secret_key,
        "COMMON_JWT_AUDIENCE": f"{ctx.deployment_id}-analytics-api",
    }


def elasticsearch(ctx: RenderContext) -> dict:
    found = {
        "ANALYTICS_API_ELASTICSEARCH_LEARNERS_HOST": ctx.es_url,
        "ANALYTICS_API_ELASTICSEARCH_LEARNERS_INDEX": LEARNERS_INDEX,
        "ANALYTICS_API_ELASTICSEARCH_LEARNERS_UPDATE_INDEX": LEARNERS_UPDATE_INDEX,
        "ANALYTICS_API_ELASTICSEARCH_CONNECTION_CLASS": ES_CONNECTION_CLASS,
        "ANALYTICS_API_ELASTICSEARCH_AWS_ACCESS_KEY_ID": ctx.es_key.access_key_id,
        "ANALYTICS_API_ELASTICSEARCH_AWS_SECRET_ACCESS_KEY": ctx.es_key.secret_access_key,
        "ANALYTICS_API_ELASTICSEARCH_CONNECTION_DEFAULT_REGION": ctx.region,
    }
    if ctx.release.api_reads_learners_alias:
        found["ANALYTICS_API_ELASTICSEARCH_LEARNERS_INDEX_ALIAS"] = LEARNERS_INDEX  # the pipeline's [module-engagement] alias
    return found


def report_downloads(ctx: RenderContext) -> dict:
    key = ctx.reports_key
    if key is None or not ctx.reports_enabled:
        return {}
    return {
        "ANALYTICS_API_REPORT_DOWNLOAD_BACKEND": {
            "DEFAULT_FILE_STORAGE": S3_BOTO3,
            "AWS_ACCESS_KEY_ID": key.access_key_id,
            "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
            "AWS_STORAGE_BUCKET_NAME": ctx.buckets.reports,
            # Pre-signed links are signed for this region (the bucket's); boto3 would sign for us-east-1.
            "AWS_S3_REGION_NAME": ctx.region,
            "COURSE_REPORT_FILE_LOCATION_TEMPLATE": REPORT_FILE_LOCATION_TEMPLATE,
            "COURSE_REPORT_DOWNLOAD_EXPIRY_TIME": REPORT_DOWNLOAD_EXPIRY_SECONDS,
        }
    }


def insights(ctx: RenderContext) -> dict:
    return {
        "INSIGHTS_LMS_BASE": ctx.lms_url,
        "INSIGHTS_SECRET_KEY": ctx.app.insights_secret_key,
        "INSIGHTS_SUPPORT_EMAIL": ctx.contact_email,
        "INSIGHTS_LMS_COURSE_SHORTCUT_BASE_URL": f"{ctx.lms_url}/courses",
        "INSIGHTS_CMS_COURSE_SHORTCUT_BASE_URL": f"{ctx.cms_url}/course",
        "INSIGHTS_SOCIAL_AUTH_REDIRECT_IS_HTTPS": ctx.insights_url.startswith("https://"),
        "INSIGHTS_ENABLE_AUTO_AUTH": False,
        # null switches Segment off in Insights' tracking code; the role's 'YOUR_KEY' loads Segment with it.
        "INSIGHTS_SEGMENT_IO_KEY": None,
        # The analytics security group opens 80 and 443 only (the roles default to 18110/18113).
        "INSIGHTS_NGINX_PORT": 80,
        "INSIGHTS_NGINX_SSL_PORT": 443,
    }


def insights_mail(ctx: RenderContext) -> dict:
    mail = ctx.email.as_settings() if ctx.email else NO_MAIL
    return {
        "INSIGHTS_EMAIL_HOST": mail["host"],
        "INSIGHTS_EMAIL_PORT": mail["port"],
        "INSIGHTS_EMAIL_HOST_USER": mail["username"],
        "INSIGHTS_EMAIL_HOST_PASSWORD": mail["password"],
    }


def insights_oauth2(ctx: RenderContext) -> dict:
    sso, backend = ctx.app.sso_client, ctx.app.backend_client
    if ctx.release.oauth2 == OIDC:
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


def juniper_insights_config() -> dict:
    """juniper's INSIGHTS_CONFIG as koa's role writes it: the same keys, each from the same variable,
    with the SSO and backend-service settings in place of juniper's four literal placeholders.

    Everything else is a reference to the juniper role's own variables, so what an operator sets there
    still applies; the values we own come in through the variables rendered above.
    """
    return {key: Template(expression) if isinstance(expression, str) else expression for key, expression in JUNIPER_INSIGHTS_CONFIG.items()}


def _var(name: str) -> str:
    return "{{ " + name + " }}"


# Key -> expression, from INSIGHTS_CONFIG in playbooks/roles/insights/defaults/main.yml at open-release/koa.master
# (the keys are juniper's plus the eight OAuth2 ones; every variable named exists in juniper's role or in this file).
JUNIPER_INSIGHTS_CONFIG = {
    "SUPPORT_EMAIL": _var("INSIGHTS_SUPPORT_EMAIL"),
    "DOCUMENTATION_LOAD_ERROR_URL": _var("INSIGHTS_DOC_BASE") + "/Reference.html#error-conditions",
    "SEGMENT_IO_KEY": _var("INSIGHTS_SEGMENT_IO_KEY"),
    "SEGMENT_IGNORE_EMAIL_REGEX": _var("INSIGHTS_SEGMENT_IGNORE_EMAIL_REGEX"),
    "PRIVACY_POLICY_URL": _var("INSIGHTS_PRIVACY_POLICY_URL"),
    "TERMS_OF_SERVICE_URL": _var("INSIGHTS_TERMS_OF_SERVICE_URL"),
    "HELP_URL": _var("INSIGHTS_DOC_BASE"),
    "SECRET_KEY": _var("INSIGHTS_SECRET_KEY"),
    "DATA_API_URL": _var("ANALYTICS_API_ENDPOINT"),
    "DATA_API_AUTH_TOKEN": _var("INSIGHTS_DATA_API_AUTH_TOKEN"),
    "SOCIAL_AUTH_REDIRECT_IS_HTTPS": _var("INSIGHTS_SOCIAL_AUTH_REDIRECT_IS_HTTPS"),
    "SOCIAL_AUTH_EDX_OAUTH2_KEY": _var("INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_KEY"),
    "SOCIAL_AUTH_EDX_OAUTH2_SECRET": _var("INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_SECRET"),
    "SOCIAL_AUTH_EDX_OAUTH2_ISSUER": _var("INSIGHTS_LMS_BASE"),
    "SOCIAL_AUTH_EDX_OAUTH2_URL_ROOT": _var("INSIGHTS_LMS_BASE"),
    "SOCIAL_AUTH_EDX_OAUTH2_LOGOUT_URL": _var("INSIGHTS_OAUTH2_URL_LOGOUT"),
    "BACKEND_SERVICE_EDX_OAUTH2_KEY": _var("INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_KEY"),
    "BACKEND_SERVICE_EDX_OAUTH2_SECRET": _var("INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_SECRET"),
    "BACKEND_SERVICE_EDX_OAUTH2_PROVIDER_URL": _var("INSIGHTS_OAUTH2_URL_ROOT"),
    "ENABLE_AUTO_AUTH": _var("INSIGHTS_ENABLE_AUTO_AUTH"),
    "PLATFORM_NAME": _var("INSIGHTS_PLATFORM_NAME"),
    "APPLICATION_NAME": _var("INSIGHTS_APPLICATION_NAME"),
    "CACHES": {
        "default": {
            "BACKEND": "django.core.cache.backends.memcached.MemcachedCache",
            "KEY_PREFIX": Template(_var("COMMON_ENVIRONMENT") + "-" + _var("COMMON_DEPLOYMENT") + "-insights"),
            "LOCATION": Template(_var("INSIGHTS_MEMCACHE")),
        }
    },
    "TIME_ZONE": _var("INSIGHTS_TIME_ZONE"),
    "LANGUAGE_CODE": _var("INSIGHTS_LANGUAGE_CODE"),
    "EMAIL_HOST": _var("INSIGHTS_EMAIL_HOST"),
    "EMAIL_HOST_PASSWORD": _var("INSIGHTS_EMAIL_HOST_PASSWORD"),
    "EMAIL_HOST_USER": _var("INSIGHTS_EMAIL_HOST_USER"),
    "EMAIL_PORT": _var("INSIGHTS_EMAIL_PORT"),
    "STATICFILES_DIRS": [Template(_var("insights_static_path"))],
    "STATIC_ROOT": _var("COMMON_DATA_DIR") + "/" + _var("insights_service_name") + "/staticfiles",
    "RESEARCH_URL": _var("INSIGHTS_RESEARCH_URL"),
    "OPEN_SOURCE_URL": _var("INSIGHTS_OPEN_SOURCE_URL"),
    "DATABASES": _var("INSIGHTS_DATABASES"),
    "LMS_COURSE_SHORTCUT_BASE_URL": _var("INSIGHTS_LMS_COURSE_SHORTCUT_BASE_URL"),
    "COURSE_API_URL": _var("INSIGHTS_COURSE_API_URL"),
    "GRADING_POLICY_API_URL": _var("INSIGHTS_GRADING_POLICY_API_URL"),
    "MODULE_PREVIEW_URL": _var("INSIGHTS_MODULE_PREVIEW_URL"),
    "SESSION_COOKIE_NAME": _var("INSIGHTS_SESSION_COOKIE_NAME | default('insights_sessionid')"),
    "CSRF_COOKIE_NAME": _var("INSIGHTS_CSRF_COOKIE_NAME | default('insights_csrftoken')"),
    "LANGUAGE_COOKIE_NAME": _var("INSIGHTS_LANGUAGE_COOKIE_NAME | default('insights_language')"),
    "SESSION_EXPIRE_AT_BROWSER_CLOSE": _var("INSIGHTS_SESSION_EXPIRE_AT_BROWSER_CLOSE"),
    "CMS_COURSE_SHORTCUT_BASE_URL": _var("INSIGHTS_CMS_COURSE_SHORTCUT_BASE_URL"),
    "LEARNER_API_LIST_DOWNLOAD_FIELDS": _var("INSIGHTS_LEARNER_API_LIST_DOWNLOAD_FIELDS"),
    "CDN_DOMAIN": _var("INSIGHTS_CDN_DOMAIN"),
    "CSRF_COOKIE_SECURE": _var("INSIGHTS_CSRF_COOKIE_SECURE"),
}
