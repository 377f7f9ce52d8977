"""Critical path: the provisioning workflow against simulated AWS provisioning times, as a ratio to
the slowest single resource (target <= 1.15), next to the same latencies run in the runbook's
sequential order.

    .venv/bin/python benchmarks/critical_path.py [--minute-seconds 2.5] [--json]

Local mode runs the real state machine and the real handlers against moto, with one change: the
slow resources report "not ready" until their simulated provisioning time has passed. A resource's
simulated clock is the wall time since the call that created it divided by the time scale; the Wait
states (and Retry/botocore back-off) sleep their seconds times the same scale. Everything else (the
phases' own Python run time, moto, the real DbSetup against MariaDB) runs at full wall-clock cost
and counts: at small scales it dominates the ratio, so the default scale keeps the simulated
latencies at least ten times the phases' own run time (printed as the instant run).

Needs the MariaDB of the tests (--mysql, default mysql://root@127.0.0.1:3306). It holds the tests'
lock on the runbook's fixed database users while it runs, so it never collides with a test run.
Exits 1 when an execution fails or the workflow misses the target.
"""

import argparse
import contextlib
import copy
import json
import math
import os
import platform
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from unittest import mock

from analytics_provisioner.aws import instances, rds, search
from analytics_provisioner.deployment import Options
from analytics_provisioner.local.emulator import Emulator
from analytics_provisioner.local.mysql import MysqlServer
from analytics_provisioner.local.runner import PROVISION, execute
from analytics_provisioner.local.seed import seed

REPO = Path(__file__).resolve().parents[1]
TARGET = 1.15
RUNBOOK_USERS_LOCK = "analytics-provisioner: runbook users"  # the lock tests/conftest.py runbook_users takes
SEQUENTIAL = "SequentialProvision"
# The runbook's order for what the workflow runs in parallel: the grades bucket policy and the
# reports bucket (IAM section), the Elasticsearch domain, the EC2 instances, then RDS and its databases.
RUNBOOK_ORDER = ("storage", "search", "compute", "database")
POLL_LOOPS = {"search": "Check search domain", "database": "Check analytics RDS instance"}
RESOURCE_LABELS = {"search": "search domain", "database": "analytics RDS"}


# --- simulated provisioning times ---------------------------------------------------------------
@dataclass(frozen=True)
class Latencies:
    """Simulated seconds from the create call until AWS reports the resource ready."""

    search: float
    database: float
    instances: float


@dataclass
class Timeline:
    """When (monotonic wall clock) one slow resource was created and first reported ready."""

    kind: str
    created: float
    seen_ready: float | None = None


@dataclass
class Simulation:
    """Patches the readiness reads the phases use (aws/search.domain_ready, aws/rds.instance_ready,
    aws/instances.wait_running) so each resource turns ready ``latency`` simulated seconds after its
    create call; everything else still goes to moto."""

    latencies: Latencies
    scale: float
    timelines: dict[str, Timeline] = field(default_factory=dict)
    _launched: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def simulated_since(self, moment: float) -> float:
        return (time.monotonic() - moment) / self.scale

    @contextlib.contextmanager
    def installed(self):
        with contextlib.ExitStack() as stack:
            for module, name, wrapper in (
                (search, "create_domain", self._created("search", lambda config: config["DomainName"])),
                (rds, "create_instance", self._created("database", lambda params: params["DBInstanceIdentifier"])),
                (search, "domain_ready", self._ready("search", "DomainName")),
                (rds, "instance_ready", self._ready("database", "DBInstanceIdentifier")),
                (instances, "run_instance", self._run_instance),
                (instances, "wait_running", self._wait_running),
            ):
                stack.enter_context(mock.patch.object(module, name, wrapper(getattr(module, name))))
            yield self

    def _created(self, kind: str, name_of):
        def wrap(real):
            def create(request, *args, **kwargs):
                described = real(request, *args, **kwargs)
                with self._lock:
                    self.timelines[name_of(request)] = Timeline(kind, created=time.monotonic())
                return described

            return create

        return wrap

    def _ready(self, kind: str, name_key: str):
        latency = getattr(self.latencies, kind)

        def wrap(real):
            def ready(described: dict) -> bool:
                timeline = self.timelines.get(described[name_key])
                if timeline is None:  # not created in this run: as moto has it
                    return real(described)
                if self.simulated_since(timeline.created) < latency:
                    return False
                if timeline.seen_ready is None:
                    timeline.seen_ready = time.monotonic()
                return real(described)

            return ready

        return wrap

    def _run_instance(self, real):
        def run_instance(request: dict, region: str):
            launched = real(request, region)
            if launched is not None:
                with self._lock:
                    self._launched.setdefault(launched["InstanceId"], time.monotonic())
            return launched

        return run_instance

    def _wait_running(self, real):
        """EC2's instance_running waiter checks at once, then every ``Delay`` seconds."""
        delay = instances.RUNNING_WAIT["Delay"]

        def wait_running(instance_ids: list[str], region: str) -> None:
            launched = [self._launched[i] for i in instance_ids if i in self._launched]
            remaining = max((self.latencies.instances - self.simulated_since(moment) for moment in launched), default=0)
            if remaining > 0:
                time.sleep(math.ceil(remaining / delay) * delay * self.scale)
            real(instance_ids, region)

        return wait_running


