"""A local-mode saving, not an AWS rule: ListObjectVersions at the cost of one page, not of the bucket.

For every page, moto deep-copies every version in the bucket (its value and metadata too) only to
mark the copies ``is_latest``: 5 s a page at 25,000 versions, so emptying such a bucket would take
minutes. A shallow copy of each version gives the same answer (the listing sets nothing else on
them). ``list_object_versions`` is the one ``copy.deepcopy`` in ``moto.s3.models``
(tests/unit/test_s3_listing.py checks that, and that the answers are the same).
"""

import copy
from collections.abc import Iterator
from contextlib import contextmanager

from moto.s3 import models


class _ListedKey(models.FakeKey):
    """A listed version's twin: it shares the stored version's value buffer, so it never closes it
    (a FakeKey closes its buffer when collected)."""

    def __del__(self) -> None:
        pass


def _shallow(version):
    twin = object.__new__(_ListedKey if isinstance(version, models.FakeKey) else type(version))  # not copy.copy: it rewrites the value
    twin.__dict__.update(version.__dict__)
    return twin


class _Copies:
    """What ``moto.s3.models`` calls ``copy``: the real module's ``copy``; a cheap ``deepcopy`` of a key's versions."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(versions):
        return [_shallow(version) for version in versions]


_installed = 0  # emulators nest (a test may run a clean one inside its own): the last one out restores moto's


@contextmanager
def shallow_version_listing() -> Iterator[None]:
    global _installed
    _installed += 1
    models.copy = _Copies  # type: ignore[assignment]  # stands in for the module: the same copy, a cheap deepcopy
    try:
        yield
    finally:
        _installed -= 1
        if not _installed:
            models.copy = copy
