"""``analytics-provisioner local run``, the README's demo command, as an operator runs it: the installed
entry point in a subprocess, against the real MariaDB."""

import json
import subprocess
import sys
from pathlib import Path

from testkit import EVENTS, MYSQL_URL

COMMAND = str(Path(sys.executable).parent / "analytics-provisioner")
SECURE_REPO_FILES = {
    "vars-analytics.yml", "analytics.pem", "manifest.json", "analytics-tasks/emr-vars.yml", "analytics-tasks/jenkins_env",
    "analytics-tasks/analytics-override.cfg", "analytics-tasks/edxapp_creds", "analytics-tasks/edxanalytics_creds",
}


def local_run(document: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([COMMAND, "local", "run", "--input", str(document), "--out", str(out), "--mysql", MYSQL_URL],
                          capture_output=True, text=True, timeout=600)


def test_local_run_writes_the_secure_repo_and_the_report(runbook_users, tmp_path):
    result = local_run(EVENTS / "input-minimal.json", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    written = {str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file()}
    assert SECURE_REPO_FILES <= written, SECURE_REPO_FILES - written
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "SUCCEEDED" and report["resources"]
    assert "SUCCEEDED" in result.stderr + result.stdout


def test_local_run_of_a_bad_input_names_the_field_and_prints_no_interpreter_dump(tmp_path):
    document = json.loads((EVENTS / "input-minimal.json").read_text()) | {"deployment_id": "Bad_Id"}
    (tmp_path / "bad.json").write_text(json.dumps(document))
    result = local_run(tmp_path / "bad.json", tmp_path / "out")
    assert result.returncode == 1
    assert "FAILED: Validate.InputError" in result.stderr
    assert "deployment_id: 'Bad_Id' is not valid" in result.stderr
    assert "FailureEventException" not in result.stderr + result.stdout  # moto's multi-kilobyte log lines
    assert max(map(len, result.stderr.splitlines())) < 1000