# --- the runbook's sequential order, as a state machine ---------------------------------------
def sequential_definition(definition: dict) -> dict:
    """The provisioning definition with its Parallel block unrolled: the branches one after another
    in RUNBOOK_ORDER, then a Pass that builds ``$.resources`` as the Parallel's ResultSelector does."""
    states = copy.deepcopy(definition["States"])
    name, parallel = next((name, state) for name, state in states.items() if state["Type"] == "Parallel")
    del states[name]
    branch_of = {key.removesuffix(".$"): int(path.strip("$[]")) for key, path in parallel["ResultSelector"].items()}
    collect = "Collect resources"
    chain = [parallel["Branches"][branch_of[key]] for key in RUNBOOK_ORDER]
    outputs = {}
    for key, branch, follower in zip(RUNBOOK_ORDER, chain, [b["StartAt"] for b in chain[1:]] + [collect], strict=True):
        for state_name, state in branch["States"].items():
            if state_name in states:
                raise ValueError(f"state {state_name!r} appears twice once the parallel block is unrolled")
            if state.pop("End", False):
                outputs[key] = state.pop("OutputPath", "$")
                state["Next"] = follower
            states[state_name] = state
    states[collect] = {
        "Type": "Pass",
        "Comment": "What the parallel block's ResultSelector builds, from the chained branches' results.",
        "Parameters": {f"{key}.$": outputs[key] for key in RUNBOOK_ORDER},
        "ResultPath": parallel["ResultPath"],
        "Next": parallel["Next"],
    }
    for state in states.values():  # whatever led into the parallel block now leads into the chain
        if state.get("Next") == name:
            state["Next"] = chain[0]["StartAt"]
    start = chain[0]["StartAt"] if definition["StartAt"] == name else definition["StartAt"]
    return {**definition, "Comment": "Benchmark only: the parallel block run in the runbook's order.", "StartAt": start, "States": states}


def deploy_sequential(emulator: Emulator) -> None:
    sfn = emulator.client("stepfunctions")
    described = sfn.describe_state_machine(stateMachineArn=emulator.state_machines[PROVISION])
    definition = sequential_definition(json.loads(described["definition"]))
    emulator.state_machines[SEQUENTIAL] = sfn.create_state_machine(
        name=SEQUENTIAL, definition=json.dumps(definition), roleArn=described["roleArn"]
    )["stateMachineArn"]


# --- one run --------------------------------------------------------------------------------
def run_once(server: MysqlServer, document: dict, machine: str, scale: float, simulation: Simulation | None) -> dict:
    """A fresh emulator, seeded; one execution of ``machine``; its wall time and what it did."""
    with Emulator(mysql=server, time_scale=scale) as emulator:
        seed(emulator, document)
        if machine == SEQUENTIAL:
            deploy_sequential(emulator)
        with simulation.installed() if simulation else contextlib.nullcontext():
            started = time.monotonic()
            result = execute(emulator, document, machine=machine)
            ended = time.monotonic()
    states = result.view.summary()
    ran = [state["state"] for state in states]
    resources = {}
    for name, timeline in (simulation.timelines if simulation else {}).items():
        ready = timeline.created + getattr(simulation.latencies, timeline.kind) * scale
        resources[timeline.kind] = {
            "name": name,
            "created_after_seconds": round(timeline.created - started, 3),
            "ready_after_seconds": round(ready - started, 3),
            "seen_ready_after_seconds": None if timeline.seen_ready is None else round(timeline.seen_ready - started, 3),
            "seen_late_simulated_seconds": None if timeline.seen_ready is None else round((timeline.seen_ready - ready) / scale, 1),
        }
    return {
        "machine": machine,
        "status": result.status,
        "error": result.error,
        "cause": result.cause,
        "wall_seconds": round(ended - started, 3),
        "state_transitions": result.transitions,
        "checks": {key: ran.count(state) for key, state in POLL_LOOPS.items()},
        "dbsetup_seconds": round(sum(s["seconds"] or 0 for s in states if s["state"] == "Create databases and users"), 3),
        "resources": resources,
    }


