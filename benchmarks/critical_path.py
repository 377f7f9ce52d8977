"""Critical path over a distribution of AWS latencies: the provisioning workflow in local mode against
N seeded draws of search-domain, RDS and EC2 provisioning times, for each poll schedule on the same
draws, as wall time / slowest resource (mean, p95, worst), how late a check saw each resource
ready, state transitions and what one execution costs. Targets (the product's default schedule):
mean wall / slowest <= 1.03, p95 <= 1.06, mean state transitions <= 60, no failed execution.

    .venv/bin/python benchmarks/critical_path.py [--draws 20] [--seed 20] [--minute-seconds 6] [--schedules a,b] [--json]

Local mode runs the real state machine and the real handlers against moto, with one change: the
slow resources report "not ready" until their simulated provisioning time has passed. A resource's
simulated clock is the wall time since the call that created it divided by the time scale; the Wait
states, Retry intervals, botocore's back-off and a check's own pauses between reads sleep their
seconds times the same scale. Everything else (the phases' own Python run time, moto, the real
DbSetup against MariaDB) runs at full wall-clock cost and counts.

Each schedule runs in its own process (its own emulator), all at the same time on the same draws,
so machine load hits every schedule alike. Each process first runs one unmeasured execution (moto's
and botocore's one-time loading is no phase's run time), then starts its draws one after another;
a lock shared by the processes lets one execution at a time, across all schedules, run its CPU-heavy
start (Validate, Identity, Network, up to the RDS create call), so the schedules do not inflate each
other's starts. The rest of the time the executions wait.

Runs its database phases on a private MariaDB it starts and removes (--mysql throwaway, the default,
as `make demo`), or on a server a URL names (then it holds the tests' lock on the runbook's fixed
database users while it runs, so it never collides with a test run; a server holding users of old
runs makes DbSetup refuse them, as it would on AWS).
Exits 1 when an execution fails or the default schedule misses a target.
"""

import argparse
import contextlib
import copy
import json
import math
import multiprocessing
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from unittest import mock

from analytics_provisioner import execution as executions
from analytics_provisioner.aws import instances, rds, search
from analytics_provisioner.local import template as cfn
from analytics_provisioner.local.emulator import Emulator
from analytics_provisioner.local.mysql import MysqlServer
from analytics_provisioner.local.runner import PROVISION
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import TAG_DEPLOYMENT, Names
from analytics_provisioner.phases import polling

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"mean_ratio": 1.03, "p95_ratio": 1.06, "mean_transitions": 60}
RUNBOOK_USERS_LOCK = "analytics-provisioner: runbook users"  # the lock tests/conftest.py runbook_users takes
SEQUENTIAL = "SequentialProvision"
# The runbook's order for what the workflow runs in parallel: the grades bucket policy and the
# reports bucket (IAM section), the Elasticsearch domain, the EC2 instances, then RDS and its databases.
RUNBOOK_ORDER = ("storage", "search", "compute", "database")
POLL_LOOPS = {"search": "Check search domain", "database": "Check analytics RDS instance"}
DBSETUP = "Create databases and users"

# AWS list prices, us-east-1: Step Functions standard workflows, Lambda on x86.
PRICE_PER_TRANSITION = 0.025 / 1000
PRICE_PER_GB_SECOND = 0.0000166667
PRICE_PER_REQUEST = 0.20 / 1_000_000


# --- the latencies drawn ------------------------------------------------------------------------
@dataclass(frozen=True)
class Range:
    low_minutes: float
    high_minutes: float
    source: str


RANGES = {
    "search": Range(
        8,
        30,
        (
            "OpenSearch Service developer guide, 'Create a domain': new domains typically take 15-30 minutes to "
            "initialize, longer for some configurations; the runbook's single-node domain comes in lower (issue 20: "
            "from about 8 minutes); the Terraform AWS provider checks a new domain only after 10 minutes "
            "(hashicorp/terraform-provider-aws#45244)"
        ),
    ),
    "database": Range(
        5,
        20,
        (
            "single-AZ MySQL 'DB instance created' to 'Finished DB Instance backup' in 5-10 minutes, 15-20 for "
            "Multi-AZ (hashicorp/terraform#498, from the RDS event log); the first backup after creation can add "
            "about 10 minutes (hashicorp/terraform#1097); the instance is 'available' only after that backup"
        ),
    ),
    "instances": Range(
        0.5,
        2.5,
        (
            "EC2 pending -> running for an EBS-backed instance, usually well under the 150 s Compute's "
            "instance_running waiter allows (5 s x 30); never the slowest resource"
        ),
    ),
}


