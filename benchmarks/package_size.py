"""Deployment size: every function and layer of the ``sam build`` output as ``sam deploy`` zips it,
and what does not belong in it.

    make sam-build && .venv/bin/python benchmarks/package_size.py [--json]

Fails (exit 1) when a function package holds anything the python3.12 runtime provides (the AWS SDK
and its dependencies), or a layer holds the SDK itself (boto3, botocore, s3transfer). A layer
holding one of the SDK's small dependencies because a layer package requires it is reported, not
failed. Also reported: bytecode Lambda cannot use (a timestamp-based ``.pyc`` never validates
once SAM's zip dates every file 1980, see lambda_env.py), modules shipped without bytecode (compiled
again at every cold start), and install metadata of our own package.
"""

import argparse
import io
import json
import sys
import zipfile
from pathlib import Path

from lambda_env import BUILD, REPO, RUNTIME_PROVIDED, Artifact, artifacts, files

SDK = ("boto3", "botocore", "s3transfer")
UNZIPPED_LIMIT_MB = 250  # Lambda: a function and all its layers, unzipped
HASH_BASED = 0b01  # PEP 552: the flags word of a .pyc


def import_root(artifact: Artifact) -> Path:
    return artifact.path if artifact.kind == "function" else artifact.path / "python"


def top_level_names(root: Path) -> dict[str, str]:
    """{import name: entry} for each package, module and distribution at the import root."""
    names = {}
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        if entry.name.endswith((".dist-info", ".egg-info")):
            name = entry.name.removesuffix(".dist-info").removesuffix(".egg-info").split("-", 1)[0]
        elif entry.is_dir() or entry.suffix in (".py", ".so"):
            name = entry.name.split(".", 1)[0]
        else:
            continue
        names.setdefault(name.lower().replace("-", "_"), entry.name)
    return names


def zipped_size(root: Path) -> int:
    """The size of the zip sam deploy would upload (deflate, one entry per file)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files(root):
            archive.writestr(zipfile.ZipInfo(str(path.relative_to(root))), path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buffer.tell()


def bytecode(root: Path) -> dict:
    """Modules by the bytecode they ship: hash-based (used in Lambda), timestamp-based (never valid
    there), none (compiled at every cold start)."""
    found = {"hash_based": 0, "timestamp_based": 0, "none": 0}
    for source in (path for path in files(root) if path.suffix == ".py"):
        cached = list((source.parent / "__pycache__").glob(f"{source.stem}.cpython-312*.pyc"))
        if not cached:
            found["none"] += 1
        elif int.from_bytes(cached[0].read_bytes()[4:8], "little") & HASH_BASED:
            found["hash_based"] += 1
        else:
            found["timestamp_based"] += 1
    return found


def inspect(artifact: Artifact) -> dict:
    names = top_level_names(import_root(artifact))
    provided = sorted({names[name] for name in RUNTIME_PROVIDED if name in names})
    sdk = sorted({names[name] for name in SDK if name in names})
    problems, notes = [], []
    if artifact.kind == "function" and provided:
        problems.append(f"holds what the runtime provides: {', '.join(provided)}")
    elif artifact.kind == "layer":
        if sdk:
            problems.append(f"holds the AWS SDK, which the runtime provides: {', '.join(sdk)}")
        if duplicates := [entry for entry in provided if entry not in sdk]:
            notes.append(f"duplicates the runtime's {', '.join(duplicates)} (a dependency of a layer package)")
    modules = bytecode(artifact.path)
    if modules["timestamp_based"]:
        notes.append(f"{modules['timestamp_based']} modules ship timestamp-based .pyc, never valid in Lambda")
    if modules["none"] > 1:  # a lone app.py compiles in well under a millisecond
        notes.append(f"{modules['none']} modules ship without bytecode: compiled again at every cold start")
    for stray in sorted(import_root(artifact).glob("*.egg-info")):
        notes.append(f"ships {stray.name}, the metadata of a local editable install")
    sizes = [path.stat().st_size for path in files(artifact.path)]
    return {
        "kind": artifact.kind,
        "path": str(artifact.path.relative_to(REPO)) if artifact.path.is_relative_to(REPO) else str(artifact.path),
        "layers": list(artifact.layers),
        "files": len(sizes),
        "unpacked_bytes": sum(sizes),
        "zipped_bytes": zipped_size(artifact.path),
        "bytecode": modules,
        "problems": problems,
        "notes": notes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=BUILD, help="the sam build output (default .aws-sam/build)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = {artifact.logical_id: inspect(artifact) for artifact in artifacts(args.build)}
    for entry in report.values():
        if entry["kind"] == "function":
            entry["with_layers_unpacked_bytes"] = entry["unpacked_bytes"] + sum(
                report[layer]["unpacked_bytes"] for layer in entry["layers"]
            )
    ok = not any(entry["problems"] for entry in report.values())
    if args.json:
        print(json.dumps({"ok": ok, "artifacts": report}, indent=2))
    else:
        print(f"Deployment packages: {args.build}, sizes as sam deploy zips them")
        print(f"  {'artifact':<26}{'files':>7}{'unpacked KB':>13}{'zipped KB':>11}{'+ layers MB':>13}")
        for logical_id, entry in report.items():
            with_layers = f"{entry['with_layers_unpacked_bytes'] / 2**20:.1f}" if "with_layers_unpacked_bytes" in entry else ""
            print(
                f"  {entry['kind'] + ' ' + logical_id:<26}{entry['files']:>7}{entry['unpacked_bytes'] / 1024:>13.1f}"
                f"{entry['zipped_bytes'] / 1024:>11.1f}{with_layers:>13}"
            )
        print(f"  (+ layers: a function unpacked with its layers; Lambda's limit is {UNZIPPED_LIMIT_MB} MB)")
        for logical_id, entry in report.items():
            for problem in entry["problems"]:
                print(f"  FAIL {logical_id}: {problem}")
            for note in entry["notes"]:
                print(f"  note {logical_id}: {note}")
        print("nothing the runtime provides in a function package, no AWS SDK in a layer: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
