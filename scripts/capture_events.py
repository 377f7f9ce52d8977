"""Regenerate events/functions/<function>.json: the event each function receives in a local run of
events/input-full.json (provisioning, then teardown). Run from the repo root with the dev venv:

    .venv/bin/python scripts/capture_events.py [--mysql mysql://root@127.0.0.1:3306]

The samples feed `sam local invoke <Function> -e events/functions/<function>.json` and the static
test that every function has one. They hold ids, ARNs and endpoints only, like every state.
"""

import argparse
import json

from analytics_provisioner.local import runner
from analytics_provisioner.local.emulator import Emulator
from analytics_provisioner.local.mysql import MysqlServer
from analytics_provisioner.local.seed import seed
from analytics_provisioner.local.template import REPO_ROOT, functions, load

OUT = REPO_ROOT / "events" / "functions"


def sample_failure(state_after_identity: dict, execution_name: str) -> dict:
    """What "Write failure report" receives when a phase fails (here: Network, access denied)."""
    cause = {
        "errorType": "AwsCallError",
        "errorMessage": "Network: ensure security groups: AWS CreateSecurityGroup failed (UnauthorizedOperation: ...)",
    }
    failure = {"phase": "Network", "Error": "AwsCallError", "Cause": json.dumps(cause)}
    return {"failure": failure, "state": {**state_after_identity, "failure": failure}, "execution_name": execution_name}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mysql", default="mysql://root@127.0.0.1:3306")
    args = parser.parse_args()
    document = json.loads((REPO_ROOT / "events" / "input-full.json").read_text())
    code_dirs = {logical_id: spec.code_dir.name for logical_id, spec in functions(load()).items()}
    captured: dict[str, dict] = {}

    def keep_first(function: str, event: dict) -> None:
        captured.setdefault(code_dirs[function], event)

    with Emulator(mysql=MysqlServer.from_url(args.mysql)) as emulator:
        emulator.hook.before_invoke.append(keep_first)
        seed(emulator, document)
        result = runner.execute(emulator, document)
        assert result.status == "SUCCEEDED", result.cause
        keep_first("ReportFunction", sample_failure(captured["network"], result.name))
        teardown = runner.execute(emulator, {"deployment": document}, name="teardown-sample", machine="TeardownStateMachine")
        assert teardown.status == "SUCCEEDED", teardown.cause
    OUT.mkdir(parents=True, exist_ok=True)
    for name, event in sorted(captured.items()):
        (OUT / f"{name}.json").write_text(json.dumps(event, indent=2, sort_keys=True) + "\n")
        print(f"wrote {(OUT / (name + '.json')).relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