@dataclass(frozen=True)
class Latencies:
    """Simulated seconds from the create call until AWS reports the resource ready."""

    search: float
    database: float
    instances: float


def draw(seed_value: int, count: int) -> list[Latencies]:
    """``count`` independent uniform draws from RANGES (seeded: the same draws on every run)."""
    rng = random.Random(seed_value)
    return [
        Latencies(**{kind: round(rng.uniform(r.low_minutes, r.high_minutes) * 60, 1) for kind, r in RANGES.items()}) for _ in range(count)
    ]


# --- the schedules compared -------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    name: str
    description: str
    options: dict = field(default_factory=dict)  # poll options set in the execution input
    backoff: float | None = None  # benchmark-only: after a check, wait this fraction of the time since creation
    machine: str = PROVISION


DEFAULT = "default"
GRID = {"poll_watch_seconds": 0}  # every read after a Wait state: the loop before issue 20
SCHEDULES = {
    DEFAULT: Schedule(
        DEFAULT, "the product's defaults: first check at 420 s (domain) / 240 s (RDS), a read every 15 s, each check watching up to 300 s"
    ),
    "watch-30": Schedule(
        "watch-30",
        "first check at 420 s / 240 s, a read every 30 s, each check watching up to 300 s",
        {"poll_interval_seconds": 30},
    ),
    "watch-60": Schedule(
        "watch-60",
        "first check at 420 s / 240 s, a read every 15 s, each check watching up to 60 s",
        {"poll_watch_seconds": 60},
    ),
    "shipped-grid": Schedule(
        "shipped-grid",
        "first check at 600 s (domain) / 420 s (RDS), then every 60 s, one read per check (the schedule before issue 20)",
        {**GRID, "search_first_check_seconds": 600, "database_first_check_seconds": 420, "poll_interval_seconds": 60},
    ),
    "early-grid": Schedule(
        "early-grid",
        "first check at 420 s / 240 s (below each range), then every 60 s, one read per check",
        {**GRID, "search_first_check_seconds": 420, "database_first_check_seconds": 240, "poll_interval_seconds": 60},
    ),
    "backoff": Schedule(
        "backoff",
        "first check at 420 s / 240 s, then wait 20 % of the time since creation (at least 30 s), one read per "
        "check: the same lateness relative to the latency everywhere (benchmark-only)",
        {**GRID, "search_first_check_seconds": 420, "database_first_check_seconds": 240, "poll_interval_seconds": 30},
        backoff=0.2,
    ),
}
# What `make bench-critical-path` compares: the product's schedule, the same with short watches, and the
# schedule before issue 20. Each schedule is a process whose starts load the machine; --schedules runs others.
DEFAULT_RUN = (DEFAULT, "watch-60", "shipped-grid")
# The unmeasured first execution of each process: its resources are ready at once (moto's own state).
WARM_UP = {"search_first_check_seconds": 0, "database_first_check_seconds": 0}
RUNBOOK_ORDER_SCHEDULE = Schedule(
    "runbook-order", "the default schedule, the parallel block run in the runbook's order", machine=SEQUENTIAL
)


@contextlib.contextmanager
def backoff_installed(factor: float | None, floor_seconds: int = 30):
    """Benchmark-only alternative: each check schedules the next after ``factor`` x the time since
    creation. A wrapper around the phases' poll bookkeeping, so the product's code runs unchanged."""
    if factor is None:
        yield
        return
    real = polling.after_check

    def after_check(poll, ready, interval_seconds, *args, **kwargs):
        checked = real(poll, ready, interval_seconds, *args, **kwargs)
        return {**checked, "next_wait_seconds": max(floor_seconds, round(factor * checked["waited_seconds"]))}

    with mock.patch.object(polling, "after_check", after_check):
        yield


