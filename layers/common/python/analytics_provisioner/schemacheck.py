"""How a document the input schemas refuse is described: whole-value patterns, short quotes, bounded answers.

JSON Schema patterns are ECMA-262 regular expressions, where ``$`` matches only at the end of the
value. Python's ``$`` also matches before a final newline, so plain jsonschema (Python's ``re``)
lets ``"lms.acme.org\\n"`` through. The precompiled checks (fastjsonschema) read an unescaped ``$``
as ``\\Z``; the validator here does the same, so both read every pattern as the whole value.

Describing never echoes a huge value (each message quotes a short prefix and has a length cap,
the list of problems is capped) and never recurses into a document nested deeper than any input
can be: JSON that deep is refused before a validator walks it.
"""

import itertools
import math
import re
from functools import lru_cache

from .errors import quote

MAX_DEPTH = 16  # the execution input is 4 levels deep; the teardown input 5
MAX_MESSAGE = 300
MAX_PROBLEMS = 20
SCAN = 5 * MAX_PROBLEMS
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")  # fastjsonschema's DOLLAR_FINDER: the two engines must agree


@lru_cache(maxsize=128)
def whole_value(pattern: str) -> re.Pattern:
    """``pattern`` as JSON Schema means it: an unescaped ``$`` is the end of the value (``\\Z``)."""
    return re.compile(_UNESCAPED_DOLLAR.sub(r"\\Z", pattern))


def _pattern(validator, pattern, instance, schema):
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not whole_value(pattern).search(instance):
        yield ValidationError(f"{quote(instance)} does not match {pattern!r}")


@lru_cache(maxsize=1)
def _validator_class():
    from jsonschema import Draft202012Validator, validators  # only for a document the precompiled check did not pass

    return validators.extend(Draft202012Validator, {"pattern": _pattern})


def shape_problem(document, limit: int = MAX_DEPTH) -> str | None:
    """What no schema should have to walk: objects/arrays nested more than ``limit`` levels (a
    validator would recurse into them), or a number JSON cannot carry (NaN, Infinity: Python's json
    reads them, Step Functions refuses them, and no range check refuses NaN). Walked without recursion."""
    pending = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return f"(document): {node!r} is not a JSON number; give a finite number"
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        nested = [child for child in children if isinstance(child, (dict, list, float))]
        if depth >= limit and any(isinstance(child, (dict, list)) for child in nested):
            return TOO_DEEP
        pending.extend((child, depth + 1) for child in nested)
    return None


TOO_DEEP = f"(document): nested more than {MAX_DEPTH} levels deep; an input is a few levels of objects (see events/input-minimal.json)"


def errors(schema: dict, document) -> list:
    """jsonschema's errors for ``document`` (patterns read as whole-value), sorted by field; the
    first ``SCAN`` found at most (a 100,000-item array of bad values is not described item by item)."""
    found = itertools.islice(_validator_class()(schema).iter_errors(document), SCAN)
    return sorted(found, key=lambda e: (list(map(str, e.absolute_path)), e.message))


def message(error) -> str:
    """jsonschema's message with the rejected value shown as a short prefix."""
    text, full = error.message, repr(error.instance)
    if text.startswith(full):
        text = quote(error.instance) + text[len(full) :]
    return text


def capped(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def listed(problems: list[str]) -> list[str]:
    """At most MAX_PROBLEMS messages, each at most MAX_MESSAGE characters: an answer stays small."""
    shown = [capped(problem) for problem in problems[:MAX_PROBLEMS]]
    if len(problems) >= SCAN:
        shown.append("… and more problems of the same document")
    elif len(problems) > MAX_PROBLEMS:
        shown.append(f"… and {len(problems) - MAX_PROBLEMS} more problem(s) of the same document")
    return shown
