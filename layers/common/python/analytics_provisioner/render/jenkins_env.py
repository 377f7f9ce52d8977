"""analytics-tasks/jenkins_env: the environment every Jenkins analytics job sources.

Jenkins echoes the environment into job logs, so nothing secret belongs here: buckets, repos and
paths only. The other analytics-tasks files land next to it in the jenkins user's home. WORKSPACE is
Jenkins' own, one per job: run-automated-task.sh keeps its virtualenvs there and starts with
``rm -rf $WORKSPACE/logs``, so a shared one lets two executors delete each other's logs.
"""

from . import emr_vars
from .context import EMR_SSH_USER, HISTORY_START, RenderContext
from .formats import dump_shell_env

NAME = "analytics-tasks/jenkins_env"

JENKINS_HOME = "/home/jenkins"


def render(ctx: RenderContext) -> str:
    variables = {
        "AWS_REGION": ctx.region,
        "HOME": JENKINS_HOME,
        "WORKON_HOME": f"{JENKINS_HOME}/.virtualenvs",
        "EXTRA_VARS": f"@{JENKINS_HOME}/emr-vars.yml",
        "OVERRIDE_CONFIG": f"{JENKINS_HOME}/analytics-override.cfg",
        "CLUSTER_NAME": ctx.emr.cluster_name,
        "START_DATE": HISTORY_START,
        "CONFIG_REPO": ctx.pipeline.config_repo,
        "CONFIG_BRANCH": ctx.pipeline.config_branch,
        "TASKS_REPO": ctx.pipeline.tasks_repo,
        "TASKS_BRANCH": ctx.pipeline.tasks_branch,
        "TASK_USER": EMR_SSH_USER,
        "TERMINATE": "true",
        # One reduce task per vCPU of the core nodes emr-vars.yml asks for.
        "NUM_REDUCE_TASKS": str(emr_vars.CORE_INSTANCES * emr_vars.INSTANCE_VCPUS),
        "VIRTUALENV_EXTRA_ARGS": "",
        "SCRIPT_RUNNER_JAR_S3_URL": f"s3://{ctx.region}.elasticmapreduce/libs/script-runner/script-runner.jar",
        "TRACKING_LOGS_S3_BUCKET": ctx.buckets.tracking_logs,
        "HADOOP_S3_BUCKET": ctx.buckets.hadoop,
        "TASK_CONFIGURATION_S3_BUCKET": ctx.buckets.emr,
    }
    if ctx.buckets.grades:
        variables["EDXAPP_S3_BUCKET"] = ctx.buckets.grades
    header = f"Environment of the analytics Jenkins jobs of {ctx.deployment_id}; sourced by every job. No secrets (Jenkins logs it)."
    return dump_shell_env(variables, header)
