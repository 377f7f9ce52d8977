"""manifest.json: what was written (with S3 versions) and what a person still has to do. No secrets."""

from . import creds, jenkins
from .context import RenderContext
from .formats import dump_json
from .override_cfg import GEOIP_DATA, HADOOP_UTIL_JAR, report_output_root
from .releases import OIDC

NAME = "manifest.json"
SQOOP_INSTALLER = "install-sqoop"
MYSQL_PORT = "3306"


def next_steps(ctx: RenderContext, app_secrets_id: str, secure_repo_uri: str) -> list[str]:
    steps = [
        *register_oauth2_clients(ctx, app_secrets_id),
        *upload_pipeline_files(ctx),
        *configure_hosts(ctx, app_secrets_id, secure_repo_uri),
    ]
    if ctx.reports_enabled:
        steps.append(
            f"Schedule the problem-response reports: remote-task ... ProblemResponseReportWorkflow --marker "
            f"s3://{ctx.buckets.hadoop}/problem-response/marker/ (analytics-override.cfg's [problem-response] report_output_root "
            f"writes them to {report_output_root(ctx)}, where the Analytics API's download links point)"
        )
    return steps


def register_oauth2_clients(ctx: RenderContext, app_secrets_id: str) -> list[str]:
    redirect = f"{ctx.insights_url}{ctx.release.insights_oauth2_complete_path}"
    source = f"the ids and secrets are the keys sso_client_* and backend_client_* of the Secrets Manager secret {app_secrets_id}"
    if ctx.release.oauth2 == OIDC:
        return [
            f"In the LMS ({ctx.lms_url}, ENABLE_OAUTH2_PROVIDER on) register Insights as a trusted confidential client: "
            f"./manage.py lms create_oauth2_client {ctx.insights_url} {redirect} confidential --client_name insights "
            f"--client_id <sso_client_id> --client_secret <sso_client_secret> --trusted ({source})"
        ]
    return [
        f"In the LMS ({ctx.lms_url}, ENABLE_OAUTH2_PROVIDER on) register the Insights login client: ./manage.py lms "
        f"create_dot_application --grant-type authorization-code --redirect-uris {redirect} --client-id <sso_client_id> "
        f"--client-secret <sso_client_secret> --scopes user_id --skip-authorization insights-sso <staff user> ({source})",
        "Register the backend client Insights and the pipeline call LMS APIs with: ./manage.py lms create_dot_application "
        "--grant-type client-credentials --client-id <backend_client_id> --client-secret <backend_client_secret> "
        "insights-backend-service <staff user>",
    ]


def upload_pipeline_files(ctx: RenderContext) -> list[str]:
    return [
        f"Upload {HADOOP_UTIL_JAR}, {SQOOP_INSTALLER} and the MySQL JDBC connector jar to s3://{ctx.buckets.emr}/ "
        "(emr-vars.yml's Sqoop step and the pipeline's [manifest] lib_jar read them there)",
        f"Upload the MaxMind {GEOIP_DATA} to s3://{ctx.buckets.edxanalytics}/{GEOIP_DATA} ([geolocation] geolocation_data)",
    ]


def playbook_command(ctx: RenderContext, playbook: str) -> str:
    return f"ansible-playbook -i '<analytics instance>,' playbooks/{playbook} -e @vars-analytics.yml"


def install_apps(ctx: RenderContext, secure_repo_uri: str) -> list[str]:
    """The release's playbooks, in the runbook's topology: databases on RDS, the pipeline on EMR."""
    release = ctx.release
    where = f"From the director, with the configuration repo checked out at {release.branch} and vars-analytics.yml from {secure_repo_uri}"
    steps = []
    if not release.playbooks_install_memcached:
        steps.append(
            f"{where}: install memcached on the analytics instance (ansible -i '<analytics instance>,' all -b -m apt "
            f"-a 'name=memcached update_cache=yes'); {release.name}'s analyticsapi.yml and insights.yml do not, and "
            "both apps' caches point at localhost:11211"
        )
    commands = " then ".join(playbook_command(ctx, playbook) for playbook in release.app_playbooks)
    why = (
        ""
        if release.analytics_single_honours_switches
        else f" ({release.name}'s analytics_single.yml ignores the SANDBOX_ENABLE_* switches and would install MySQL, "
        "Hadoop, Hive and Sqoop on the instance)"
    )
    steps.append(f"{where}, install Insights and the Analytics API: {commands}{why}")
    return steps


def configure_hosts(ctx: RenderContext, app_secrets_id: str, secure_repo_uri: str) -> list[str]:
    return [
        *install_apps(ctx, secure_repo_uri),
        *jenkins.next_steps(ctx, app_secrets_id, secure_repo_uri, playbook_command(ctx, "analytics-jenkins.yml")),
        f"Insights answers at {ctx.insights_url} (the Elastic IP): point a DNS name at it; once it serves HTTPS, set "
        "INSIGHTS_BASE_URL and the login client's redirect URI to that name",
    ]


def warnings(ctx: RenderContext) -> list[str]:
    found = list(filter(None, [ctx.release.search_signing_problem(ctx.region)]))
    for name, login in ((creds.EDXAPP, ctx.edxapp_ro_db), (creds.EDXANALYTICS, ctx.analytics_db)):
        if login.port != MYSQL_PORT:
            found.append(f"{name}: the server listens on {login.port}, but the pipeline's Sqoop import ignores the port and uses 3306")
    return found


def render(ctx: RenderContext, files: list[dict], creds_uploaded: list[str], steps: list[str], found_warnings: list[str]) -> str:
    release = ctx.release
    return dump_json(
        {
            "deployment_id": ctx.deployment_id,
            "region": ctx.region,
            "openedx_release": release.openedx_release,
            "release_choices": {
                "app_and_pipeline_branch": release.branch,
                "pipeline_branches": {"tasks": ctx.pipeline.tasks_branch, "configuration": ctx.pipeline.config_branch},
                "app_playbooks": list(release.app_playbooks),
                "oauth2": release.oauth2,
                "jenkins_version_key": release.jenkins_version_key,
                "elasticsearch_host_format": release.es_host_format,
                "elasticsearch_signing_region": release.es_signing_region or "the domain's",
                "sources": list(release.sources),
            },
            "files": files,
            "creds_uploaded": creds_uploaded,
            "next_steps": steps,
            "warnings": found_warnings,
        }
    )
