"""The deployment packages `sam build` produced (.aws-sam/build), and the file tree a Lambda function's
Python sees once they are unpacked: shared by cold_start.py and package_size.py.

Lambda unpacks the function into /var/task and its layers, in order, into /opt (``/opt/python`` is
on ``sys.path``); the python3.12 runtime brings the AWS SDK. ``sam deploy`` zips each artifact
directory as it is, every entry dated 1980-01-01 (SAM sets no date), and /var/task and /opt are
read-only: a ``.pyc`` that validates by its source's timestamp never matches there, so Python
compiles that module again at every cold start unless its bytecode is hash-based (PEP 552).
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from analytics_provisioner.local import template as cfn

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / ".aws-sam" / "build"

# What the python3.12 runtime provides: the AWS SDK and the packages it depends on (import names).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
ZIP_DATE = 315532800  # 1980-01-01T00:00:00Z, the date of every entry in a SAM-built zip


@dataclass(frozen=True)
class Artifact:
    logical_id: str
    kind: str  # "function" | "layer"
    path: Path  # the directory sam deploy zips
    layers: tuple[str, ...] = ()  # a function's layers, in order

    @property
    def name(self) -> str:
        return self.logical_id.removesuffix("Function") if self.kind == "function" else self.logical_id


def artifacts(build: Path = BUILD) -> list[Artifact]:
    """Every function and layer of the built template, with the directory sam deploy would zip."""
    built = build / "template.yaml"
    if not built.is_file():
        raise SystemExit(f"{built.relative_to(REPO)} is missing: run `make sam-build` first")
    template = cfn.load(built)
    global_layers = template.get("Globals", {}).get("Function", {}).get("Layers", [])
    found = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            layers = tuple(ref["Ref"] for ref in props.get("Layers", global_layers))
            found.append(Artifact(logical_id, "function", (build / props["CodeUri"]).resolve(), layers))
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            found.append(Artifact(logical_id, "layer", (build / props["ContentUri"]).resolve()))
    return sorted(found, key=lambda artifact: (artifact.kind, artifact.logical_id))


def files(root: Path):
    """Every file sam deploy puts into the zip of ``root`` (it follows symlinks and skips nothing)."""
    for directory, _, names in os.walk(root, followlinks=True):
        for name in names:
            yield Path(directory) / name


def unpack(source: Path, target: Path) -> None:
    """Copy ``source`` into ``target`` as Lambda unpacks its zip: same files, every one dated 1980."""
    for path in files(source):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        os.utime(destination, (ZIP_DATE, ZIP_DATE))


@dataclass(frozen=True)
class LambdaTree:
    """/var/task per function, /opt, and the runtime's SDK, under one temporary directory."""

    root: Path
    by_name: dict[str, list[str]]  # function name (lower case): its sys.path entries

    @classmethod
    def build(cls, root: Path, build: Path = BUILD) -> "LambdaTree":
        found = artifacts(build)
        layers = {a.logical_id: a for a in found if a.kind == "layer"}
        runtime = root / "runtime"
        runtime.mkdir(parents=True)
        for package in RUNTIME_PROVIDED:  # the runtime's SDK, with its bytecode as this interpreter has it
            location = Path(__import__(package).__file__)
            origin = location.parent if location.name == "__init__.py" else location
            (runtime / origin.name).symlink_to(origin)
        functions, opts = {}, {}
        for function in (a for a in found if a.kind == "function"):
            task = root / "task" / function.name
            unpack(function.path, task)
            if function.layers not in opts:  # one /opt per distinct list of layers
                opts[function.layers] = root / f"opt{len(opts)}"
                for layer in function.layers:
                    unpack(layers[layer].path, opts[function.layers])
            functions[function.name.lower()] = [str(task), str(opts[function.layers] / "python"), str(runtime)]
        return cls(root, functions)

    def sys_path(self, function: str) -> list[str]:
        """What goes before the standard library on ``sys.path`` (Lambda's order: task, /opt/python, runtime)."""
        return self.by_name[function]

    @property
    def runtime_path(self) -> list[str]:
        return [str(self.root / "runtime")]