# --- simulated provisioning times ---------------------------------------------------------------
@dataclass
class Timeline:
    """When (monotonic wall clock) one slow resource was created and first reported ready."""

    kind: str
    deployment_id: str
    latency: float
    created: float
    seen_ready: float | None = None
    created_epoch: float = field(default_factory=time.time)  # the same moment on the history's clock


@dataclass
class Simulation:
    """Patches the readiness reads the phases use (aws/search.domain_ready, aws/rds.instance_ready,
    aws/instances.wait_running) so each resource a draw expects turns ready its latency in simulated
    seconds after its create call; everything else still goes to moto."""

    scale: float
    expected: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # resource name -> (kind, deployment, latency)
    timelines: dict[str, Timeline] = field(default_factory=dict)
    _launched: dict[str, tuple[float, str]] = field(default_factory=dict)  # instance id -> (launched, deployment)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def expect(self, deployment_id: str, latencies: Latencies) -> None:
        names = Names(deployment_id)
        self.expected[names.es_domain] = ("search", deployment_id, latencies.search)
        self.expected[names.analytics_rds] = ("database", deployment_id, latencies.database)
        self.expected[f"instances:{deployment_id}"] = ("instances", deployment_id, latencies.instances)

    def created(self, deployment_id: str, kinds: tuple[str, ...] = ("search", "database")) -> bool:
        with self._lock:
            seen = {t.kind for t in self.timelines.values() if t.deployment_id == deployment_id}
        return set(kinds) <= seen

    def of(self, deployment_id: str) -> dict[str, Timeline]:
        return {t.kind: t for t in self.timelines.values() if t.deployment_id == deployment_id}

    def simulated_since(self, moment: float) -> float:
        return (time.monotonic() - moment) / self.scale

    @contextlib.contextmanager
    def installed(self):
        with contextlib.ExitStack() as stack:
            for module, name, wrapper in (
                (search, "create_domain", self._created(lambda config: config["DomainName"])),
                (rds, "create_instance", self._created(lambda params: params["DBInstanceIdentifier"])),
                (search, "domain_ready", self._ready("DomainName")),
                (rds, "instance_ready", self._ready("DBInstanceIdentifier")),
                (instances, "run_instance", self._run_instance),
                (instances, "wait_running", self._wait_running),
            ):
                stack.enter_context(mock.patch.object(module, name, wrapper(getattr(module, name))))
            yield self

    def _created(self, name_of):
        def wrap(real):
            def create(request, *args, **kwargs):
                described = real(request, *args, **kwargs)
                name = name_of(request)
                if name in self.expected:
                    kind, deployment_id, latency = self.expected[name]
                    with self._lock:
                        self.timelines[name] = Timeline(kind, deployment_id, latency, created=time.monotonic())
                return described

            return create

        return wrap

    def _ready(self, name_key: str):
        def wrap(real):
            def ready(described: dict) -> bool:
                timeline = self.timelines.get(described[name_key])
                if timeline is None:  # not created in this run: as moto has it
                    return real(described)
                if self.simulated_since(timeline.created) < timeline.latency:
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
                tags = {t["Key"]: t["Value"] for spec in request.get("TagSpecifications", []) for t in spec["Tags"]}
                with self._lock:
                    self._launched.setdefault(launched["InstanceId"], (time.monotonic(), tags.get(TAG_DEPLOYMENT, "")))
            return launched

        return run_instance

    def _wait_running(self, real):
        """EC2's instance_running waiter checks at once, then every ``Delay`` seconds."""
        delay = instances.RUNNING_WAIT["Delay"]

        def wait_running(instance_ids: list[str], region: str) -> None:
            remaining = 0.0
            for instance_id in instance_ids:
                if instance_id in self._launched:
                    moment, deployment_id = self._launched[instance_id]
                    _, _, latency = self.expected.get(f"instances:{deployment_id}", (None, None, 0.0))
                    remaining = max(remaining, latency - self.simulated_since(moment))
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


