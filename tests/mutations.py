"""hypothesis strategy: the sample input with one to three fields dropped, replaced or joined by an unknown one."""

import copy
from collections.abc import Callable

from hypothesis import strategies as st


def field_paths(node, prefix=()):
    """Every key path in a JSON document, parents before children."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from field_paths(value, prefix + (key,))


@st.composite
def mutated(
    draw,
    base: dict,
    paths: list[tuple],
    replacement: Callable[[tuple], st.SearchStrategy],
    unknown_field: st.SearchStrategy,
    actions=("drop", "replace", "add"),
) -> dict:
    """``base`` with fields dropped, replaced by ``replacement(path)`` or joined by ``unknown_field`` keys."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent.setdefault(key, {}) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        action = draw(st.sampled_from(actions))
        if action == "drop":
            parent.pop(path[-1], None)
        elif action == "replace":
            parent[path[-1]] = draw(replacement(path))
        else:
            parent[draw(unknown_field)] = draw(replacement(path))
    return doc
