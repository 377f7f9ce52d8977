"""The input schemas compiled to plain Python by scripts/compile_schemas.py (do not edit the modules).

They answer one question fast, "does this document conform?", so a valid input never imports
jsonschema (about 25 ms of a cold start). jsonschema stays the authority: whatever these checks do
not pass, it examines and describes.
"""

from collections.abc import Callable


def conforms(check: Callable[[object], object], document: object) -> bool:
    """True when the generated ``check`` accepts ``document``; any refusal or surprise means "ask jsonschema"."""
    try:
        check(document)
    except Exception:  # a generated check may trip over input it was not written for; jsonschema decides then
        return False
    return True
