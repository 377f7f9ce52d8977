"""Read template.yaml (CloudFormation short-form tags included) for the local emulator."""

import os
from dataclasses import dataclass
from pathlib import Path

import yaml


def _repo_root() -> Path:
    """The checkout holding template.yaml: $ANALYTICS_PROVISIONER_HOME, this package's checkout, or cwd."""
    candidates = [os.environ.get("ANALYTICS_PROVISIONER_HOME"), Path(__file__).resolve().parents[5], Path.cwd()]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "template.yaml").is_file():
            return Path(candidate)
    raise FileNotFoundError("local mode needs the repository checkout (template.yaml, functions/, statemachine/): run it from there or set ANALYTICS_PROVISIONER_HOME")


REPO_ROOT = _repo_root()


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: Path | None = None) -> dict:
    path = path or REPO_ROOT / "template.yaml"
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # nosec B506  # _CfnLoader is a yaml.SafeLoader that only adds the CloudFormation tags


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout: int


def functions(template: dict) -> dict[str, FunctionSpec]:
    globals_ = template.get("Globals", {}).get("Function", {})
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        found[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=REPO_ROOT / props["CodeUri"],
            handler=props.get("Handler", globals_.get("Handler")),
            timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
        )
    return found


def state_machines(template: dict) -> dict[str, dict]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::StateMachine"
    }


def global_environment(template: dict) -> dict:
    return template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})


def resolve(value, refs: dict[str, str], template: dict) -> str:
    """A Globals value as the deployed stack sees it: a literal, a Ref (a resource in ``refs``, else a
    parameter with its default) or a Fn::Join of those (a list parameter joins to its default)."""
    if not isinstance(value, dict):
        return str(value)
    if "Ref" in value:
        name = value["Ref"]
        return refs[name] if name in refs else str(template["Parameters"][name].get("Default", ""))
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(resolve(part, refs, template) for part in parts) if isinstance(parts, list) else resolve(parts, refs, template)
    raise ValueError(f"local mode cannot resolve {value} in the template's Globals")


def definition(machine: dict, substitutions: dict[str, str]) -> str:
    text = (REPO_ROOT / machine["DefinitionUri"]).read_text()
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value)
    return text