def document_for(base: dict, deployment_id: str, poll_options: dict) -> dict:
    document = copy.deepcopy(base)
    document["deployment_id"] = deployment_id
    document["options"] = {**document.get("options", {}), **poll_options}
    return document


@contextlib.contextmanager
def runbook_users_lock(server: MysqlServer):
    """The lock tests/conftest.py takes around every workflow run: DbSetup sets the passwords of the
    runbook's fixed user names on the one shared server."""
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK(%s, 0)", (RUNBOOK_USERS_LOCK,))
            if cursor.fetchone() != (1,):
                progress("waiting for the MariaDB lock on the runbook users (a test run holds it)")
                cursor.execute("SELECT GET_LOCK(%s, 900)", (RUNBOOK_USERS_LOCK,))
                if cursor.fetchone() != (1,):
                    raise RuntimeError("the runbook users' lock stayed taken for 15 minutes")
        yield
    finally:
        connection.close()  # releases the lock


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the benchmark ----------------------------------------------------------------------------
def measure(args) -> dict:
    scale = args.minute_seconds / 60
    latencies = Latencies(search=args.search_minutes * 60, database=args.database_minutes * 60, instances=args.instances_minutes * 60)
    poll_options = {key: value for key, value in (
        ("poll_interval_seconds", args.poll_interval),
        ("search_first_check_seconds", args.search_first_check),
        ("database_first_check_seconds", args.database_first_check),
    ) if value is not None}
    schedule = {key: poll_options.get(key, getattr(Options, key)) for key in ("search_first_check_seconds", "database_first_check_seconds", "poll_interval_seconds")}
    base = json.loads(Path(args.input).read_text())
    server = MysqlServer.from_url(args.mysql)
    server.check(args.mysql)
    runs = {}
    with runbook_users_lock(server):
        # Instant runs first (every wait 0 s, nothing simulated): the phases' own run time, and one
        # warm-up of moto's and botocore's per-process data so neither timed run pays for it.
        for key, machine, deployment_id in (("instant_workflow", PROVISION, "bench-par-0"), ("instant_runbook_order", SEQUENTIAL, "bench-seq-0")):
            progress(f"{key}: running with every wait at 0 s")
            runs[key] = run_once(server, document_for(base, deployment_id, poll_options), machine, 0.0, None)
        for key, machine, deployment_id in (("workflow", PROVISION, "bench-par"), ("runbook_order", SEQUENTIAL, "bench-seq")):
            progress(f"{key}: running with simulated latencies (about {latency_estimate(key, latencies, scale):.0f} s)")
            runs[key] = run_once(server, document_for(base, deployment_id, poll_options), machine, scale, Simulation(latencies, scale))
    dbsetup = runs["workflow"]["dbsetup_seconds"]
    candidates = {
        "search domain": latencies.search * scale,
        "analytics RDS + DbSetup": latencies.database * scale + dbsetup,
        "EC2 instances": latencies.instances * scale,
    }
    slowest = max(candidates, key=candidates.get)
    floor = candidates[slowest]
    for key in ("workflow", "runbook_order"):
        runs[key]["ratio_to_slowest"] = round(runs[key]["wall_seconds"] / floor, 3)
    workflow, source = runs["workflow"], Path(args.input).resolve()
    return {
        "input": str(source.relative_to(REPO)) if source.is_relative_to(REPO) else str(source),
        "time_scale": scale,
        "simulated_minute_wall_seconds": args.minute_seconds,
        "latencies_simulated_seconds": asdict(latencies),
        "poll_schedule_seconds": schedule,
        "slowest_resource": slowest,
        "slowest_resource_wall_seconds": round(floor, 3),
        "target": TARGET,
        "met": all(run["status"] == "SUCCEEDED" for run in runs.values()) and workflow["ratio_to_slowest"] <= TARGET,
        "speedup_over_runbook_order": round(runs["runbook_order"]["wall_seconds"] / workflow["wall_seconds"], 2),
        "runs": runs,
        "machine": machine_description(),
    }


def latency_estimate(key: str, latencies: Latencies, scale: float) -> float:
    if key == "workflow":
        return max(latencies.search, latencies.database) * scale
    return (latencies.search + latencies.database + latencies.instances) * scale


