"""``analytics-provisioner local run``: one execution of the real state machine, end to end."""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import execution as executions
from .. import timeline
from ..aws import tags
from ..naming import Names
from ..progress import Layout
from .emulator import Emulator
from .seed import seed

PROVISION = "ProvisionStateMachine"


@dataclass
class Result:
    name: str
    status: str
    output: dict | None
    error: str | None
    cause: str | None
    view: executions.HistoryView = field(repr=False)

    @property
    def transitions(self) -> int:
        return self.view.transitions

    def report(self, resources: list[str]) -> dict:
        return {
            "execution": self.name,
            "status": self.status,
            "error": self.error,
            "cause": self.cause,
            "states": self.view.summary(),
            "state_transitions": self.transitions,
            "resources": resources,
            "output": self.output,
            "warnings": (self.output or {}).get("warnings") or self.view.warnings,
        }


def execute(emulator: Emulator, document: dict, name: str | None = None, on_change=None, machine: str = PROVISION) -> Result:
    sfn = emulator.client("stepfunctions")
    name = name or executions.execution_name(document)
    arn = sfn.start_execution(stateMachineArn=emulator.state_machines[machine], name=name, input=json.dumps(document))["executionArn"]
    described, view = executions.follow(sfn, arn, on_change)
    output = json.loads(described["output"]) if described.get("output") else None
    return Result(name, described["status"], output, described.get("error"), described.get("cause"), view)


def tagged_resources(emulator: Emulator, deployment_id: str) -> list[str]:
    return tags.tagged_arns(emulator.region, deployment_id)


PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600  # the files hold passwords, keys and OAuth2 client secrets


def private_dir(path: Path) -> None:
    """``path`` and its missing parents exist; ``path`` itself is readable by its owner only."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file only its owner may read, from the first byte on (no world-readable moment)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), PRIVATE_FILE)  # an existing file keeps its mode through O_CREAT
        file.write(data)


def download_secure_repo(emulator: Emulator, deployment_id: str, out_dir: Path) -> list[Path]:
    s3, prefix, written = emulator.client("s3"), Names(deployment_id).secure_repo_prefix, []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=emulator.secure_repo_bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            target = out_dir / item["Key"][len(prefix) :]
            private_dir(target.parent)
            write_private(target, s3.get_object(Bucket=emulator.secure_repo_bucket, Key=item["Key"])["Body"].read())
            written.append(target)
    return written


REPORT, FAILURE_REPORT, TIMELINE = "report.json", "failure-report.json", "timeline.svg"


def layout(emulator: Emulator, machine: str = PROVISION) -> Layout:
    """Branches and waits of the deployed state machine, for progress lines and the timeline."""
    return Layout.of(
        emulator.client("stepfunctions").describe_state_machine(stateMachineArn=emulator.state_machines[machine])["definition"]
    )


def clear_previous_run(out_dir: Path) -> None:
    """Remove what an earlier run wrote into ``out_dir`` (the files its report lists, the report), so a
    stale failure report never sits next to a later success; anything else in the directory stays."""
    try:
        previous = json.loads((out_dir / REPORT).read_text())
    except (OSError, ValueError):
        return
    listed = previous.get("files", []) if isinstance(previous, dict) else []
    for name in [*listed, FAILURE_REPORT, TIMELINE, REPORT]:
        path = (out_dir / str(name)).resolve()
        if path.is_relative_to(out_dir.resolve()) and path.is_file():
            path.unlink()


def run(document: dict, out_dir: Path, emulator: Emulator, on_change=None, branches: Layout | None = None) -> dict:
    """Seed, execute once, write the secure-repo files and ``report.json`` into ``out_dir``."""
    seed(emulator, document)
    clear_previous_run(out_dir)
    result = execute(emulator, document, on_change=on_change)
    private_dir(out_dir)
    deployment_id = str(document.get("deployment_id", "invalid"))
    files = download_secure_repo(emulator, deployment_id, out_dir)
    report = result.report(tagged_resources(emulator, deployment_id))
    report["files"] = [str(path.relative_to(out_dir)) for path in files]
    if (out_dir / FAILURE_REPORT).is_file() and result.status != executions.SUCCEEDED:
        report["failure_report"] = str(out_dir / FAILURE_REPORT)
    write_private(out_dir / TIMELINE, timeline.svg(result.view, branches or layout(emulator), f"{result.name} {result.status}").encode())
    report["timeline"] = str(out_dir / TIMELINE)
    write_private(out_dir / REPORT, (json.dumps(report, indent=2, default=str) + "\n").encode())
    return report
