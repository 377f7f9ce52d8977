"""Cold start: each function's import and handler setup in a fresh interpreter, as a ratio to a
bare ``import boto3`` measured in the same run (target <= 1.5 for every function).

    .venv/bin/python benchmarks/cold_start.py [--rounds 7] [--json]

A function's cold start is what Lambda's Init phase runs (importing ``functions/<x>/app.py`` with
the layer on ``sys.path``) plus the imports its first invocation makes on top: a lazy import
inside the handler is paid by the first request, so it is counted, not hidden. Those imports are
found once per function, untimed: a fresh interpreter imports the function, creates a boto3
client and makes one call (the SDK's own lazy loading, which any boto3 program pays and the
baseline does not, so it is left out), then invokes the handler with ``events/functions/<x>.json``
and records every module that invocation adds. AWS is not reachable there: every request fails
before it is sent, so an invocation is followed up to its first AWS call, where our lazy imports
(input validation) happen.

Each measurement is the median of ``--rounds`` fresh interpreters; rounds alternate between the
baseline and the functions so machine noise hits both alike.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYER = REPO / "layers" / "common" / "python"
EVENTS = REPO / "events" / "functions"
TARGET = 1.5
# Fake credentials and a region so nothing looks for real ones (no instance metadata lookups).
ENV = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "benchmark",
       "AWS_SECRET_ACCESS_KEY": "benchmark", "POWERTOOLS_SERVICE_NAME": "analytics-provisioner"}  # nosec B105  # not a credential

LOAD_FUNCTION = """
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.lambda_handler)
"""

PROBE = """
import importlib, importlib.util, sys, time
sys.path.insert(0, {layer!r})
start = time.perf_counter()
{body}
init = time.perf_counter()
for name in {first_invocation!r}:
    importlib.import_module(name)
print(init - start, time.perf_counter() - init)
"""

DISCOVER = """
import importlib.util, json, sys
sys.path.insert(0, {layer!r})
{body}
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

event = json.loads(open({event!r}).read())
try:
    module.lambda_handler(event, Context())
except Exception:
    pass  # the first AWS call fails on purpose
print(json.dumps([name for name in sys.modules if name not in before]))
"""


def python(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **ENV}, cwd=REPO)
    return out.stdout.strip().splitlines()[-1]


def first_invocation_imports(app: Path) -> list[str]:
    """The modules the function's first invocation imports beyond its Init and the SDK's own."""
    event = EVENTS / f"{app.parent.name}.json"
    if not event.is_file():
        raise SystemExit(f"no sample event {event.relative_to(REPO)} for functions/{app.parent.name}")
    code = DISCOVER.format(layer=str(LAYER), body=LOAD_FUNCTION.format(path=str(app)), event=str(event))
    return json.loads(python(code))


def measure(body: str, first_invocation: list[str]) -> tuple[float, float]:
    """(Init seconds, first-invocation import seconds) in a fresh interpreter."""
    init, first = python(PROBE.format(layer=str(LAYER), body=body, first_invocation=first_invocation)).split()
    return float(init), float(first)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    apps = {path.parent.name: path for path in sorted((REPO / "functions").glob("*/app.py"))}
    lazy = {name: first_invocation_imports(app) for name, app in apps.items()}
    samples = {"boto3": []} | {name: [] for name in apps}
    for _ in range(args.rounds):
        samples["boto3"].append(measure("import boto3", []))
        for name, app in apps.items():
            samples[name].append(measure(LOAD_FUNCTION.format(path=str(app)), lazy[name]))
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
        print(json.dumps({"baseline_seconds": round(baseline, 4), "rounds": args.rounds, "target": TARGET, "met": met, "functions": figures}, indent=2))
    else:
        print(f"import boto3 (baseline): {baseline * 1000:.0f} ms, median of {args.rounds} fresh interpreters")
        print(f"  {'':<5}{'function':<11}{'init ms':>8}{'+ 1st call':>11}{'total ms':>9}{'x boto3':>9}   first call imports")
        for name, figure in sorted(figures.items(), key=lambda item: -item[1]["ratio"]):
            flag = "ok" if figure["ratio"] <= TARGET else "SLOW"
            print(f"  {flag:<5}{name:<11}{figure['init_seconds'] * 1000:>8.0f}{figure['first_invocation_seconds'] * 1000:>11.0f}"
                  f"{figure['total_seconds'] * 1000:>9.0f}{figure['ratio']:>9.2f}   {', '.join(figure['first_invocation_packages']) or '-'}")
        print(f"target: every function <= {TARGET} x boto3: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