def machine_description() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "platform": platform.platform()}


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def render(report: dict) -> str:
    scale = report["time_scale"]
    latencies, schedule = report["latencies_simulated_seconds"], report["poll_schedule_seconds"]
    runs = report["runs"]
    lines = [
        f"Critical path of the provisioning workflow: local mode, {report['input']}, simulated AWS provisioning times",
        f"  time scale: 1 simulated minute = {report['simulated_minute_wall_seconds']:g} s of wall time",
        f"  simulated: search domain {latencies['search'] / 60:g} min, analytics RDS {latencies['database'] / 60:g} min "
        f"(+ DbSetup against MariaDB, real time), EC2 instances {latencies['instances'] / 60:g} min (waiter every "
        f"{instances.RUNNING_WAIT['Delay']} s); IAM, security groups, S3, Render: their own run time",
        f"  poll schedule: first check {schedule['search_first_check_seconds']} s (search), "
        f"{schedule['database_first_check_seconds']} s (RDS), then every {schedule['poll_interval_seconds']} s",
        "",
        f"  {'':<22}{'wall s':>8}{'simulated min':>15}{'/ slowest':>11}{'transitions':>13}{'checks search/RDS':>19}{'instant run s':>15}",
    ]
    for key, label in (("workflow", "workflow (parallel)"), ("runbook_order", "runbook order")):
        run, instant = runs[key], runs[f"instant_{key}"]
        checks = f"{run['checks']['search']} / {run['checks']['database']}"
        lines.append(
            f"  {label:<22}{run['wall_seconds']:>8.1f}{run['wall_seconds'] / scale / 60:>15.1f}{run['ratio_to_slowest']:>11.3f}"
            f"{run['state_transitions']:>13}{checks:>19}{instant['wall_seconds']:>15.1f}"
        )
    lines.append("")
    lines.append(f"  slowest resource: {report['slowest_resource']}, {report['slowest_resource_wall_seconds']:.2f} s of wall time")
    lines += critical_path_lines(runs["workflow"])
    lines.append(f"  runbook order / workflow: {report['speedup_over_runbook_order']:.2f} x")
    for key, run in runs.items():
        if run["status"] != "SUCCEEDED":
            lines.append(f"  {key}: {run['status']} {run['error']}: {run['cause']}")
    ratio = runs["workflow"]["ratio_to_slowest"]
    lines.append(f"  target workflow / slowest <= {report['target']}: {'met' if report['met'] else 'MISSED'} ({ratio:.3f})")
    machine = report["machine"]
    lines.append(f"  machine: {machine['cpus']} CPUs, {machine['cpu']}, Python {machine['python']}")
    return "\n".join(lines)


def critical_path_lines(run: dict) -> list[str]:
    """Where the workflow's wall time went: before each slow resource's create call, its provisioning,
    the wait until a check saw it ready, and what ran after."""
    lines = ["  workflow run, seconds of wall time into the execution:"]
    for kind, resource in sorted(run["resources"].items(), key=lambda item: item[1]["ready_after_seconds"], reverse=True):
        if resource["seen_ready_after_seconds"] is None:
            continue
        lines.append(
            f"    {RESOURCE_LABELS[kind]:<16} created {resource['created_after_seconds']:6.2f}   ready {resource['ready_after_seconds']:6.2f}"
            f"   seen ready {resource['seen_ready_after_seconds']:6.2f} ({resource['seen_late_simulated_seconds']:g} simulated s after ready)"
        )
    lines.append(f"    {'execution ended':<16} {run['wall_seconds']:6.2f}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minute-seconds", type=float, default=2.5, help="wall seconds per simulated minute (default 2.5)")
    parser.add_argument("--search-minutes", type=float, default=15.5, help="search domain provisioning time (default 15.5)")
    parser.add_argument("--database-minutes", type=float, default=10.5, help="analytics RDS provisioning time (default 10.5)")
    parser.add_argument("--instances-minutes", type=float, default=1.25, help="EC2 pending -> running (default 1.25)")
    parser.add_argument("--poll-interval", type=int, help="options.poll_interval_seconds (default: the product's)")
    parser.add_argument("--search-first-check", type=int, help="options.search_first_check_seconds (default: the product's)")
    parser.add_argument("--database-first-check", type=int, help="options.database_first_check_seconds (default: the product's)")
    parser.add_argument("--input", default=str(REPO / "events" / "input-minimal.json"))
    parser.add_argument("--mysql", default="mysql://root@127.0.0.1:3306")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.minute_seconds <= 0:
        parser.error("--minute-seconds must be above 0")
    report = measure(args)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0 if report["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
