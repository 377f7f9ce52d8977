"""AWS rule: a DynamoDB write is atomic, its condition included.

DynamoDB checks a ``ConditionExpression`` and applies the write as one step per item: of two
conditional writes racing for one item, at most one sees the condition hold. moto reads the item,
evaluates the condition and writes it back without a lock, so two threads can both pass
``attribute_not_exists`` (``tests/static/test_moto_canary.py`` shows it). The deployment lock
(locking.py) rests on that atomicity; here every request to moto's DynamoDB (its handler copies an
item it reads outside the backend's calls, so the lock covers the whole request) and every item read
and write of its backend run under one lock, so the emulator's writes are as atomic as DynamoDB's.
"""

import functools
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

OPERATIONS = ("put_item", "update_item", "delete_item", "get_item", "transact_write_items")
_lock = threading.RLock()


class AtomicWrites:
    def __init__(self):
        self._originals: dict[tuple[type, str], object] = {}

    def install(self) -> None:
        for owner, name in [*((DynamoDBBackend, name) for name in OPERATIONS), (DynamoHandler, "call_action")]:
            original = self._originals[(owner, name)] = getattr(owner, name)
            setattr(owner, name, _serialised(original))

    def uninstall(self) -> None:
        for (owner, name), original in self._originals.items():
            setattr(owner, name, original)
        self._originals.clear()


def _serialised(operation):
    @functools.wraps(operation)
    def atomic(*args, **kwargs):
        with _lock:
            return operation(*args, **kwargs)

    return atomic
