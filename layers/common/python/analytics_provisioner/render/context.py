"""Everything the secure-repo files say, as one typed value.

The renderers are pure functions of a ``RenderContext``; ``phases/render.py`` builds it from the
workflow's state and Secrets Manager, and tests build it directly. The parts are NamedTuples, not
frozen dataclasses: defining one costs about 0.05 ms instead of 0.7, which kept Render's cold start
over 1.3 x ``import boto3`` (docs/performance.md); ``_replace`` is ``dataclasses.replace``.
"""

import secrets
import string
from typing import NamedTuple

from .releases import Release

# Databases DbSetup creates on the analytics server, and the edxapp database the pipeline imports.
INSIGHTS_DATABASE = "dashboard"
API_DATABASE = "analytics-api"
REPORTS_DATABASE = "reports"
EDXAPP_DATABASE = "edxapp"

# The user EMR nodes accept SSH logins for (with the cluster's key pair).
EMR_SSH_USER = "hadoop"

# The Analytics API user Insights authenticates as, with ``ANALYTICS_API_AUTH_TOKEN``.
API_USER = "insights"

# The Analytics API's learner index and the pipeline's alias for it must be the same name.
LEARNERS_INDEX = "roster_1_2"
LEARNERS_UPDATE_INDEX = "index_updates"

# The first day of tracking logs the pipeline considers (the pipeline's own sample value);
# days without logs are skipped, so an early date only costs a few empty listings.
HISTORY_START = "2013-11-01"


class DbLogin(NamedTuple):
    """A MySQL login as the pipeline's credentials files hold it (port as a string)."""

    host: str
    port: str
    username: str
    password: str

    def as_creds(self) -> dict:
        return {"host": self.host, "port": self.port, "username": self.username, "password": self.password}


class AccessKey(NamedTuple):
    access_key_id: str
    secret_access_key: str


class OAuthClient(NamedTuple):
    client_id: str
    client_secret: str


def _alphanumeric(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


class AppSecrets(NamedTuple):
    """Secrets the applications share, generated once and kept in ``Names.app_secrets_secret``;
    a key added later is generated on the next run, stored ones never change.

    ``sso_client`` is the LMS OAuth2 client Insights logs users in with (authorization code);
    ``backend_client`` the one Insights (juniper on) and the pipeline call LMS APIs with
    (client credentials). The LMS must register both with these ids and secrets.
    ``jenkins_password`` is how a person logs in to Jenkins, as user ``jenkins``.
    """

    api_secret_key: str
    api_auth_token: str
    insights_secret_key: str
    api_jwt_secret_key: str
    sso_client_id: str
    sso_client_secret: str
    backend_client_id: str
    backend_client_secret: str
    jenkins_password: str

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return cls._fields

    @classmethod
    def generate(cls) -> "AppSecrets":
        return cls(
            api_secret_key=secrets.token_urlsafe(48),
            # The API stores tokens in Django REST framework's Token model: at most 40 characters.
            api_auth_token=secrets.token_hex(20),
            insights_secret_key=secrets.token_urlsafe(48),
            # HS256 key of the JWT issuer the Analytics API trusts (its JwtAuthentication, lilac on); only this
            # deployment knows it, where the roles' default 'SET-ME-PLEASE' would let anyone sign a token.
            api_jwt_secret_key=secrets.token_urlsafe(48),
            # Django OAuth Toolkit's own generator: 40-character ids, 128-character secrets.
            sso_client_id=_alphanumeric(40),
            sso_client_secret=_alphanumeric(128),
            backend_client_id=_alphanumeric(40),
            backend_client_secret=_alphanumeric(128),
            # The jenkins user's login (the role's Unix realm: PAM service su) and shell password; letters and
            # digits, so no shell, PAM or XML quoting can change it on the way.
            jenkins_password=_alphanumeric(32),
        )

    @classmethod
    def completing(cls, stored: dict) -> "AppSecrets":
        """The stored values, with any missing one newly generated (stored ones never change)."""
        fresh = cls.generate()
        return cls(**{key: stored.get(key) or getattr(fresh, key) for key in cls.keys()})  # noqa: SIM118  # the class's field names, not a dict's keys

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in self.keys()}

    @property
    def sso_client(self) -> OAuthClient:
        return OAuthClient(self.sso_client_id, self.sso_client_secret)

    @property
    def backend_client(self) -> OAuthClient:
        return OAuthClient(self.backend_client_id, self.backend_client_secret)


class Email(NamedTuple):
    """The SMTP server Insights is configured with (``input.email``); the password comes from its secret."""

    host: str
    port: int
    username: str = ""
    password: str = ""

    def as_settings(self) -> dict:
        return {"host": self.host, "port": self.port, "username": self.username, "password": self.password}


class Buckets(NamedTuple):
    emr: str
    emr_logs: str
    edxanalytics: str
    hadoop: str
    tracking_logs: str
    reports: str | None = None
    grades: str | None = None


class EmrSettings(NamedTuple):
    instance_profile: str
    key_pair_name: str
    subnet_id: str
    release_label: str
    cluster_name: str


class Pipeline(NamedTuple):
    tasks_repo: str
    tasks_branch: str
    config_repo: str
    config_branch: str


class Scheduler(NamedTuple):
    """Jenkins on the analytics instance: the git deploy key its seed job clones the secure repo with (the
    private half from Secrets Manager, the public half for the operator), the secure repo (None until the
    input names it), and where an operator reaches it through SSH."""

    deploy_key: str
    deploy_public_key: str
    secure_repo_url: str | None
    secure_repo_branch: str
    host_private_ip: str
    director_public_ip: str | None


class RenderContext(NamedTuple):
    deployment_id: str
    region: str
    release: Release
    # the edxapp site
    lms_host: str
    cms_host: str
    scheme: str
    contact_email: str
    migration_user: str
    migration_password: str
    # what the workflow created
    analytics_db: DbLogin
    edxapp_ro_db: DbLogin
    es_endpoint: str
    es_key: AccessKey
    reports_key: AccessKey | None
    app: AppSecrets
    buckets: Buckets
    emr: EmrSettings
    pipeline: Pipeline
    analytics_private_key: str
    insights_public_ip: str
    scheduler: Scheduler
    email: Email | None = None

    @property
    def lms_url(self) -> str:
        return f"{self.scheme}://{self.lms_host}"

    @property
    def cms_url(self) -> str:
        return f"{self.scheme}://{self.cms_host}"

    @property
    def insights_url(self) -> str:
        """Insights answers on the Elastic IP over HTTP until a DNS name and a certificate exist."""
        return f"http://{self.insights_public_ip}"

    @property
    def es_url(self) -> str:
        return f"https://{self.es_endpoint}"

    @property
    def reports_enabled(self) -> bool:
        return self.reports_key is not None and self.buckets.reports is not None

    def creds_uri(self, name: str) -> str:
        """Where the pipeline reads a credentials file: the root of the edxanalytics bucket."""
        return f"s3://{self.buckets.edxanalytics}/{name}"
