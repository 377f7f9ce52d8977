"""``analytics-provisioner local run``, the README's demo command, as an operator runs it: the installed
entry point in a subprocess, against the real MariaDB."""

import json
import stat
import subprocess
import sys
from pathlib import Path

import yaml

from analytics_provisioner.naming import Names
from testkit import EVENTS

COMMAND = str(Path(sys.executable).parent / "analytics-provisioner")
SECURE_REPO_FILES = {
    "vars-analytics.yml",
    "analytics.pem",
    "manifest.json",
    "analytics-tasks/emr-vars.yml",
    "analytics-tasks/jenkins_env",
    "analytics-tasks/analytics-override.cfg",
    "analytics-tasks/edxapp_creds",
    "analytics-tasks/edxanalytics_creds",
}


def local_run(document: Path, out: Path, server, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [COMMAND, "local", "run", "--input", str(document), "--out", str(out), "--mysql", server.url, *options],
        capture_output=True,
        text=True,
        timeout=600,
    )


def assert_private(out: Path) -> None:
    """The out dir holds passwords, keys and OAuth2 client secrets: its owner's only."""
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def test_local_run_writes_the_secure_repo_and_the_report(runbook_users, mysql_server, tmp_path):
    out = tmp_path / "out"
    result = local_run(EVENTS / "input-minimal.json", out, mysql_server)
    assert result.returncode == 0, result.stderr[-2000:]
    written = {str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()}
    assert written >= SECURE_REPO_FILES, SECURE_REPO_FILES - written
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "SUCCEEDED" and report["resources"]
    assert "SUCCEEDED" in result.stderr + result.stdout
    assert "verified: 15 of 15 network paths open; the RDS test from the analytics instances: skipped (no analytics instance" in (
        " ".join((result.stderr + result.stdout).split())
    )
    assert report["warnings"] and report["warnings"] == report["output"]["warnings"]
    assert (out / "timeline.svg").read_text().startswith("<svg")
    ending = result.stderr[result.stderr.index("SUCCEEDED") :]
    assert f"{len(report['warnings'])} warning" in ending and all(warning in ending for warning in report["warnings"])
    assert_private(out)
    # provision.yml's job_flow_role: the profile of the deployment's own EMR role, which Identity made
    assert yaml.safe_load((out / "analytics-tasks" / "emr-vars.yml").read_text())["role"] == Names("acme-demo").emr_instance_profile


def test_local_run_of_an_input_aws_refuses_names_the_field_and_prints_no_interpreter_dump(mysql_server, tmp_path):
    document = json.loads((EVENTS / "input-minimal.json").read_text())
    document["network"]["vpc_id"] = "vpc-0badbadbadbadbad0"
    (tmp_path / "bad.json").write_text(json.dumps(document))
    out = tmp_path / "out"
    out.mkdir(mode=0o755)
    (out / "report.json").write_text("{}")  # an earlier run's, world-readable
    (out / "report.json").chmod(0o644)
    result = local_run(tmp_path / "bad.json", out, mysql_server)
    assert result.returncode == 1
    assert_private(out)
    assert "FAILED: Validate.PreflightError" in result.stderr
    assert "network.vpc_id: VPC vpc-0badbadbadbadbad0 does not exist" in result.stderr
    assert f"(failure report: {out / 'failure-report.json'})" in " ".join(result.stderr.split()), "the local copy, not the emulator's S3"
    assert json.loads((out / "failure-report.json").read_text())["phase"] == "Validate"
    assert "FailureEventException" not in result.stderr + result.stdout  # moto's multi-kilobyte log lines
    assert max(map(len, result.stderr.splitlines())) < 1000


def test_local_run_of_an_invalid_input_exits_2_before_anything_runs(mysql_server, tmp_path):
    document = json.loads((EVENTS / "input-minimal.json").read_text()) | {"deployment_id": "Bad_Id"}
    (tmp_path / "bad.json").write_text(json.dumps(document))
    result = local_run(tmp_path / "bad.json", tmp_path / "out", mysql_server, "--json")
    assert result.returncode == 2
    assert "deployment_id: 'Bad_Id' is not valid" in result.stderr and "nothing was started" in result.stderr
    assert json.loads(result.stdout) == {"error": "bad_input", "exit_code": 2, "message": json.loads(result.stdout)["message"]}
    assert not (tmp_path / "out").exists()


def test_a_run_first_removes_what_the_previous_run_wrote_and_nothing_else(tmp_path):
    from analytics_provisioner.local.runner import clear_previous_run

    out = tmp_path / "out"
    (out / "analytics-tasks").mkdir(parents=True)
    for name in ("vars-analytics.yml", "analytics-tasks/emr-vars.yml", "failure-report.json", "timeline.svg", "notes.txt"):
        (out / name).write_text("x")
    (out / "report.json").write_text(json.dumps({"files": ["vars-analytics.yml", "analytics-tasks/emr-vars.yml", "../outside.txt"]}))
    (tmp_path / "outside.txt").write_text("x")
    clear_previous_run(out)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == ["notes.txt"]
    assert (tmp_path / "outside.txt").exists(), "a report never reaches outside --out"


def test_a_local_run_on_a_throwaway_server_needs_no_running_mysql(tmp_path):
    """`make demo`'s default: a private MariaDB started for the run and removed after it."""
    result = subprocess.run(
        [COMMAND, "local", "run", "--input", str(EVENTS / "input-minimal.json"), "--out", str(tmp_path / "out"), "--mysql", "throwaway"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((tmp_path / "out" / "report.json").read_text())["status"] == "SUCCEEDED"