# --- one schedule, all draws (runs in its own process) ------------------------------------------
def document_for(base: dict, deployment_id: str, options: dict) -> dict:
    """The input for one draw: its own deployment id and its own edxapp database (Network adds a group
    to it, and an RDS instance takes at most five), the schedule's poll options."""
    document = copy.deepcopy(base)
    document["deployment_id"] = deployment_id
    document["edxapp"] = {**document["edxapp"], "db_instance_id": f"{deployment_id}-edxapp-db"}
    document["options"] = {**document.get("options", {}), **options}
    return document


@contextlib.contextmanager
def analytics_servers(count: int) -> Iterator[Iterator[MysqlServer]]:
    """A private MariaDB for each analytics RDS instance the run creates, started before anything is
    measured: as on AWS, every instance is a server of its own (on one shared server the runbook's fixed
    user names collide, and DbSetup refuses a user another deployment made)."""
    from analytics_provisioner.local.mariadb import throwaway_server

    entered = threading.Lock()
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(4) as pool:

        def start(_: int) -> MysqlServer:
            server = throwaway_server()
            running = server.__enter__()
            with entered:
                stack.push(server.__exit__)
            return running

        yield iter(list(pool.map(start, range(count))))


def run_schedule(
    schedule: Schedule, draws: list[Latencies], scale: float, mysql_url: str, base: dict, start_lock=None, start_timeout: float = 120
) -> list[dict]:
    """Every draw through one emulator, one execution started after another (see the module doc)."""
    server = MysqlServer.from_url(mysql_url)
    start_lock = start_lock or contextlib.nullcontext()
    with (
        analytics_servers(len(draws) + 1) as servers,  # the warm-up's instance too
        Emulator(mysql=server, time_scale=scale, database_servers=lambda: contextlib.nullcontext(next(servers))) as emulator,
        Simulation(scale).installed() as simulation,
        backoff_installed(schedule.backoff),
    ):
        if schedule.machine == SEQUENTIAL:
            deploy_sequential(emulator)
        sfn = emulator.client("stepfunctions")

        def start(deployment_id: str, options: dict, latencies: Latencies | None) -> str:
            document = document_for(base, deployment_id, options)
            seed(emulator, document)
            if latencies is not None:
                simulation.expect(deployment_id, latencies)
            return sfn.start_execution(
                stateMachineArn=emulator.state_machines[schedule.machine],
                name=executions.execution_name(document),
                input=json.dumps(document),
            )["executionArn"]

        def running(arn: str) -> bool:
            return sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"

        with start_lock:  # unmeasured: moto's and botocore's one-time loading is no phase's run time
            warm = start("bench-warm", {**schedule.options, **WARM_UP}, None)
            while running(warm):
                time.sleep(0.1)
        started = []
        for index, latencies in enumerate(draws):
            deployment_id = f"bench-d{index:02d}"
            with start_lock:  # one execution at a time, across the schedules, runs its CPU-heavy start
                arn = start(deployment_id, schedule.options, latencies)
                started.append((index, deployment_id, arn))
                deadline = time.monotonic() + start_timeout
                # the RDS instance is created as the parallel block starts; the domain waits out IAM propagation
                while not simulation.created(deployment_id, ("database",)) and time.monotonic() < deadline and running(arn):
                    time.sleep(0.05)
            while not simulation.created(deployment_id) and time.monotonic() < deadline and running(arn):
                time.sleep(0.1)
        pending = {arn for _, _, arn in started}
        while pending:
            time.sleep(1)
            pending = {arn for arn in pending if running(arn)}
        return [measure_run(sfn, arn, draws[index], simulation.of(deployment_id), scale) for index, deployment_id, arn in started]


