"""Frozen dataclasses that travel in the state machine: ``to_state()`` and ``from_state(dict)``.

A ``Record``'s fields say what its state dict holds: each field is a key (``doc`` gives it the
description docs/state.md shows), nested records are nested dicts, tuples are JSON lists. A field whose
type admits None may be null; every other one must be there. ``from_state`` collects every key that is
absent or null where a value is needed, anywhere in the tree, and raises one ResourceStateError naming
them all: in the provisioning workflow that means the phases that write them did not finish.
"""

import dataclasses
import functools
import types
import typing
from typing import Any, Self

from .errors import ResourceStateError

_MISSING = object()


def doc(text: str, *, optional_key: bool = False, default: Any = _MISSING) -> Any:
    """A field with its description. ``optional_key``: the key is left out of the state while the value is None."""
    if optional_key and default is _MISSING:
        default = None
    extra = {} if default is _MISSING else {"default": default}
    return dataclasses.field(metadata={"doc": text, "optional_key": optional_key}, **extra)


def lacking(paths: list[str]) -> ResourceStateError:
    """The error for a state without the keys ``paths`` (dotted, from the state's root)."""
    error = ResourceStateError(
        f"the state lacks {', '.join(paths)}: the phases that produce them did not finish; start the same input again once they succeed"
    )
    error.lacking = paths
    return error


class Record:
    """Base of the state's dataclasses (each one also ``@dataclasses.dataclass(frozen=True)``)."""

    def to_state(self) -> dict:
        """The JSON-serialisable dict the state machine stores."""
        return {
            field.name: dump(value)
            for field in dataclasses.fields(self)  # type: ignore[arg-type]  # every subclass is a dataclass; the base is not
            if not ((value := getattr(self, field.name)) is None and field.metadata.get("optional_key"))
        }

    @classmethod
    def from_state(cls, state: Any, where: str = "") -> Self:
        """Rebuilt from ``to_state()`` output; ``where`` is its dotted path in the state, for the error."""
        missing: list[str] = []
        built = load(cls, state, where, missing)
        if missing:
            raise lacking(missing)
        return built


def dump(value: Any) -> Any:
    if hasattr(value, "to_state"):
        return value.to_state()
    if isinstance(value, list | tuple):
        return [dump(item) for item in value]
    if isinstance(value, dict):
        return {key: dump(item) for key, item in value.items()}
    return value


def _join(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _optional(kind: Any) -> tuple[bool, Any]:
    """(None allowed?, the type without None)."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        if len(args) < len(typing.get_args(kind)):
            return True, args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
    return False, kind


def load(kind: Any, value: Any, where: str, missing: list[str]) -> Any:
    """``value`` as ``kind``; appends to ``missing`` the path of every value needed but absent or null."""
    nullable, kind = _optional(kind)
    if value is None:
        if not nullable:
            missing.append(where)
        return None
    if isinstance(kind, type) and issubclass(kind, Record):
        return _load_record(kind, value, where, missing)
    if isinstance(kind, type) and hasattr(kind, "from_state"):  # the deployment: a model of its own
        try:
            return kind.from_state(value, where)
        except ResourceStateError as gap:
            if gap.lacking is None:
                raise
            missing.extend(gap.lacking)
            return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is list:
        return [load(args[0], item, _join(where, n), missing) for n, item in enumerate(value)]
    if origin is tuple:
        return tuple(load(args[0], item, _join(where, n), missing) for n, item in enumerate(value))
    if origin is dict:
        return {key: load(args[1], item, _join(where, key), missing) for key, item in value.items()}
    return value


def _load_record(cls: type, value: Any, where: str, missing: list[str]) -> Any:
    if not isinstance(value, dict):
        missing.append(where)
        return None
    hints, found, before = _hints(cls), {}, len(missing)
    for field in dataclasses.fields(cls):
        if field.name in value:
            found[field.name] = load(hints[field.name], value[field.name], _join(where, field.name), missing)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            missing.append(_join(where, field.name))
    return cls(**found) if len(missing) == before else None


def field_docs(cls: type) -> list[tuple[str, Any, str]]:
    """(name, type, description) of each field of ``cls``, in order (docs/state.md is made from these)."""
    hints = _hints(cls)
    return [(field.name, hints[field.name], field.metadata.get("doc", "")) for field in dataclasses.fields(cls)]
