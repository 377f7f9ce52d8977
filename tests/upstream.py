"""Facts about the upstream code that reads the rendered files, per release (no upstream code here).

Read at ``open-release/<release>.master`` of openedx-unsupported/configuration (``cfg``),
edx-analytics-pipeline (``pipeline``), edx-analytics-configuration (``emr``) and
edx-analytics-data-api / edx-analytics-dashboard. Each fact names the file it comes from; the tests
use them to render what the real roles and programs do with our files.
"""

RELEASES = ("ironwood", "juniper", "koa", "lilac", "maple", "nutmeg")
ALL = frozenset(RELEASES)


def since(first: str) -> frozenset:
    return frozenset(RELEASES[RELEASES.index(first) :])


def branch(release: str) -> str:
    return f"open-release/{release}.master"


# ---- configuration: which variables the analytics playbooks and their roles read ------------------------------
# Every {{ }}, {% %} and when: in playbooks/{analytics_single,analyticsapi,insights,analytics-jenkins}.yml and the
# roles they run (insights, analytics_api, edx_django_service, common_vars, jenkins_analytics, jenkins_master, nginx,
# memcache, ...), for the variables vars-analytics.yml sets or once set. Releases where no such reference exists are
# absent: a key set only for those is dead.
READ_AT = {
    # insights/defaults: INSIGHTS_REPOS[0].VERSION: "{{ INSIGHTS_VERSION }}" (default "master"); analytics_api/defaults:
    # ANALYTICS_API_REPOS[0].VERSION: "{{ ANALYTICS_API_VERSION }}" (default "master").
    "INSIGHTS_VERSION": ALL,
    "ANALYTICS_API_VERSION": ALL,
    # analytics_single.yml: `when: SANDBOX_ENABLE_*` on the roles from juniper; ironwood's has no `when:` at all.
    "SANDBOX_ENABLE_ANALYTICS_API": since("juniper"),
    "SANDBOX_ENABLE_INSIGHTS": since("juniper"),
    "SANDBOX_ENABLE_ANALYTICS_PIPELINE": since("juniper"),
    # edx_django_service/tasks and insights/tasks: migrations run `when: migrate_db ... == "yes"`.
    "migrate_db": ALL,
    "COMMON_MYSQL_MIGRATE_USER": ALL,
    "COMMON_MYSQL_MIGRATE_PASS": ALL,
    **dict.fromkeys(
        [f"ANALYTICS_API_{part}_{key}" for part in ("DEFAULT", "REPORTS") for key in ("USER", "PASSWORD", "HOST", "PORT")]
        + ["ANALYTICS_API_DEFAULT_DB_NAME", "ANALYTICS_API_REPORTS_DB_NAME", "ANALYTICS_API_DATABASES"],
        ALL,
    ),
    **dict.fromkeys([f"INSIGHTS_DATABASE_{key}" for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")] + ["INSIGHTS_DATABASES"], ALL),
    # insights/defaults INSIGHTS_CONFIG.CACHES LOCATION; edx_django_service/defaults edx_django_service_caches LOCATION;
    # analytics_single.yml (juniper on): memcache role `when: "'localhost' in ' '.join(EDXAPP_MEMCACHE)"`.
    "INSIGHTS_MEMCACHE": ALL,
    "edx_django_service_memcache": ALL,
    "EDXAPP_MEMCACHE": since("juniper"),
    "ANALYTICS_API_SECRET_KEY": ALL,
    "ANALYTICS_API_AUTH_TOKEN": ALL,
    "ANALYTICS_API_USERS": ALL,
    "INSIGHTS_DATA_API_AUTH_TOKEN": ALL,
    # common_vars: COMMON_JWT_SECRET_KEY / COMMON_JWT_AUDIENCE: 'SET-ME-PLEASE' -> edx_django_service_jwt_auth.JWT_ISSUERS.
    "COMMON_JWT_SECRET_KEY": ALL,
    "COMMON_JWT_AUDIENCE": ALL,
    **dict.fromkeys(
        [
            f"ANALYTICS_API_ELASTICSEARCH_{key}"
            for key in (
                "LEARNERS_HOST",
                "LEARNERS_INDEX",
                "LEARNERS_UPDATE_INDEX",
                "CONNECTION_CLASS",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "CONNECTION_DEFAULT_REGION",
            )
        ],
        ALL,
    ),
    "ANALYTICS_API_ELASTICSEARCH_LEARNERS_INDEX_ALIAS": since("maple"),
    "ANALYTICS_API_REPORT_DOWNLOAD_BACKEND": ALL,
    **dict.fromkeys(
        [
            "INSIGHTS_LMS_BASE",
            "INSIGHTS_SECRET_KEY",
            "INSIGHTS_SUPPORT_EMAIL",
            "INSIGHTS_LMS_COURSE_SHORTCUT_BASE_URL",
            "INSIGHTS_CMS_COURSE_SHORTCUT_BASE_URL",
            "INSIGHTS_SOCIAL_AUTH_REDIRECT_IS_HTTPS",
            "INSIGHTS_ENABLE_AUTO_AUTH",
            "INSIGHTS_SEGMENT_IO_KEY",
            "INSIGHTS_NGINX_PORT",
            "INSIGHTS_NGINX_SSL_PORT",
            "INSIGHTS_EMAIL_HOST",
            "INSIGHTS_EMAIL_PORT",
            "INSIGHTS_EMAIL_HOST_USER",
            "INSIGHTS_EMAIL_HOST_PASSWORD",
        ],
        ALL,
    ),
    # insights/defaults INSIGHTS_CONFIG: SOCIAL_AUTH_EDX_OIDC_* at ironwood; SOCIAL_AUTH_EDX_OAUTH2_* / BACKEND_SERVICE_* from koa;
    # juniper's INSIGHTS_CONFIG templates none of them (see JUNIPER_ROLE_OAUTH2_PLACEHOLDERS).
    "INSIGHTS_OAUTH2_KEY": {"ironwood"},
    "INSIGHTS_OAUTH2_SECRET": {"ironwood"},
    "INSIGHTS_OIDC_LOGOUT_URL": {"ironwood"},
    "INSIGHTS_OAUTH2_URL_ROOT": ALL - {"juniper"},
    **dict.fromkeys(
        [
            "INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_KEY",
            "INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_SECRET",
            "INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_KEY",
            "INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_SECRET",
            "INSIGHTS_OAUTH2_URL_LOGOUT",
        ],
        since("koa"),
    ),
    "INSIGHTS_CONFIG": ALL,  # insights/meta: edx_service_config: "{{ INSIGHTS_CONFIG }}"
    # jenkins_master/defaults: `jenkins_version: '1.651.3'` at ironwood; `JENKINS_VERSION` from juniper (juniper keeps
    # `jenkins_version: "{{ JENKINS_VERSION }}"`), and jenkins_nginx_port (nginx sites-available/jenkins.j2) at all.
    "jenkins_version": {"ironwood", "juniper"},
    "JENKINS_VERSION": since("juniper"),
    "jenkins_nginx_port": ALL,
    # jenkins_analytics/defaults and tasks.
    **dict.fromkeys(
        [
            "JENKINS_ANALYTICS_CREDENTIALS",
            "JENKINS_ANALYTICS_AUTH_REALM",
            "JENKINS_ANALYTICS_USER_PASSWORD_PLAIN",
            "JENKINS_ANALYTICS_GITHUB_OAUTH_CLIENT_ID",
            "JENKINS_ANALYTICS_GITHUB_OAUTH_CLIENT_SECRET",
            "JENKINS_ANALYTICS_AUTH_ADMINISTRATORS",
            "ANALYTICS_SCHEDULE_SECURE_REPO_URL",
            "ANALYTICS_SCHEDULE_SECURE_REPO_VERSION",
        ],
        ALL,
    ),
}
# Set by earlier renders, read by nothing at any release: OPENEDX_RELEASE (only util/install/native.sh reads an
# environment variable of that name); INSIGHTS_CMS_BASE (defined, never referenced); INSIGHTS_BASE_URL (only in
# ironwood's INSIGHTS_OAUTH2_APP_COMPLETE_URL, itself never referenced); ANALYTICS_MYSQL_PORT (no role reads
# ANALYTICS_MYSQL_*); EDXAPP_LMS_BASE(_SCHEME), EDXAPP_CMS_BASE, EDXAPP_CONTACT_EMAIL (edxapp's roles only).
DEAD = {
    "OPENEDX_RELEASE",
    "INSIGHTS_CMS_BASE",
    "INSIGHTS_BASE_URL",
    "ANALYTICS_MYSQL_PORT",
    "EDXAPP_LMS_BASE_SCHEME",
    "EDXAPP_LMS_BASE",
    "EDXAPP_CMS_BASE",
    "EDXAPP_CONTACT_EMAIL",
}
# The runbook tells the operator to record these; no role reads them.
RUNBOOK_NAMES = {"ANALYTICS_MYSQL_USER", "ANALYTICS_MYSQL_PASSWORD", "ANALYTICS_MYSQL_HOST"}

# Role defaults that are placeholders, and would reach the apps' configuration if not set.
PLACEHOLDER_DEFAULTS = {
    "INSIGHTS_SEGMENT_IO_KEY": "YOUR_KEY",  # insights/defaults; the dashboard loads Segment unless the key is null
    "INSIGHTS_EMAIL_HOST": "smtp.example.com",
    "INSIGHTS_EMAIL_HOST_USER": "mail_user",
    "INSIGHTS_EMAIL_HOST_PASSWORD": "mail_password",
    "COMMON_JWT_SECRET_KEY": "SET-ME-PLEASE",
    "COMMON_JWT_AUDIENCE": "SET-ME-PLEASE",  # common_vars/defaults
    "edx_django_service_memcache": ["memcache"],  # edx_django_service/defaults: a host name nothing resolves
    "INSIGHTS_VERSION": "master",
    "ANALYTICS_API_VERSION": "master",
}

# ---- configuration: what the roles write into the apps' settings, from which variables ------------------------
# Insights: insights/defaults INSIGHTS_CONFIG (written to /edx/etc/insights.yml, loaded by the dashboard's
# settings/yaml_config.py). Only the settings that carry a value we own.
_INSIGHTS_COMMON = {
    "SECRET_KEY": "{{ INSIGHTS_SECRET_KEY }}",
    "DATA_API_AUTH_TOKEN": "{{ INSIGHTS_DATA_API_AUTH_TOKEN }}",
    "SUPPORT_EMAIL": "{{ INSIGHTS_SUPPORT_EMAIL }}",
    "SEGMENT_IO_KEY": "{{ INSIGHTS_SEGMENT_IO_KEY }}",
    "EMAIL_HOST": "{{ INSIGHTS_EMAIL_HOST }}",
    "EMAIL_PORT": "{{ INSIGHTS_EMAIL_PORT }}",
    "EMAIL_HOST_USER": "{{ INSIGHTS_EMAIL_HOST_USER }}",
    "EMAIL_HOST_PASSWORD": "{{ INSIGHTS_EMAIL_HOST_PASSWORD }}",
    "CACHES": {"default": {"LOCATION": "{{ INSIGHTS_MEMCACHE }}"}},
    "DATABASES": "{{ INSIGHTS_DATABASES }}",
}
_INSIGHTS_EDX_OAUTH2 = {
    "SOCIAL_AUTH_EDX_OAUTH2_KEY": "{{ INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_KEY }}",
    "SOCIAL_AUTH_EDX_OAUTH2_SECRET": "{{ INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_SECRET }}",
    "SOCIAL_AUTH_EDX_OAUTH2_ISSUER": "{{ INSIGHTS_LMS_BASE }}",
    "SOCIAL_AUTH_EDX_OAUTH2_URL_ROOT": "{{ INSIGHTS_LMS_BASE }}",
    "SOCIAL_AUTH_EDX_OAUTH2_LOGOUT_URL": "{{ INSIGHTS_OAUTH2_URL_LOGOUT }}",
    "BACKEND_SERVICE_EDX_OAUTH2_KEY": "{{ INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_KEY }}",
    "BACKEND_SERVICE_EDX_OAUTH2_SECRET": "{{ INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_SECRET }}",
    "BACKEND_SERVICE_EDX_OAUTH2_PROVIDER_URL": "{{ INSIGHTS_OAUTH2_URL_ROOT }}",
}
INSIGHTS_SETTINGS = {
    "ironwood": _INSIGHTS_COMMON
    | {
        "SOCIAL_AUTH_EDX_OIDC_KEY": "{{ INSIGHTS_OAUTH2_KEY }}",
        "SOCIAL_AUTH_EDX_OIDC_SECRET": "{{ INSIGHTS_OAUTH2_SECRET }}",
        "SOCIAL_AUTH_EDX_OIDC_URL_ROOT": "{{ INSIGHTS_OAUTH2_URL_ROOT }}",
        "SOCIAL_AUTH_EDX_OIDC_ISSUER": "{{ INSIGHTS_OAUTH2_URL_ROOT }}",
        "SOCIAL_AUTH_EDX_OIDC_LOGOUT_URL": "{{ INSIGHTS_OIDC_LOGOUT_URL }}",
        "SOCIAL_AUTH_EDX_OIDC_ID_TOKEN_DECRYPTION_KEY": "{{ INSIGHTS_OAUTH2_SECRET }}",
    },
    # juniper: the role's INSIGHTS_CONFIG is replaced by the file's own (vars-analytics.yml sets INSIGHTS_CONFIG).
    "juniper": None,
    **{release: _INSIGHTS_COMMON | _INSIGHTS_EDX_OAUTH2 for release in since("koa")},
}
# juniper's INSIGHTS_CONFIG: these four keys with literal values, and no SOCIAL_AUTH_EDX_OAUTH2_* or BACKEND_SERVICE_* key;
# the dashboard's settings/base.py then keeps SOCIAL_AUTH_EDX_OAUTH2_KEY = "insights-sso-key" etc. (a sandbox client).
JUNIPER_ROLE_OAUTH2_PLACEHOLDERS = {
    "INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_KEY": "insights-sso-key",
    "INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_SECRET": "insights-sso-secret",
    "INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_KEY": "insights-backend-service-key",
    "INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_SECRET": "insights-backend-service-secret",
}
# The other keys of juniper's INSIGHTS_CONFIG (a replacement must keep every one).
JUNIPER_INSIGHTS_CONFIG_KEYS = {
    "SUPPORT_EMAIL",
    "DOCUMENTATION_LOAD_ERROR_URL",
    "SEGMENT_IO_KEY",
    "SEGMENT_IGNORE_EMAIL_REGEX",
    "PRIVACY_POLICY_URL",
    "TERMS_OF_SERVICE_URL",
    "HELP_URL",
    "SECRET_KEY",
    "DATA_API_URL",
    "DATA_API_AUTH_TOKEN",
    "SOCIAL_AUTH_REDIRECT_IS_HTTPS",
    "ENABLE_AUTO_AUTH",
    "PLATFORM_NAME",
    "APPLICATION_NAME",
    "CACHES",
    "TIME_ZONE",
    "LANGUAGE_CODE",
    "EMAIL_HOST",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_HOST_USER",
    "EMAIL_PORT",
    "STATICFILES_DIRS",
    "STATIC_ROOT",
    "RESEARCH_URL",
    "OPEN_SOURCE_URL",
    "DATABASES",
    "LMS_COURSE_SHORTCUT_BASE_URL",
    "COURSE_API_URL",
    "GRADING_POLICY_API_URL",
    "MODULE_PREVIEW_URL",
    "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_NAME",
    "LANGUAGE_COOKIE_NAME",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE",
    "CMS_COURSE_SHORTCUT_BASE_URL",
    "LEARNER_API_LIST_DOWNLOAD_FIELDS",
    "CDN_DOMAIN",
    "CSRF_COOKIE_SECURE",
}
# Variables juniper's insights role (and common_vars) define, which its INSIGHTS_CONFIG references, with stand-in values.
JUNIPER_ROLE_VARIABLES = {
    "INSIGHTS_DOC_BASE": "http://127.0.0.1/en/latest",
    "INSIGHTS_SEGMENT_IGNORE_EMAIL_REGEX": None,
    "INSIGHTS_PRIVACY_POLICY_URL": "https://mktg/privacy-policy",
    "INSIGHTS_TERMS_OF_SERVICE_URL": "https://mktg/terms-service",
    "ANALYTICS_API_ENDPOINT": "http://127.0.0.1:8100/api/v0",
    "INSIGHTS_OAUTH2_URL_ROOT": "{{ INSIGHTS_LMS_BASE }}/oauth2",
    "INSIGHTS_PLATFORM_NAME": "edX",
    "INSIGHTS_APPLICATION_NAME": "Insights",
    "COMMON_ENVIRONMENT": "default_env",
    "COMMON_DEPLOYMENT": "default_deployment",
    "INSIGHTS_TIME_ZONE": "UTC",
    "INSIGHTS_LANGUAGE_CODE": "en-us",
    "insights_static_path": "/edx/app/insights/edx_analytics_dashboard/analytics_dashboard/static",
    "COMMON_DATA_DIR": "/edx/var",
    "insights_service_name": "insights",
    "INSIGHTS_RESEARCH_URL": "https://www.edx.org/research-pedagogy",
    "INSIGHTS_OPEN_SOURCE_URL": "http://set-me-please",
    "INSIGHTS_COURSE_API_URL": "{{ INSIGHTS_LMS_BASE }}/api/courses/v1/",
    "INSIGHTS_GRADING_POLICY_API_URL": "{{ INSIGHTS_LMS_BASE }}/api/grades/v1/",
    "INSIGHTS_MODULE_PREVIEW_URL": "{{ INSIGHTS_LMS_BASE }}/xblock",
    "INSIGHTS_SESSION_EXPIRE_AT_BROWSER_CLOSE": False,
    "INSIGHTS_LEARNER_API_LIST_DOWNLOAD_FIELDS": None,
    "INSIGHTS_CDN_DOMAIN": None,
    "INSIGHTS_CSRF_COOKIE_SECURE": False,
}

# Analytics API: analytics_api/defaults analytics_api_service_config_overrides combined over edx_django_service's
# edx_django_service_config_default (written to /edx/etc/analytics_api.yml, loaded by settings/production.py).
API_SETTINGS = {
    release: {
        "SECRET_KEY": "{{ ANALYTICS_API_SECRET_KEY }}",  # analytics_api/meta: edx_django_service_secret_key
        "API_AUTH_TOKEN": "{{ ANALYTICS_API_AUTH_TOKEN }}",
        "DATABASES": "{{ ANALYTICS_API_DATABASES }}",
        "CACHES": {"default": {"LOCATION": "{{ edx_django_service_memcache }}"}},
        "JWT_AUTH": {"JWT_ISSUERS": [{"SECRET_KEY": "{{ COMMON_JWT_SECRET_KEY }}", "AUDIENCE": "{{ COMMON_JWT_AUDIENCE }}"}]},
        "ELASTICSEARCH_LEARNERS_HOST": "{{ ANALYTICS_API_ELASTICSEARCH_LEARNERS_HOST }}",
        "ELASTICSEARCH_LEARNERS_INDEX": "{{ ANALYTICS_API_ELASTICSEARCH_LEARNERS_INDEX }}",
        "ELASTICSEARCH_AWS_ACCESS_KEY_ID": "{{ ANALYTICS_API_ELASTICSEARCH_AWS_ACCESS_KEY_ID }}",
        "ELASTICSEARCH_AWS_SECRET_ACCESS_KEY": "{{ ANALYTICS_API_ELASTICSEARCH_AWS_SECRET_ACCESS_KEY }}",
        "ELASTICSEARCH_CONNECTION_DEFAULT_REGION": "{{ ANALYTICS_API_ELASTICSEARCH_CONNECTION_DEFAULT_REGION }}",
        "REPORT_DOWNLOAD_BACKEND": "{{ ANALYTICS_API_REPORT_DOWNLOAD_BACKEND }}",
        **(
            {"ELASTICSEARCH_LEARNERS_INDEX_ALIAS": "{{ ANALYTICS_API_ELASTICSEARCH_LEARNERS_INDEX_ALIAS }}"}
            if release in since("maple")
            else {}
        ),
    }
    for release in RELEASES
}
# The code each role checks out: insights/defaults INSIGHTS_REPOS, analytics_api/defaults ANALYTICS_API_REPOS.
APP_CHECKOUTS = {"edx-analytics-dashboard": "{{ INSIGHTS_VERSION }}", "edx-analytics-data-api": "{{ ANALYTICS_API_VERSION }}"}

# ---- configuration: the playbooks -------------------------------------------------------------------------------
# analytics_single.yml at ironwood: these roles, none with a `when:` (MySQL and the pipeline's Hadoop, Hive and Sqoop
# on the instance whatever the SANDBOX_* switches say).
IRONWOOD_ANALYTICS_SINGLE_ROLES = ("aws", "mysql", "edxlocal", "memcache", "analytics_api", "analytics_pipeline", "nginx", "insights")
# analytics_single.yml from juniper: play vars EDXAPP_MEMCACHE: '' and `role: memcache` when this holds.
MEMCACHE_ROLE_WHEN = "'localhost' in ' '.join(EDXAPP_MEMCACHE)"
# analyticsapi.yml and insights.yml (every release): roles aws, nginx, analytics_api | insights, monitoring agents; no
# memcache role and no migrate_db in their vars.
# analytics-jenkins.yml (every release): jenkins_analytics, then nginx with the `jenkins` site, which listens on
# jenkins_nginx_port (jenkins_master/defaults: 80) with server_name jenkins_server_name and proxies to Jenkins on 8080;
# Insights' site is the default_server of INSIGHTS_NGINX_PORT.

# ---- jenkins_analytics and jenkins_master (the same at every release) ------------------------------------------------
# jenkins_analytics/defaults/main.yml (and jenkins_master/defaults, common_vars): the variables its tasks and templates
# read for the login, the credentials and the seed job's repositories, as the role defines them.
_GIT_CREDENTIAL_ID = "{{ JENKINS_ANALYTICS_GITHUB_CREDENTIAL_ID }}"
JENKINS_ROLE_DEFAULTS = {
    "COMMON_DATA_DIR": "/edx/var",
    "jenkins_home": "{{ COMMON_DATA_DIR }}/jenkins",
    "jenkins_user": "jenkins",
    "jenkins_port": 8080,
    "jenkins_nginx_port": 80,
    "JENKINS_ANALYTICS_USER_PASSWORD_PLAIN": "jenkins",
    "JENKINS_ANALYTICS_AUTH_REALM": "github_oauth",
    "JENKINS_ANALYTICS_AUTH_ADMINISTRATORS": [],
    "JENKINS_ANALYTICS_AUTH_JOB_BUILDERS": [],
    "JENKINS_ANALYTICS_AUTH_ANONYMOUS_PERMISSIONS": [],
    "JENKINS_ANALYTICS_GITHUB_OAUTH_CLIENT_ID": None,
    "JENKINS_ANALYTICS_GITHUB_OAUTH_CLIENT_SECRET": None,
    "JENKINS_ANALYTICS_GITHUB_OAUTH_SCOPES": ["read:org", "user:email"],
    "JENKINS_ANALYTICS_GITHUB_OAUTH_WEB_URI": "https://github.com",
    "JENKINS_ANALYTICS_GITHUB_OAUTH_API_URI": "https://api.github.com",
    "JENKINS_ANALYTICS_GITHUB_CREDENTIAL_ID": "github-deploy-key",
    "JENKINS_ANALYTICS_GITHUB_CREDENTIAL_USER": "git",
    "JENKINS_ANALYTICS_GITHUB_CREDENTIAL_PASSPHRASE": None,
    "JENKINS_ANALYTICS_GITHUB_CREDENTIAL_KEY": None,
    "ANALYTICS_SCHEDULE_SECURE_REPO_URL": None,
    "ANALYTICS_SCHEDULE_SECURE_REPO_DEST": "analytics-secure-config",
    "ANALYTICS_SCHEDULE_SECURE_REPO_VERSION": "master",
    "ANALYTICS_SCHEDULE_SECURE_REPO_CREDENTIAL_ID": _GIT_CREDENTIAL_ID,
    "ANALYTICS_SCHEDULE_SECURE_REPO_MASTER_SSH_CREDENTIAL_FILE": "aws.pem",
    "ANALYTICS_SCHEDULE_JOBS_DSL_REPO_URL": "git@github.com:edx/jenkins-job-dsl.git",
    "ANALYTICS_SCHEDULE_JOBS_DSL_REPO_VERSION": "master",
    "ANALYTICS_SCHEDULE_JOBS_DSL_REPO_CREDENTIAL_ID": _GIT_CREDENTIAL_ID,
    "ANALYTICS_SCHEDULE_SEED_JOB_NAME": "AnalyticsSeedJob",
    "ANALYTICS_SCHEDULE_MASTER_SSH_CREDENTIAL_ID": "ssh-access-key",
    "ANALYTICS_SCHEDULE_MASTER_SSH_CREDENTIAL_USER": "hadoop",
    "ANALYTICS_SCHEDULE_MASTER_SSH_CREDENTIAL_PASSPHRASE": None,
    "ANALYTICS_SCHEDULE_MASTER_SSH_CREDENTIAL_FILE": "{{ jenkins_home }}/workspace/{{ ANALYTICS_SCHEDULE_SEED_JOB_NAME }}/"
    "{{ ANALYTICS_SCHEDULE_SECURE_REPO_DEST }}/{{ ANALYTICS_SCHEDULE_SECURE_REPO_MASTER_SSH_CREDENTIAL_FILE }}",
    # The role's default list: the git credential without a key, and the EMR key as a file in the secure repo checkout.
    "JENKINS_ANALYTICS_CREDENTIALS": [
        {
            "id": _GIT_CREDENTIAL_ID,
            "scope": "GLOBAL",
            "username": "{{ JENKINS_ANALYTICS_GITHUB_CREDENTIAL_USER }}",
            "type": "ssh-private-key",
            "passphrase": "{{ JENKINS_ANALYTICS_GITHUB_CREDENTIAL_PASSPHRASE }}",
            "description": "github access key, generated by ansible",
            "privatekey": "{{ JENKINS_ANALYTICS_GITHUB_CREDENTIAL_KEY }}",
        },
        {
            "id": "{{ ANALYTICS_SCHEDULE_MASTER_SSH_CREDENTIAL_ID }}",
            "scope": "GLOBAL",
            "username": "{{ ANALYTICS_SCHEDULE_MASTER_SSH_CREDENTIAL_USER }}",
            "type": "ssh-private-keyfile",
            "passphrase": "{{ ANALYTICS_SCHEDULE_MASTER_SSH_CREDENTIAL_PASSPHRASE }}",
            "description": "ssh access key, generated by ansible",
            "privatekey": "{{ ANALYTICS_SCHEDULE_MASTER_SSH_CREDENTIAL_FILE }}",
        },
    ],
    "jenkins_private_keyfile": "{{ jenkins_home }}/.ssh/id_rsa",
    "jenkins_admin_users": ["{{ jenkins_user }}"],
    "jenkins_auth_realms_available": {
        "none": {"name": "none", "cli_auth": ""},
        "unix": {
            "name": "unix",
            "service": "su",
            "plain_password": "{{ JENKINS_ANALYTICS_USER_PASSWORD_PLAIN }}",
            "username": "{{ jenkins_user }}",
            "cli_auth": "-i {{ jenkins_private_keyfile }}",
        },
        "github_oauth": {
            "name": "github_oauth",
            "webUri": "{{ JENKINS_ANALYTICS_GITHUB_OAUTH_WEB_URI }}",
            "apiUri": "{{ JENKINS_ANALYTICS_GITHUB_OAUTH_API_URI }}",
            "clientId": "{{ JENKINS_ANALYTICS_GITHUB_OAUTH_CLIENT_ID }}",
            "clientSecret": "{{ JENKINS_ANALYTICS_GITHUB_OAUTH_CLIENT_SECRET }}",
            "oauthScopes": "{{ JENKINS_ANALYTICS_GITHUB_OAUTH_SCOPES }}",
            "cli_auth": "-i {{ jenkins_private_keyfile }}",
        },
    },
    "jenkins_auth_realm": "{{ jenkins_auth_realms_available[JENKINS_ANALYTICS_AUTH_REALM] }}",
    "jenkins_auth_users": {
        "anonymous": ["anonymous"],
        "administrators": "{{ jenkins_admin_users + JENKINS_ANALYTICS_AUTH_ADMINISTRATORS }}",
        "job_builders": "{{ JENKINS_ANALYTICS_AUTH_JOB_BUILDERS | default([]) }}",
    },
    # jenkins_seed_job.multiscm: the job DSL repo, then the secure repo (only the keys the seed job template reads here).
    "jenkins_seed_job": {
        "name": "{{ ANALYTICS_SCHEDULE_SEED_JOB_NAME }}",
        "multiscm": [
            {
                "type": "git",
                "url": "{{ ANALYTICS_SCHEDULE_JOBS_DSL_REPO_URL }}",
                "dest": "",
                "credential_id": "{{ ANALYTICS_SCHEDULE_JOBS_DSL_REPO_CREDENTIAL_ID | default('') }}",
            },
            {
                "type": "git",
                "url": "{{ ANALYTICS_SCHEDULE_SECURE_REPO_URL | default('') }}",
                "dest": "{{ ANALYTICS_SCHEDULE_SECURE_REPO_DEST | default('') }}",
                "credential_id": "{{ ANALYTICS_SCHEDULE_SECURE_REPO_CREDENTIAL_ID | default('') }}",
            },
        ],
    },
}
# jenkins_analytics/tasks/main.yml: the play fails when either holds ("Please change default password for jenkins user",
# "Please change default github oauth client key and secret"); for the unix realm it then sets the jenkins user's shell
# password from `openssl passwd -1 '{{ jenkins_auth_realm.plain_password | quote }}'` (PAM service su checks it).
JENKINS_ROLE_FAILS_WHEN = (
    'jenkins_auth_realm.name == "unix" and jenkins_auth_realm.plain_password == jenkins_auth_realm.username',
    'jenkins_auth_realm.name == "github_oauth" and ((not jenkins_auth_realm.clientId) or (not jenkins_auth_realm.clientSecret))',
)
# templates/jenkins.config.main.xml: "none" writes an unsecured Jenkins (no login, anyone is admin); "unix" a
# PAMSecurityRealm with serviceName jenkins_auth_realm.service; "github_oauth" a GithubSecurityRealm. With a realm, the
# permission matrix grants jenkins_auth_permissions[group] to every member of jenkins_auth_users[group].
JENKINS_LOGIN_REALMS = {"unix", "github_oauth"}
# templates/credentials_file.json.j2 writes JENKINS_ANALYTICS_CREDENTIALS | to_json; addCredentials.groovy creates these
# types, refuses any scope but GLOBAL, and replaces an earlier credential of the same id.
JENKINS_CREDENTIAL_TYPES = {"username-password", "ssh-private-key", "ssh-private-keyfile"}
# templates/seedJob.groovy: an scm entry with an empty url is left out of the seed job; one with a credential_id clones
# with that credential; the SECURE_BRANCH parameter defaults to ANALYTICS_SCHEDULE_SECURE_REPO_VERSION.

# ---- edx-analytics-pipeline ---------------------------------------------------------------------------------------
# edx/analytics/tasks/common/elasticsearch_load.py: [elasticsearch] host is a luigi.ListParameter up to lilac (URLs or
# host:port pairs, signed by util/aws_elasticsearch_connection.py through boto 2, which takes the region from the
# endpoint's host name), a luigi.Parameter from maple (a host name; requests_aws4auth with region = 'us-east-1').
ES_HOST_IS_LIST = {release: release in ("ironwood", "juniper", "koa", "lilac") for release in RELEASES}
ES_SIGNING_REGION = {release: None if ES_HOST_IS_LIST[release] else "us-east-1" for release in RELEASES}
# Every (section, option) the pipeline reads through luigi config_path or configuration.get_config() in the sections
# analytics-override.cfg writes; the same set at all six branches.
PIPELINE_READS = {
    ("answer-distribution", "valid_response_types"),
    ("calendar", "interval"),
    *[
        ("course-blocks", key)
        for key in ("api_root_url", "api_token_type", "deleted_blocks_path", "partition_format", "path_delimiter", "sort_orphan_blocks_up")
    ],
    ("course-list", "api_root_url"),
    ("course-list", "page_size"),
    ("course-list", "partition_format"),
    ("database-export", "credentials"),
    ("database-export", "database"),
    ("database-import", "credentials"),
    ("database-import", "database"),
    ("database-import", "destination"),
    *[("edx-rest-api", key) for key in ("auth_url", "client_id", "client_secret", "oauth_password", "oauth_username")],
    ("elasticsearch", "connection_type"),
    ("elasticsearch", "host"),
    ("elasticsearch", "timeout"),
    ("enrollments", "interval_start"),
    ("enrollments", "overwrite_n_days"),
    ("event-logs", "expand_interval"),
    ("event-logs", "pattern"),
    ("event-logs", "source"),
    ("geolocation", "geolocation_data"),
    ("hive", "database"),
    ("hive", "version"),
    ("hive", "warehouse_path"),
    ("location-per-course", "interval_start"),
    ("location-per-course", "overwrite_n_days"),
    ("manifest", "input_format"),
    ("manifest", "lib_jar"),
    ("manifest", "path"),
    ("manifest", "threshold"),
    ("map-reduce", "engine"),
    ("map-reduce", "marker"),
    ("map-reduce", "remote_log_level"),
    *[("module-engagement", key) for key in ("alias", "allow_empty_insert", "number_of_shards", "store_anonymous_username", "throttle")],
    *[
        ("problem-response", key)
        for key in (
            "clean_text_regex",
            "interval_start",
            "partition_format",
            "report_field_datetime_format",
            "report_field_list_delimiter",
            "report_fields",
            "report_filename_template",
            "report_output_root",
        )
    ],
    ("user-activity", "overwrite_n_days"),
    ("videos", "allow_empty_insert"),
    ("videos", "dropoff_threshold"),
    ("videos", "overwrite_n_days"),
}
# Parameters ProblemResponseReportWorkflow needs that have no default (insights/course_list.py, course_blocks.py,
# problem_response.py).
REPORTS_REQUIRED = {("course-list", "api_root_url"), ("course-blocks", "api_root_url"), ("problem-response", "report_output_root")}
# edx/analytics/tasks/launchers/remote.py: --python-version exists from juniper (unknown options go on to the task).
REMOTE_TASK_TAKES_PYTHON_VERSION = since("juniper")
# edx-analytics-configuration automation/run-automated-task.sh: passes --python-version="$PYTHON_VERSION" from juniper,
# and starts with `rm -rf $WORKSPACE/logs` (virtualenvs under $WORKSPACE/venvs).
RUN_AUTOMATED_TASK_PASSES_PYTHON_VERSION = since("juniper")

# ---- edx-analytics-configuration batch/library/emr (every release) ----------------------------------------------------
# Step type 'hive_install' becomes s3://elasticmapreduce/libs/hive/hive-script --install-hive (the AMI-era installer);
# batch/sample-emr-vars.yml, written for release labels, has only the Sqoop script step.
AMI_ERA_STEP_TYPES = {"hive_install", "pig_install"}
