"""Read template.yaml (CloudFormation short-form tags included) for the local emulator."""

import os
from dataclasses import dataclass
from pathlib import Path

import yaml


def _repo_root() -> Path:
    """The checkout holding template.yaml: $ANALYTICS_PROVISIONER_HOME, this package's checkout, or cwd."""
    home = os.environ.get("ANALYTICS_PROVISIONER_HOME")
    for candidate in [*([Path(home)] if home else []), Path(__file__).resolve().parents[5], Path.cwd()]:
        if (candidate / "template.yaml").is_file():
            return candidate
    raise FileNotFoundError(
        "local mode needs the repository checkout (template.yaml, functions/, statemachine/): run it from there or set ANALYTICS_PROVISIONER_HOME"
    )


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


def referenced_environment(template: dict) -> dict:
    """Every function's environment variables that take a stack parameter, another function's name or a
    table's name (``!Ref``), or a plain value."""
    referable = set(template.get("Parameters", {})) | set(functions(template)) | set(tables(template))
    return {
        name: value
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        for name, value in resource["Properties"].get("Environment", {}).get("Variables", {}).items()
        if isinstance(value, (str, int)) or (isinstance(value, dict) and value.get("Ref") in referable)
    }


def tables(template: dict) -> dict[str, dict]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }


def eventbridge_rules(template: dict) -> dict[tuple[str, str], dict]:
    """(function, event name) -> the Properties of each function's ``EventBridgeRule`` event."""
    return {
        (logical_id, name): event["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        for name, event in resource["Properties"].get("Events", {}).items()
        if event["Type"] == "EventBridgeRule"
    }


NO_VALUE = object()  # AWS::NoValue: the property is left out


def evaluate(value, refs: dict, template: dict):
    """A template value as the deployed stack sees it: a literal, a Ref (a resource or parameter in
    ``refs``, else a parameter's default; a CommaDelimitedList is a list), Fn::Join, Fn::If on one of
    the template's Conditions (Fn::Not, Fn::Equals), AWS::NoValue, and lists and maps of those."""
    if isinstance(value, list):
        return [item for item in (evaluate(item, refs, template) for item in value) if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return _ref(value["Ref"], refs, template)
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        parts = evaluate(parts, refs, template)
        return separator.join(str(part) for part in parts) if isinstance(parts, list) else str(parts)
    if "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        return evaluate(when_true if evaluate(template["Conditions"][condition], refs, template) else when_false, refs, template)
    if "Fn::Not" in value:
        return not evaluate(value["Fn::Not"][0], refs, template)
    if "Fn::Equals" in value:
        left, right = evaluate(value["Fn::Equals"], refs, template)
        return left == right
    if any(key == "Ref" or key.startswith("Fn::") for key in value):
        raise ValueError(f"local mode cannot resolve {value} in the template")
    return {key: item for key, item in ((key, evaluate(item, refs, template)) for key, item in value.items()) if item is not NO_VALUE}


def _ref(name: str, refs: dict, template: dict):
    if name == "AWS::NoValue":
        return NO_VALUE
    parameter = template.get("Parameters", {}).get(name)
    if name not in refs and parameter is None:
        raise ValueError(f"local mode cannot resolve Ref {name} in the template")
    value = refs[name] if name in refs else parameter.get("Default", "")
    if parameter is not None and parameter.get("Type") == "CommaDelimitedList" and isinstance(value, str):
        return [part for part in value.split(",") if part]
    return value


def resolve(value, refs: dict, template: dict) -> str:
    """A Globals value (an environment variable) as a string."""
    return str(evaluate(value, refs, template))


def definition(machine: dict, substitutions: dict[str, str]) -> str:
    text = (REPO_ROOT / machine["DefinitionUri"]).read_text()
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value)
    return text
