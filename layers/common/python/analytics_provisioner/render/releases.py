"""What changes with the target Open edX release (``options.openedx_release``): one row per release.

Every choice a renderer makes by release is a column here, so the renderers ask the row instead of
comparing names. Each row names the upstream files, at that release's ``open-release/<r>.master``
branch, whose code the row follows (``configuration``, ``edx-analytics-pipeline``,
``edx-analytics-configuration``); tests/consumers/upstream.py holds the facts the tests check.
"""

from typing import NamedTuple

from ..errors import InputError

# How Insights gets its LMS login (authorization code) and backend (client credentials) clients.
OIDC = "oidc"  # ironwood: INSIGHTS_OAUTH2_KEY/SECRET/URL_ROOT + INSIGHTS_OIDC_LOGOUT_URL, redirect /complete/edx-oidc/
# juniper: the role's INSIGHTS_CONFIG holds literal 'insights-sso-key'-style placeholders under misnamed keys and
# templates none of the INSIGHTS_SOCIAL_AUTH_* variables: vars-analytics.yml replaces INSIGHTS_CONFIG as a whole.
EDX_OAUTH2_IN_CONFIG = "edx-oauth2, INSIGHTS_CONFIG replaced"
EDX_OAUTH2 = "edx-oauth2"  # koa on: INSIGHTS_SOCIAL_AUTH_EDX_OAUTH2_* (SSO) + INSIGHTS_BACKEND_SERVICE_EDX_OAUTH2_*

ES_HOSTS_JSON_URLS = "json-url-list"  # luigi.ListParameter: host = ["https://<endpoint>"]
ES_HOST_BARE = "hostname"  # luigi.Parameter: host = <endpoint>, the pipeline adds port 443

# Who signs the pipeline's Elasticsearch requests for which region.
SIGNS_FOR_ENDPOINT_REGION = None  # boto 2's HmacAuthV4Handler reads the region from the endpoint's host name
SIGNS_FOR_US_EAST_1 = "us-east-1"  # requests_aws4auth with region = 'us-east-1' written in the code

# The Jenkins release the jenkins_analytics role's pinned plugin list was written for (the
# jenkins_master role's default at every release).
JENKINS_RELEASE = "1.651.3"

PIPELINE_REPO = "edx-analytics-pipeline"
CONFIGURATION_REPO = "configuration"
EMR_CONFIGURATION_REPO = "edx-analytics-configuration"


class Release(NamedTuple):
    name: str
    oauth2: str
    jenkins_version_key: str
    es_host_format: str
    es_signing_region: str | None
    # juniper on: analytics_single.yml honours SANDBOX_ENABLE_* and installs memcached when
    # EDXAPP_MEMCACHE names localhost; ironwood's runs mysql, edxlocal, memcache and analytics_pipeline
    # (Hadoop, Hive, Sqoop) whatever the switches say.
    analytics_single_honours_switches: bool
    # maple on: the Analytics API reads the learner index alias it queries from its own variable.
    api_reads_learners_alias: bool
    sources: tuple[str, ...]

    @property
    def branch(self) -> str:
        """The branch every repository of this release is pinned to: the apps, the pipeline, the EMR playbooks."""
        return f"open-release/{self.name}.master"

    @property
    def openedx_release(self) -> str:
        return self.branch

    @property
    def insights_oauth2_complete_path(self) -> str:
        """Where the LMS redirects after login: the client's redirect URI ends with this."""
        return "/complete/edx-oidc/" if self.oauth2 == OIDC else "/complete/edx-oauth2/"

    @property
    def app_playbooks(self) -> tuple[str, ...]:
        """The configuration repo's playbooks that install Insights and the Analytics API on the
        analytics instance with ``-e @vars-analytics.yml``, in the runbook's topology (databases on RDS,
        the pipeline on EMR)."""
        return ("analytics_single.yml",) if self.analytics_single_honours_switches else ("analyticsapi.yml", "insights.yml")

    @property
    def playbooks_install_memcached(self) -> bool:
        return self.analytics_single_honours_switches

    def search_signing_problem(self, region: str) -> str | None:
        """Why the pipeline's learner index cannot load into a domain in ``region``, or None when it can."""
        if self.es_signing_region in (None, region):
            return None
        return (
            f"the learner index will not load: {self.name}'s pipeline (edx/analytics/tasks/common/elasticsearch_load.py) "
            f"signs its Elasticsearch requests for {self.es_signing_region} whatever the domain's region, and the "
            f"domain is in {region}, so ModuleEngagementWorkflow fails with 403 and Insights' learner pages stay empty. "
            f"Deploy in {self.es_signing_region}, or choose a release up to lilac (its pipeline signs for the domain's own region)"
        )