def measure_run(sfn, arn: str, latencies: Latencies, timelines: dict[str, Timeline], scale: float) -> dict:
    described = sfn.describe_execution(executionArn=arn)
    view = executions.HistoryView()
    view.add(executions.history(sfn, arn))
    stamps = [event["timestamp"].timestamp() for event in view.events]
    wall = stamps[-1] - stamps[0]
    states = view.summary()
    dbsetup = sum(s["seconds"] or 0 for s in states if s["state"] == DBSETUP)
    resources = {}
    for kind, timeline in timelines.items():
        ready = timeline.created + timeline.latency * scale
        resources[kind] = {
            "latency_seconds": timeline.latency,
            "seen_late_seconds": None if timeline.seen_ready is None else round((timeline.seen_ready - ready) / scale, 1),
        }
    slowest_timeline = timelines.get("search")
    before_create = None if slowest_timeline is None else round((slowest_timeline.created_epoch - stamps[0]) / scale, 1)
    floors = {
        "search": latencies.search * scale,
        "database": latencies.database * scale + dbsetup,
        "instances": latencies.instances * scale,
    }
    slowest = max(floors, key=floors.get)
    checks = {key: [s for s in states if s["state"] == state] for key, state in POLL_LOOPS.items()}
    poll_seconds = sum((s["seconds"] or 0) / scale for runs in checks.values() for s in runs)  # simulated: what Lambda would bill
    invocations = sum(len(runs) for runs in checks.values())
    memory_gb = poll_memory_gb()
    transitions = billed_transitions(view.events)
    cost = transitions * PRICE_PER_TRANSITION + poll_seconds * memory_gb * PRICE_PER_GB_SECOND + invocations * PRICE_PER_REQUEST
    return {
        "status": described["status"],
        "error": described.get("error"),
        "cause": described.get("cause"),
        "latencies_seconds": asdict(latencies),
        "wall_seconds": round(wall, 3),
        "slowest": slowest,
        "ratio_to_slowest": round(wall / floors[slowest], 4),
        "slowest_seen_late_seconds": resources.get(slowest, {}).get("seen_late_seconds") or 0.0,
        "start_to_domain_create_seconds": before_create,  # simulated: Validate, Identity, Network, IAM propagation
        "resources": resources,
        "dbsetup_seconds": round(dbsetup, 3),
        "state_transitions": transitions,
        "retries": transitions - view.transitions,
        "checks": {key: len(runs) for key, runs in checks.items()},
        "poll_lambda_seconds": round(poll_seconds, 1),
        "cost_usd": round(cost, 6),
    }


def billed_transitions(events: list[dict]) -> int:
    """What Step Functions bills: every state entered, and every retry of a Task (a scheduled call beyond
    the first of its state), such as Create search domain's while IAM propagates the search user."""
    kinds = [event["type"] for event in events]
    entered = sum(kind.endswith("StateEntered") for kind in kinds)
    retries = sum(kind in ("LambdaFunctionScheduled", "TaskScheduled") for kind in kinds) - kinds.count("TaskStateEntered")
    return entered + max(0, retries)


def poll_memory_gb() -> float:
    """The memory the Search and Database functions are billed at (template.yaml)."""
    template = cfn.load()
    default = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    sizes = [template["Resources"][name]["Properties"].get("MemorySize", default) for name in ("SearchFunction", "DatabaseFunction")]
    return max(sizes) / 1024


