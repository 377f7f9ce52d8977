"""A POSIX shell (dash) sources jenkins_env, as every Jenkins job does, and passes the values to its children."""

import json
import subprocess

from secure_repo import VENV_BIN

EXPECTED_NAMES = {
    "AWS_REGION", "HOME", "WORKON_HOME", "EXTRA_VARS", "WORKSPACE", "CLUSTER_NAME", "START_DATE", "CONFIG_REPO", "CONFIG_BRANCH",
    "TASKS_REPO", "TASKS_BRANCH", "TASK_USER", "OVERRIDE_CONFIG", "TERMINATE", "NUM_REDUCE_TASKS", "VIRTUALENV_EXTRA_ARGS",
    "SCRIPT_RUNNER_JAR_S3_URL", "TRACKING_LOGS_S3_BUCKET", "HADOOP_S3_BUCKET", "TASK_CONFIGURATION_S3_BUCKET", "EDXAPP_S3_BUCKET",
}


def sourced_environment(env_file) -> dict:
    """``set -eu``: an unset variable or a failing line stops the job, as it would in Jenkins."""
    script = f'set -eu; . "{env_file}"; exec python3 -c "import json, os; print(json.dumps(dict(os.environ)))"'
    result = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, check=True, env={"PATH": f"{VENV_BIN}:/usr/bin:/bin"})
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_a_posix_shell_sources_and_exports_every_variable(render_repo):
    repo = render_repo()
    env_file = repo.path("analytics-tasks/jenkins_env")
    subprocess.run(["/bin/sh", "-n", str(env_file)], check=True)
    environment = sourced_environment(env_file)
    ctx = repo.ctx
    assert EXPECTED_NAMES <= set(environment)
    assert environment["AWS_REGION"] == ctx.region
    assert environment["HOME"] == "/home/jenkins"
    assert environment["EXTRA_VARS"] == "@/home/jenkins/emr-vars.yml"
    assert environment["OVERRIDE_CONFIG"] == "/home/jenkins/analytics-override.cfg"
    assert environment["CLUSTER_NAME"] == ctx.emr.cluster_name
    assert environment["TASK_USER"] == "hadoop" and environment["TERMINATE"] == "true"
    assert environment["CONFIG_REPO"].endswith("edx-analytics-configuration.git")
    assert environment["TASKS_REPO"].endswith("edx-analytics-pipeline.git")
    assert environment["TASKS_BRANCH"] == "open-release/nutmeg.master"
    assert environment["SCRIPT_RUNNER_JAR_S3_URL"] == f"s3://{ctx.region}.elasticmapreduce/libs/script-runner/script-runner.jar"
    assert (environment["TRACKING_LOGS_S3_BUCKET"], environment["HADOOP_S3_BUCKET"], environment["TASK_CONFIGURATION_S3_BUCKET"],
            environment["EDXAPP_S3_BUCKET"]) == (ctx.buckets.tracking_logs, ctx.buckets.hadoop, ctx.buckets.emr, ctx.buckets.grades)
    assert int(environment["NUM_REDUCE_TASKS"]) > 0 and environment["VIRTUALENV_EXTRA_ARGS"] == ""


def test_jenkins_env_holds_no_secret(render_repo):
    repo = render_repo()
    text = repo.path("analytics-tasks/jenkins_env").read_text()
    ctx = repo.ctx
    for secret in [ctx.analytics_db.password, ctx.edxapp_ro_db.password, ctx.migration_password, ctx.es_key.secret_access_key,
                   ctx.reports_key.secret_access_key, "PRIVATE KEY", *ctx.app.as_dict().values()]:
        assert secret not in text