# Read at every release: (repository, path at open-release/<r>.master).
COMMON_SOURCES = (
    (CONFIGURATION_REPO, "playbooks/roles/insights/defaults/main.yml"),  # INSIGHTS_VERSION, INSIGHTS_CONFIG
    (CONFIGURATION_REPO, "playbooks/roles/analytics_api/defaults/main.yml"),  # ANALYTICS_API_VERSION, ES variables
    (CONFIGURATION_REPO, "playbooks/roles/jenkins_master/defaults/main.yml"),  # the Jenkins version variable
    (CONFIGURATION_REPO, "playbooks/roles/jenkins_analytics/defaults/main.yml"),  # realm, credentials, seed job repositories
    (CONFIGURATION_REPO, "playbooks/roles/jenkins_analytics/tasks/main.yml"),  # the realm checks that stop the play
    (CONFIGURATION_REPO, "playbooks/analytics_single.yml"),  # which roles run, under which conditions
    (PIPELINE_REPO, "edx/analytics/tasks/common/elasticsearch_load.py"),  # host parameter type, request signing
    (EMR_CONFIGURATION_REPO, "automation/run-automated-task.sh"),  # the remote-task options it passes
)
BOTO2_SIGNING = (PIPELINE_REPO, "edx/analytics/tasks/util/aws_elasticsearch_connection.py")
SPLIT_PLAYBOOKS = ((CONFIGURATION_REPO, "playbooks/analyticsapi.yml"), (CONFIGURATION_REPO, "playbooks/insights.yml"))
# juniper's Insights reads SOCIAL_AUTH_EDX_OAUTH2_* from the YAML the role writes from INSIGHTS_CONFIG, else keeps the
# sandbox values of its base settings.
JUNIPER_DASHBOARD = (
    ("edx-analytics-dashboard", "analytics_dashboard/settings/base.py"),
    ("edx-analytics-dashboard", "analytics_dashboard/settings/yaml_config.py"),
)


def _release(
    name: str, oauth2: str, jenkins_key: str, es_host: str, signing: str | None, single: bool, alias: bool, extra_sources: tuple = ()
) -> Release:
    sources = tuple(f"{repo}@open-release/{name}.master:{path}" for repo, path in COMMON_SOURCES + extra_sources)
    return Release(name, oauth2, jenkins_key, es_host, signing, single, alias, sources)


RELEASES = {
    release.openedx_release: release
    for release in (
        # ironwood: lowercase jenkins_version; host is a ListParameter signed through boto 2's AwsHttpConnection
        # (edx/analytics/tasks/util/aws_elasticsearch_connection.py); analytics_single.yml has no `when:` on its roles;
        # remote-task takes no --python-version, which run-automated-task.sh passes from juniper on.
        _release(
            "ironwood",
            OIDC,
            "jenkins_version",
            ES_HOSTS_JSON_URLS,
            SIGNS_FOR_ENDPOINT_REGION,
            False,
            False,
            SPLIT_PLAYBOOKS + (BOTO2_SIGNING,),
        ),
        _release(
            "juniper",
            EDX_OAUTH2_IN_CONFIG,
            "JENKINS_VERSION",
            ES_HOSTS_JSON_URLS,
            SIGNS_FOR_ENDPOINT_REGION,
            True,
            False,
            JUNIPER_DASHBOARD + (BOTO2_SIGNING,),
        ),
        _release("koa", EDX_OAUTH2, "JENKINS_VERSION", ES_HOSTS_JSON_URLS, SIGNS_FOR_ENDPOINT_REGION, True, False, (BOTO2_SIGNING,)),
        # lilac's pipeline still declares host = luigi.ListParameter and signs with boto 2 (the change to a bare
        # host and a fixed us-east-1 came with maple).
        _release("lilac", EDX_OAUTH2, "JENKINS_VERSION", ES_HOSTS_JSON_URLS, SIGNS_FOR_ENDPOINT_REGION, True, False, (BOTO2_SIGNING,)),
        _release("maple", EDX_OAUTH2, "JENKINS_VERSION", ES_HOST_BARE, SIGNS_FOR_US_EAST_1, True, True),
        _release("nutmeg", EDX_OAUTH2, "JENKINS_VERSION", ES_HOST_BARE, SIGNS_FOR_US_EAST_1, True, True),
    )
}


def for_release(openedx_release: str) -> Release:
    try:
        return RELEASES[openedx_release]
    except KeyError:
        known = ", ".join(sorted(RELEASES))
        raise InputError(f"options.openedx_release: {openedx_release!r} is not a release we can render for; use one of {known}") from None
