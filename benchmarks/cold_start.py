"""Cold start: each function's import and handler setup in a fresh interpreter, as a ratio to a
bare ``import boto3`` measured in the same run (target <= 1.5 for every function).

    .venv/bin/python benchmarks/cold_start.py [--rounds 7]

Each measurement is the median of ``--rounds`` fresh interpreters; rounds alternate between the
baseline and the functions so machine noise hits both alike.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYER = REPO / "layers" / "common" / "python"
TARGET = 1.5

PROBE = """
import importlib.util, os, sys, time
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "analytics-provisioner")
sys.path.insert(0, {layer!r})
start = time.perf_counter()
{body}
print(time.perf_counter() - start)
"""

BASELINE = "import boto3"
FUNCTION = """
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.lambda_handler)
"""


def measure(body: str) -> float:
    code = PROBE.format(layer=str(LAYER), body=body)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    functions = sorted(p for p in (REPO / "functions").glob("*/app.py"))
    samples = {"boto3": []} | {p.parent.name: [] for p in functions}
    for _ in range(args.rounds):
        samples["boto3"].append(measure(BASELINE))
        for path in functions:
            samples[path.parent.name].append(measure(FUNCTION.format(path=str(path))))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    baseline = medians.pop("boto3")
    ratios = {name: value / baseline for name, value in medians.items()}
    if args.json:
        print(json.dumps({"baseline_seconds": baseline, "ratios": ratios}, indent=2))
    else:
        print(f"import boto3 (baseline): {baseline * 1000:.0f} ms, median of {args.rounds} fresh interpreters")
        for name, ratio in sorted(ratios.items(), key=lambda item: -item[1]):
            flag = "ok " if ratio <= TARGET else "SLOW"
            print(f"  {flag} {name:<10} {medians[name] * 1000:6.0f} ms  {ratio:4.2f} x boto3")
    return 0 if all(r <= TARGET for r in ratios.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
