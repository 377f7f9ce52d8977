"""Render: the secure-repo files, from what every earlier phase created and the secrets it stored.

Reads ids, endpoints and secret ARNs from the state and the values from Secrets Manager, builds
one ``RenderContext`` and writes each file (``analytics_provisioner.render``) under the
deployment's prefix of the private secure-repo bucket; the two credentials files also go to the
root of the edxanalytics bucket, where the pipeline reads them. A file whose content did not
change is not written again. Returns S3 URIs and next steps: never a secret value.
"""

from pathlib import PurePosixPath

from ..aws import s3, secrets
from ..aws.errors import aws_call
from ..deployment import Deployment, ResolvedDeployment
from ..errors import ResourceStateError
from ..plan import Change, create, modify, unless_absent
from ..record import lacking
from ..render import files as writers  # every writer and PyYAML: needed on every call, loaded at Init
from ..render import jenkins, manifest
from ..render.context import (
    API_DATABASE,
    INSIGHTS_DATABASE,
    REPORTS_DATABASE,
    AccessKey,
    AppSecrets,
    Buckets,
    DbLogin,
    EmrSettings,
    Pipeline,
    RenderContext,
    Scheduler,
)
from ..render.releases import for_release
from ..settings import Settings
from ..state import IdentityOutput, JenkinsHandover, NetworkOutput, RenderOutput, Resources, VerifyOutput
from .report import FAILURE_REPORT

ACCESS_KEY = ("access_key_id", "secret_access_key")
DB_LOGIN = ("host", "port", "username", "password")
MIGRATION_LOGIN = ("username", "password")
KEY_PAIR = ("private_key",)
CONTENT_TYPES = {".pem": "application/x-pem-file", ".yml": "application/yaml", ".json": "application/json"}


def run(
    deployment: ResolvedDeployment,
    identity: IdentityOutput,
    network: NetworkOutput,
    resources: Resources,
    settings: Settings,
    verify: VerifyOutput | None = None,
    warnings: tuple[str, ...] = (),
) -> RenderOutput:
    """``warnings``: Validate's; ``verify``: the paths Verify proved and the RDS test's verdict."""
    check_upstream(deployment, identity, resources)
    region, prefix = deployment.region, deployment.names.secure_repo_prefix
    bucket = settings.require_secure_repo_bucket()
    secure_repo = f"s3://{bucket}/{prefix}"
    with aws_call("write the secure repo"):
        app_secrets, app_secrets_arn = ensure_app_secrets(deployment)
        ctx = load_context(deployment, identity, network, resources, app_secrets)
        files = writers.render_files(ctx)
        written = [write_file(bucket, prefix, name, text, region) for name, text in files.items()]
        creds_uploaded = upload_pipeline_creds(ctx, files)
        steps = manifest.next_steps(ctx, app_secrets_arn, secure_repo)
        found = all_warnings([*warnings, *network.warnings, *resources.compute.warnings, *(verify.warnings if verify else [])], ctx)
        written.append(write_file(bucket, prefix, manifest.NAME, manifest.render(ctx, written, creds_uploaded, steps, found), region))
        s3.delete_if_present(bucket, prefix + FAILURE_REPORT, region)  # an earlier execution's, now stale
    return RenderOutput(
        secure_repo=secure_repo,
        files=[entry["uri"] for entry in written],
        creds_uploaded=creds_uploaded,
        next_steps=steps,
        warnings=found,
        jenkins=JenkinsHandover(**jenkins.summary(ctx, app_secrets_arn)),
        verify=verify,
    )


def check_upstream(deployment: Deployment, identity: IdentityOutput, resources: Resources) -> None:
    """What the types of the state cannot say (the handler has checked the rest): with features.reports,
    the reports user's key and the reports bucket; DbSetup's three databases."""
    if deployment.features.reports:
        needed = {
            "identity.reports_key_secret_arn": identity.reports_key_secret_arn,
            "resources.storage.buckets.reports": resources.storage.buckets.reports,
        }
        missing = [path for path, value in needed.items() if value is None]
        if missing:
            raise lacking(missing)
    absent = {INSIGHTS_DATABASE, API_DATABASE, REPORTS_DATABASE} - set(resources.database.setup.databases)
    if absent:
        raise ResourceStateError(
            f"DbSetup reports no database {', '.join(sorted(absent))} on the analytics server; start the same input again"
        )


def ensure_app_secrets(deployment: Deployment) -> tuple[AppSecrets, str]:
    """Generated once and reused by every re-run, whatever ``rotate_generated_passwords`` says: the LMS
    registers the OAuth2 clients with these values, so a new pair would lock Insights out."""
    name, region, owner = deployment.names.app_secrets_secret, deployment.region, deployment.deployment_id
    arn = secrets.arn_if_ours(name, region, owner)
    stored = secrets.read_json(arn, region, purpose="generated application secrets") if arn else {}
    app = AppSecrets.completing(stored)
    if arn is None or any(stored.get(key) != value for key, value in app.as_dict().items()):
        arn = secrets.put_json(
            name,
            {**stored, **app.as_dict()},
            region,
            owner,
            description="Analytics API, Insights and OAuth2 client secrets (analytics-provisioner Render)",
        )
    return app, arn


def _login(secret_id: str, region: str, purpose: str) -> DbLogin:
    value = secrets.read_json(secret_id, region, DB_LOGIN, purpose)
    return DbLogin(value["host"], str(value["port"]), value["username"], value["password"])