# --- the benchmark ----------------------------------------------------------------------------
def p95(values: list[float]) -> float:
    """Nearest rank: the smallest value at or above 95 % of the draws (the 19th of 20)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def summarize(runs: list[dict]) -> dict:
    ratios = [run["ratio_to_slowest"] for run in runs]
    late = [run["slowest_seen_late_seconds"] for run in runs]
    return {
        "executions": len(runs),
        "failed": sum(run["status"] != "SUCCEEDED" for run in runs),
        "ratio": {"mean": round(statistics.fmean(ratios), 4), "p95": p95(ratios), "worst": max(ratios)},
        "slowest_seen_late_seconds": {"mean": round(statistics.fmean(late), 1), "p95": p95(late), "worst": max(late)},
        "start_to_domain_create_seconds": round(statistics.fmean(run["start_to_domain_create_seconds"] or 0 for run in runs), 1),
        "state_transitions": {
            "mean": round(statistics.fmean(run["state_transitions"] for run in runs), 1),
            "worst": max(run["state_transitions"] for run in runs),
        },
        "checks": {key: round(statistics.fmean(run["checks"][key] for run in runs), 1) for key in POLL_LOOPS},
        "poll_lambda_seconds": round(statistics.fmean(run["poll_lambda_seconds"] for run in runs), 1),
        "cost_usd": round(statistics.fmean(run["cost_usd"] for run in runs), 5),
    }


def verdict(summary: dict) -> dict[str, bool]:
    return {
        "no_failed_execution": summary["failed"] == 0,
        "mean_ratio": summary["ratio"]["mean"] <= TARGETS["mean_ratio"],
        "p95_ratio": summary["ratio"]["p95"] <= TARGETS["p95_ratio"],
        "mean_transitions": summary["state_transitions"]["mean"] <= TARGETS["mean_transitions"],
    }


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


def measure(args) -> dict:
    scale = args.minute_seconds / 60
    draws = draw(args.seed, args.draws)
    chosen = [SCHEDULES[name] for name in args.schedules]
    if args.runbook_order:
        chosen.append(RUNBOOK_ORDER_SCHEDULE)
    base = json.loads(Path(args.input).read_text())
    with contextlib.ExitStack() as stack:
        if args.mysql == "throwaway":
            from analytics_provisioner.local.mariadb import throwaway_server

            args.mysql = stack.enter_context(throwaway_server()).url
        return _measure(args, scale, draws, chosen, base)


def _measure(args, scale: float, draws: list, chosen: list, base: dict) -> dict:
    server = MysqlServer.from_url(args.mysql)
    server.check()
    longest = max(max(d.search, d.database) for d in draws) * scale
    progress(f"{len(chosen)} schedules x {len(draws)} draws, one process per schedule; the longest draw alone takes {longest:.0f} s")
    began, load_before = time.monotonic(), os.getloadavg()
    context = multiprocessing.get_context("spawn")
    with runbook_users_lock(server), context.Manager() as manager, ProcessPoolExecutor(len(chosen), mp_context=context) as pool:
        start_lock = manager.Lock()
        futures = {s.name: pool.submit(run_schedule, s, draws, scale, args.mysql, base, start_lock) for s in chosen}
        runs = {name: future.result() for name, future in futures.items()}
    schedules = {}
    for schedule in chosen:
        summary = summarize(runs[schedule.name])
        schedules[schedule.name] = {
            "description": schedule.description,
            "options": schedule.options,
            "backoff": schedule.backoff,
            "summary": summary,
            "runs": runs[schedule.name],
        }
    checked = verdict(schedules[DEFAULT]["summary"]) if DEFAULT in schedules else {}
    source = Path(args.input).resolve()
    return {
        "input": str(source.relative_to(REPO)) if source.is_relative_to(REPO) else str(source),
        "date": date.today().isoformat(),
        "draws": len(draws),
        "seed": args.seed,
        "ranges_minutes": {kind: asdict(r) for kind, r in RANGES.items()},
        "time_scale": scale,
        "simulated_minute_wall_seconds": args.minute_seconds,
        "targets": TARGETS,
        "met": bool(checked) and all(checked.values()),
        "checks": checked,
        "schedules": schedules,
        "benchmark_wall_seconds": round(time.monotonic() - began, 1),
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
        "machine": machine_description(),
    }


def machine_description() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "platform": platform.platform()}


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def render(report: dict) -> str:
    lines = [
        f"Critical path over {report['draws']} draws of AWS latencies (seed {report['seed']}): local mode, {report['input']}",
        f"  time scale: 1 simulated minute = {report['simulated_minute_wall_seconds']:g} s of wall time; draws uniform in:",
    ]
    for kind, r in report["ranges_minutes"].items():
        lines.append(f"    {kind:<10}{r['low_minutes']:g}-{r['high_minutes']:g} min  ({r['source']})")
    lines += [
        "",
        f"  {'schedule':<14}{'wall / slowest resource':>26}{'seen late, s (slowest)':>26}{'transitions':>13}"
        f"{'checks':>10}{'poll Lambda':>13}{'cost':>10}",
        f"  {'':<14}{'mean':>10}{'p95':>8}{'worst':>8}{'mean':>10}{'p95':>8}{'worst':>8}{'mean':>13}{'dom/RDS':>10}{'s':>13}{'USD':>10}",
    ]
    for name, schedule in report["schedules"].items():
        s = schedule["summary"]
        ratio, late = s["ratio"], s["slowest_seen_late_seconds"]
        checks = f"{s['checks']['search']:g}/{s['checks']['database']:g}"
        failed = f"  {s['failed']} FAILED" if s["failed"] else ""
        lines.append(
            f"  {name:<14}{ratio['mean']:>10.3f}{ratio['p95']:>8.3f}{ratio['worst']:>8.3f}{late['mean']:>10.1f}{late['p95']:>8.1f}"
            f"{late['worst']:>8.1f}{s['state_transitions']['mean']:>13.1f}{checks:>10}{s['poll_lambda_seconds']:>13.0f}"
            f"{s['cost_usd']:>10.4f}{failed}"
        )
    lines += [
        "",
        "  trade-off, fewest transitions first (each a schedule of this run): mean transitions -> mean seconds "
        "the slowest resource was seen late, mean wall / slowest; start to the domain's create call (simulated s)",
    ]
    for name, schedule in sorted(report["schedules"].items(), key=lambda item: item[1]["summary"]["state_transitions"]["mean"]):
        s = schedule["summary"]
        bar = "#" * min(60, round(s["slowest_seen_late_seconds"]["mean"]))
        lines.append(
            f"  {name:<14}{s['state_transitions']['mean']:>6.1f} -> {s['slowest_seen_late_seconds']['mean']:>5.1f} s late, "
            f"{s['ratio']['mean']:.3f}  (start {s['start_to_domain_create_seconds']:.0f} s) {bar}"
        )
    lines.append("")
    for name, schedule in report["schedules"].items():
        lines.append(f"  {name}: {schedule['description']}")
        for run in schedule["runs"]:
            if run["status"] != "SUCCEEDED":
                lines.append(f"    {run['status']} {run['error']}: {run['cause']}")
    lines.append("")
    if report["checks"]:
        marks = ", ".join(f"{key} {'met' if ok else 'MISSED'}" for key, ok in report["checks"].items())
        lines.append(
            f"  targets (default schedule: mean <= {TARGETS['mean_ratio']}, p95 <= {TARGETS['p95_ratio']}, "
            f"transitions <= {TARGETS['mean_transitions']}): {marks}"
        )
    machine, load = report["machine"], report["load_average"]
    lines.append(
        f"  machine: {machine['cpus']} CPUs, {machine['cpu']}, Python {machine['python']}; load average "
        f"{load['before'][0]:.2f} before, {load['after'][0]:.2f} after; benchmark {report['benchmark_wall_seconds']:.0f} s"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20, help="latency draws per schedule (default 20)")
    parser.add_argument("--seed", type=int, default=20, help="seed of the draws (default 20)")
    parser.add_argument("--minute-seconds", type=float, default=6.0, help="wall seconds per simulated minute (default 6)")
    parser.add_argument(
        "--schedules",
        default=",".join(DEFAULT_RUN),
        help=f"comma-separated, of: {', '.join(SCHEDULES)} (default: {', '.join(DEFAULT_RUN)})",
    )
    parser.add_argument(
        "--runbook-order", action="store_true", help="also run the default schedule with the parallel block in the runbook's order"
    )
    parser.add_argument("--input", default=str(REPO / "events" / "input-minimal.json"))
    parser.add_argument("--mysql", default="throwaway", help="a MySQL URL, or throwaway (default): a private MariaDB, removed afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    args.schedules = [name.strip() for name in args.schedules.split(",") if name.strip()]
    unknown = [name for name in args.schedules if name not in SCHEDULES]
    if unknown:
        parser.error(f"--schedules: unknown {', '.join(unknown)}; choose from {', '.join(SCHEDULES)}")
    if args.minute_seconds <= 0 or args.draws < 1:
        parser.error("--minute-seconds must be above 0 and --draws at least 1")
    report = measure(args)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0 if report["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
