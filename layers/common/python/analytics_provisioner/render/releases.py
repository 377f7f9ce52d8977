"""What changes with the target Open edX release (``options.openedx_release``).

The ansible roles, the Analytics API and the pipeline renamed keys and changed formats over the
releases; every such choice lives here, so each renderer asks the release instead of comparing
names. Sources: the ``insights``, ``analytics_api`` and ``jenkins_master`` roles of each release's
``configuration`` repo, ``edx-analytics-data-api``'s requirements, ``edx-analytics-pipeline``.
"""

from dataclasses import dataclass

from ..errors import InputError

OIDC = "oidc"  # ironwood: INSIGHTS_OAUTH2_KEY/SECRET/URL_ROOT + INSIGHTS_OIDC_LOGOUT_URL
EDX_OAUTH2 = "edx-oauth2"  # juniper on: SOCIAL_AUTH_EDX_OAUTH2_* (SSO) + BACKEND_SERVICE_EDX_OAUTH2_*

ES_HOSTS_JSON_URLS = "json-url-list"  # pipelines up to koa: host = ["https://<endpoint>"]
ES_HOST_BARE = "hostname"  # later pipelines: host = <endpoint>, port 443 implied

# django-storages 1.9 (juniper's Analytics API) dropped the boto2 backend.
S3_BOTO = "storages.backends.s3boto.S3BotoStorage"
S3_BOTO3 = "storages.backends.s3boto3.S3Boto3Storage"

# The Jenkins release the jenkins_analytics role's pinned plugin list was written for.
JENKINS_RELEASE = "1.651.3"


@dataclass(frozen=True)
class Release:
    openedx_release: str
    oauth2_family: str
    jenkins_version_key: str
    es_host_format: str
    report_storage_backend: str

    @property
    def insights_oauth2_complete_path(self) -> str:
        """Where the LMS redirects after login: the client's redirect URI ends with this."""
        return "/complete/edx-oidc/" if self.oauth2_family == OIDC else "/complete/edx-oauth2/"


def _release(name: str, oauth2: str, jenkins_key: str, es_host: str, storage: str) -> Release:
    return Release(f"open-release/{name}.master", oauth2, jenkins_key, es_host, storage)


RELEASES = {
    release.openedx_release: release
    for release in (
        _release("ironwood", OIDC, "jenkins_version", ES_HOSTS_JSON_URLS, S3_BOTO),
        _release("juniper", EDX_OAUTH2, "JENKINS_VERSION", ES_HOSTS_JSON_URLS, S3_BOTO3),
        _release("koa", EDX_OAUTH2, "JENKINS_VERSION", ES_HOSTS_JSON_URLS, S3_BOTO3),
        _release("lilac", EDX_OAUTH2, "JENKINS_VERSION", ES_HOST_BARE, S3_BOTO3),
        _release("maple", EDX_OAUTH2, "JENKINS_VERSION", ES_HOST_BARE, S3_BOTO3),
        _release("nutmeg", EDX_OAUTH2, "JENKINS_VERSION", ES_HOST_BARE, S3_BOTO3),
    )
}


def for_release(openedx_release: str) -> Release:
    try:
        return RELEASES[openedx_release]
    except KeyError:
        known = ", ".join(sorted(RELEASES))
        raise InputError(f"options.openedx_release: {openedx_release!r} is not a release we can render for; use one of {known}") from None