def _access_key(secret_id: str, region: str, purpose: str) -> AccessKey:
    value = secrets.read_json(secret_id, region, ACCESS_KEY, purpose)
    return AccessKey(value["access_key_id"], value["secret_access_key"])


def load_context(
    deployment: Deployment, identity: IdentityOutput, network: NetworkOutput, resources: Resources, app_secrets: AppSecrets
) -> RenderContext:
    region, edxapp, options = deployment.region, deployment.edxapp, deployment.options
    release = for_release(options.openedx_release)
    setup, storage, compute = resources.database.setup, resources.storage.buckets, resources.compute
    migration = secrets.read_opted_in(
        edxapp.migration_secret_id, region, deployment.deployment_id, MIGRATION_LOGIN, "edxapp.migration_secret_id"
    )
    key_pair, deploy_key = compute.key_pairs.analytics, compute.key_pairs.jenkins_deploy
    reports_key_arn = identity.reports_key_secret_arn if deployment.features.reports else None
    reports_key = _access_key(reports_key_arn, region, "reports user key") if reports_key_arn else None
    return RenderContext(
        deployment_id=deployment.deployment_id,
        region=region,
        release=release,
        lms_host=edxapp.lms_host,
        cms_host=edxapp.cms_host,
        scheme=edxapp.scheme,
        contact_email=edxapp.contact_email,
        migration_user=migration["username"],
        migration_password=migration["password"],
        analytics_db=_login(setup.analytics_db_secret_arn, region, "analytics database user"),
        edxapp_ro_db=_login(setup.edxapp_ro_secret_arn, region, "edxapp read-only user"),
        es_endpoint=resources.search.endpoint,
        es_key=_access_key(identity.es_key_secret_arn, region, "Elasticsearch user key"),
        reports_key=reports_key,
        app=app_secrets,
        buckets=Buckets(
            emr=storage.emr,
            emr_logs=storage.emr_logs,
            edxanalytics=storage.edxanalytics,
            hadoop=storage.hadoop,
            tracking_logs=storage.tracking_logs,
            reports=storage.reports if deployment.features.reports else None,
            grades=edxapp.grades_bucket,
        ),
        emr=EmrSettings(
            instance_profile=identity.emr_ec2_instance_profile,
            key_pair_name=key_pair.name,
            subnet_id=network.subnet_id,
            release_label=options.emr_release_label,
            cluster_name=deployment.names.emr_cluster,
        ),
        pipeline=Pipeline(
            options.pipeline_tasks_repo,
            options.pipeline_tasks_branch or release.branch,
            options.pipeline_config_repo,
            options.pipeline_config_branch or release.branch,
        ),
        analytics_private_key=secrets.read_json(key_pair.secret_arn, region, KEY_PAIR, "analytics key pair")["private_key"],
        insights_public_ip=compute.eip.public_ip,
        scheduler=Scheduler(
            deploy_key=secrets.read_json(deploy_key.secret_arn, region, KEY_PAIR, "Jenkins deploy key")["private_key"],
            deploy_public_key=deploy_key.public_key,
            secure_repo_url=deployment.jenkins.secure_repo_url,
            secure_repo_branch=deployment.jenkins.secure_repo_branch,
            host_private_ip=compute.analytics_instances[0].private_ip,
            director_public_ip=compute.director_instance.public_ip,
        ),
    )


def all_warnings(earlier: list[str], ctx: RenderContext) -> list[str]:
    """The earlier phases' warnings (already in the state) and ours: the execution's output is where people look."""
    return list(dict.fromkeys(earlier + manifest.warnings(ctx)))


def _content_type(name: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(name).suffix, "text/plain; charset=utf-8")


def write_file(bucket: str, prefix: str, name: str, text: str, region: str) -> dict:
    stored = s3.put_if_changed(bucket, prefix + name, text.encode(), region, _content_type(name))
    return {"path": name, "uri": stored["uri"], "version_id": stored["version_id"]}


def upload_pipeline_creds(ctx: RenderContext, files: dict[str, str]) -> list[str]:
    """The pipeline reads the credentials files from the root of the edxanalytics bucket."""
    return [
        s3.put_if_changed(ctx.buckets.edxanalytics, key, files[name].encode(), ctx.region, "application/json")["uri"]
        for name, key in writers.PIPELINE_CREDS.items()
    ]


# The plan: what run() would do, found with reads only ---------------------------------------------
def plan(deployment: Deployment, secure_repo_bucket: str) -> list[Change]:
    names, region = deployment.names, deployment.region
    changes = [
        unless_absent(
            secrets.describe(names.app_secrets_secret, region),
            "secret",
            names.app_secrets_secret,
            "generated application and OAuth2 client secrets",
            "holds the application secrets, reused",
        )
    ]
    files = [(secure_repo_bucket, names.secure_repo_prefix + name) for name in [*writers.FILES, manifest.NAME]]
    files += [(names.edxanalytics_bucket, key) for key in writers.PIPELINE_CREDS.values()]
    for bucket, key in files:
        uri = f"s3://{bucket}/{key}"
        if s3.head(bucket, key, region) is None:
            changes.append(create("rendered file", uri, "rendered from the deployment's resources and secrets"))
        else:
            changes.append(modify("rendered file", uri, "rendered again; written only if its content changed"))
    return changes
