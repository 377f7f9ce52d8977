"""Phase outputs for tests that need an upstream phase's output but not its resources: ``sample(cls, **given)``
fills every field the test does not give with a value of the field's type, named after its path."""

import dataclasses
import types
import typing

from analytics_provisioner.deployment import Deployment, ResolvedDeployment
from analytics_provisioner.record import Record

# Validate's choices, made up: for a phase that does not read them (or a test that pins what it reads)
CHOICES = {
    "ubuntu_release": "20.04",
    "ami_id": "ami-0123456789abcdef0",
    "es_engine_version": "OpenSearch_2.11",
    "es_instance_type": "t3.small.search",
    "es_encryption_at_rest": True,
}


def resolved(
    doc: dict, region: str = "us-east-1", vpc_id: str = "vpc-0123456789abcdef0", subnet_id: str = "subnet-0123456789abcdef0", **choices
) -> ResolvedDeployment:
    """``doc``'s deployment as Validate hands it on, without asking AWS: ``CHOICES`` unless ``choices`` says otherwise."""
    return ResolvedDeployment.resolve(Deployment.from_input(doc, region), vpc_id, subnet_id, **(CHOICES | choices))


def sample(cls: type, where: str = "", **given):
    """An instance of ``cls`` (a Record): ``given`` fields as given, the others made up (nullable ones too)."""
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        path = f"{where}.{field.name}" if where else field.name
        values[field.name] = given[field.name] if field.name in given else _value(hints[field.name], path)
    return cls(**values)


def _value(kind, path: str):
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if isinstance(kind, type) and issubclass(kind, Record):
        return sample(kind, path)
    if origin is list:
        return [_value(args[0], f"{path}.0")]
    if origin is dict:
        return {"key": _value(args[1], f"{path}.key")}
    if kind is bool:
        return True
    if kind is int:
        return 3306
    if kind is str:
        return f"<{path}>"
    raise TypeError(f"no sample for {kind} ({path})")
