"""A POSIX shell (dash) sources jenkins_env, as every Jenkins job does, and passes the values to its children."""

import json
import subprocess

import pytest
from secure_repo import VENV_BIN

from upstream import RELEASES, REMOTE_TASK_TAKES_PYTHON_VERSION, RUN_AUTOMATED_TASK_PASSES_PYTHON_VERSION, branch

EXPECTED_NAMES = {
    "AWS_REGION",
    "HOME",
    "WORKON_HOME",
    "EXTRA_VARS",
    "CLUSTER_NAME",
    "START_DATE",
    "CONFIG_REPO",
    "CONFIG_BRANCH",
    "TASKS_REPO",
    "TASKS_BRANCH",
    "TASK_USER",
    "OVERRIDE_CONFIG",
    "TERMINATE",
    "NUM_REDUCE_TASKS",
    "VIRTUALENV_EXTRA_ARGS",
    "SCRIPT_RUNNER_JAR_S3_URL",
    "TRACKING_LOGS_S3_BUCKET",
    "HADOOP_S3_BUCKET",
    "TASK_CONFIGURATION_S3_BUCKET",
    "EDXAPP_S3_BUCKET",
}


def sourced_environment(env_file, **job_environment) -> dict:
    """``set -eu``: an unset variable or a failing line stops the job, as it would in Jenkins."""
    script = f'set -eu; . "{env_file}"; exec python3 -c "import json, os; print(json.dumps(dict(os.environ)))"'
    result = subprocess.run(
        ["/bin/sh", "-c", script], capture_output=True, text=True, check=True, env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", **job_environment}
    )
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_a_posix_shell_sources_and_exports_every_variable(render_repo):
    repo = render_repo()
    env_file = repo.path("analytics-tasks/jenkins_env")
    subprocess.run(["/bin/sh", "-n", str(env_file)], check=True)
    environment = sourced_environment(env_file)
    ctx = repo.ctx
    assert set(environment) >= EXPECTED_NAMES
    assert environment["AWS_REGION"] == ctx.region
    assert environment["HOME"] == "/home/jenkins"
    assert environment["EXTRA_VARS"] == "@/home/jenkins/emr-vars.yml"
    assert environment["OVERRIDE_CONFIG"] == "/home/jenkins/analytics-override.cfg"
    assert environment["CLUSTER_NAME"] == ctx.emr.cluster_name
    assert environment["TASK_USER"] == "hadoop" and environment["TERMINATE"] == "true"
    assert environment["CONFIG_REPO"].endswith("edx-analytics-configuration.git")
    assert environment["TASKS_REPO"].endswith("edx-analytics-pipeline.git")
    assert environment["SCRIPT_RUNNER_JAR_S3_URL"] == f"s3://{ctx.region}.elasticmapreduce/libs/script-runner/script-runner.jar"
    assert (
        environment["TRACKING_LOGS_S3_BUCKET"],
        environment["HADOOP_S3_BUCKET"],
        environment["TASK_CONFIGURATION_S3_BUCKET"],
        environment["EDXAPP_S3_BUCKET"],
    ) == (ctx.buckets.tracking_logs, ctx.buckets.hadoop, ctx.buckets.emr, ctx.buckets.grades)
    assert int(environment["NUM_REDUCE_TASKS"]) > 0 and environment["VIRTUALENV_EXTRA_ARGS"] == ""


def test_jenkins_env_holds_no_secret(render_repo):
    repo = render_repo()
    text = repo.path("analytics-tasks/jenkins_env").read_text()
    ctx = repo.ctx
    for secret in [
        ctx.analytics_db.password,
        ctx.edxapp_ro_db.password,
        ctx.migration_password,
        ctx.es_key.secret_access_key,
        ctx.reports_key.secret_access_key,
        "PRIVATE KEY",
        *ctx.app.as_dict().values(),
    ]:
        assert secret not in text


@pytest.mark.parametrize("release", RELEASES)
def test_the_pipeline_and_its_emr_playbooks_run_at_the_release(render_repo, release):
    """TASKS_BRANCH and CONFIG_BRANCH follow the release, and agree: run-automated-task.sh (CONFIG_BRANCH) passes
    --python-version from juniper on, which remote-task (TASKS_BRANCH) only takes from juniper on."""
    environment = sourced_environment(render_repo(branch(release)).path("analytics-tasks/jenkins_env"))
    assert environment["TASKS_BRANCH"] == environment["CONFIG_BRANCH"] == branch(release)
    tasks, config = (environment[name].split("/")[1].split(".")[0] for name in ("TASKS_BRANCH", "CONFIG_BRANCH"))
    assert config not in RUN_AUTOMATED_TASK_PASSES_PYTHON_VERSION or tasks in REMOTE_TASK_TAKES_PYTHON_VERSION


def test_each_job_keeps_its_own_workspace(render_repo):
    """run-automated-task.sh starts with rm -rf $WORKSPACE/logs: two executors sharing one WORKSPACE delete each other's logs."""
    env_file = render_repo().path("analytics-tasks/jenkins_env")
    jobs = [sourced_environment(env_file, WORKSPACE=f"/edx/var/jenkins/workspace/{job}") for job in ("AnswerDistribution", "Enrollments")]
    assert [job["WORKSPACE"] for job in jobs] == ["/edx/var/jenkins/workspace/AnswerDistribution", "/edx/var/jenkins/workspace/Enrollments"]
