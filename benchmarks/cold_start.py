"""Cold start: each function's import and handler setup in a fresh interpreter, as a ratio to a
bare ``import boto3`` measured in the same run (target <= 1.3 for every function).

    make sam-build && .venv/bin/python benchmarks/cold_start.py [--rounds 7] [--json]

Measured on what Lambda runs, not on the source tree: the ``sam build`` output unpacked as Lambda
unpacks it (benchmarks/lambda_env.py: /var/task, the layers in /opt/python, every file dated
1980 as in SAM's zips, nothing writable), in an isolated interpreter (``-I -S -B``) whose only
other packages are the AWS SDK the runtime brings. The baseline imports boto3 in the same tree.

A function's cold start is Lambda's Init phase (importing its ``app.py``) plus the imports its
first invocation makes on top: a lazy import inside the handler is paid by the first request, so
it is counted, not hidden. Those imports are found once per function, untimed: an interpreter
imports the function, creates a boto3 client and makes one call (the SDK's own lazy loading,
which any boto3 program pays and the baseline does not), then invokes the handler with
``events/functions/<x>.json`` and records every module that invocation adds. AWS is never
reached: each request fails before it is sent, so the invocation is followed up to its first AWS
call, which is where our lazy imports (input validation) happen.

Each figure is the median of ``--rounds`` fresh interpreters; rounds alternate between the
baseline and the functions so machine noise hits both alike. Time is the interpreter's CPU time
(``--clock cpu``, the default): importing is CPU work, and on a machine shared with other jobs the
elapsed time (``--clock wall``) counts the waits for a core too, which moved the same function by
+-0.15 x between runs; on Lambda's own vCPU the two agree.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from lambda_env import BUILD, REPO, LambdaTree

EVENTS = REPO / "events" / "functions"
TARGET = 1.3
# A region, fake credentials and no config files: nothing looks for real ones.
ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "POWERTOOLS_SERVICE_NAME": "analytics-provisioner",
}

PROBE = """
import importlib, sys, time
sys.path[:0] = {path!r}
clock = time.{clock}
start = clock()
{body}
init = clock()
for name in {first_invocation!r}:
    importlib.import_module(name)
print(init - start, clock() - init)
"""

DISCOVER = """
import json, sys
sys.path[:0] = {path!r}
import app
import boto3
from botocore import endpoint

class Unreachable(Exception):
    pass

def unreachable(*args, **kwargs):
    raise Unreachable("the cold-start benchmark never reaches AWS")

endpoint.Endpoint._send = unreachable
try:
    boto3.client("sts").get_caller_identity()
except Unreachable:
    pass
before = set(sys.modules)

class Context:
    function_name, function_version, memory_limit_in_mb = "benchmark", "$LATEST", 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:benchmark"
    aws_request_id, log_group_name, log_stream_name = "cold-start", "/aws/lambda/benchmark", "local"

    def get_remaining_time_in_millis(self):
        return 60000

with open({event!r}) as sample:
    event = json.load(sample)
try:
    app.lambda_handler(event, Context())
except Exception:
    pass  # its first AWS call fails on purpose
print(json.dumps([name for name in sys.modules if name not in before]))
"""


def python(code: str) -> str:
    """Run ``code`` in an isolated interpreter: no site-packages, no bytecode written, no PYTHON* variables."""
    out = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, env=ENV, cwd=REPO)
    if out.returncode:
        raise SystemExit(f"probe failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1]


def _code_dirs() -> dict[str, str]:
    """Function name as the build names it (logical id without "Function", lower case) -> its functions/ directory,
    whose name the sample event carries (DeploymentLockFunction's is functions/lock)."""
    from analytics_provisioner.local import template as cfn

    return {spec.logical_id.removesuffix("Function").lower(): spec.code_dir.name for spec in cfn.functions(cfn.load()).values()}


def first_invocation_imports(tree: LambdaTree, function: str) -> list[str]:
    """The modules the function's first invocation imports beyond its Init and the SDK's own."""
    event = EVENTS / f"{_code_dirs().get(function, function)}.json"
    if not event.is_file():
        raise SystemExit(f"no sample event {event.relative_to(REPO)} for the {function} function")
    return json.loads(python(DISCOVER.format(path=tree.sys_path(function), event=str(event))))


CLOCKS = {"cpu": "process_time", "wall": "perf_counter"}
CLOCK = "cpu"


def measure(path: list[str], body: str, first_invocation: list[str]) -> tuple[float, float]:
    """(Init seconds, first-invocation import seconds) in a fresh interpreter, on CLOCK."""
    init, first = python(PROBE.format(path=path, body=body, first_invocation=first_invocation, clock=CLOCKS[CLOCK])).split()
    return float(init), float(first)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--build", type=Path, default=BUILD, help="the sam build output (default .aws-sam/build)")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu (default): the interpreter's CPU time, which other processes do not inflate; wall: elapsed time",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    global CLOCK
    CLOCK = args.clock
    with tempfile.TemporaryDirectory(prefix="cold-start-") as root:
        tree = LambdaTree.build(Path(root), args.build)
        functions = sorted(tree.by_name)
        lazy = {name: first_invocation_imports(tree, name) for name in functions}
        samples = {"boto3": []} | {name: [] for name in functions}
        for _ in range(args.rounds):
            samples["boto3"].append(measure(tree.runtime_path, "import boto3", []))
            for name in functions:
                samples[name].append(measure(tree.sys_path(name), "import app", lazy[name]))
    baseline = statistics.median(init for init, _ in samples.pop("boto3"))
    figures = {}
    for name, values in samples.items():
        total = statistics.median(init + first for init, first in values)
        figures[name] = {
            "init_seconds": round(statistics.median(init for init, _ in values), 4),
            "first_invocation_seconds": round(statistics.median(first for _, first in values), 4),
            "total_seconds": round(total, 4),
            "ratio": round(total / baseline, 3),
            "first_invocation_packages": sorted({module.split(".")[0] for module in lazy[name]}),
        }
    met = all(figure["ratio"] <= TARGET for figure in figures.values())
    if args.json:
        print(
            json.dumps(
                {
                    "baseline_seconds": round(baseline, 4),
                    "rounds": args.rounds,
                    "clock": args.clock,
                    "target": TARGET,
                    "met": met,
                    "functions": figures,
                },
                indent=2,
            )
        )
    else:
        print(
            f"import boto3 (baseline): {baseline * 1000:.0f} ms {args.clock} time, median of {args.rounds} fresh interpreters, "
            "in the unpacked sam build output"
        )
        print(f"  {'':<5}{'function':<10}{'init ms':>8}{'1st call ms':>12}{'total ms':>9}{'x boto3':>8}   first call imports")
        for name, figure in sorted(figures.items(), key=lambda item: -item[1]["ratio"]):
            flag = "ok" if figure["ratio"] <= TARGET else "SLOW"
            print(
                f"  {flag:<5}{name:<10}{figure['init_seconds'] * 1000:>8.0f}{figure['first_invocation_seconds'] * 1000:>12.0f}"
                f"{figure['total_seconds'] * 1000:>9.0f}{figure['ratio']:>8.2f}   {', '.join(figure['first_invocation_packages']) or '-'}"
            )
        print(f"target: every function <= {TARGET} x boto3: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
