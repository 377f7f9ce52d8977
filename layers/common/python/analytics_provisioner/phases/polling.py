"""Bookkeeping for the state machine's poll loops (Create -> Wait -> status -> Choice).

The ensure call returns ``poll`` with the first wait; each status call adds the wait the state
machine was told to take, and the time it spent watching, to ``waited_seconds`` and schedules the
next one. The ceiling counts these scheduled waits and watches, not the wall clock, so it still ends
the loop when local mode runs Wait states in 0 s.

A status call may watch: read the resource, and while it is not ready read it again every
``interval_seconds`` for up to ``watch_seconds`` (``watch``). The reads then fall on one grid, every
``interval_seconds`` from the first check, whether they happen inside a check or after a Wait state:
a resource is seen ready about half an interval late, while one round of the loop (three state
transitions) covers ``watch_seconds + interval_seconds`` instead of ``interval_seconds``. The price is
Lambda time: a check bills its watch (docs/performance.md weighs it).

``found_or_created`` / ``until_found`` watch the same way, briefly, for what a create answered exists
already while the look-up does not show it yet (README, Reliability).
"""

import math
import time
from collections.abc import Callable

from ..errors import ResourceTimeoutError, TransientAwsError

# What AWS has just said exists, while its describe calls do not show it yet (EC2's and IAM's reads are
# eventually consistent, typically for seconds): read again every 2 s for up to 30 s.
FOUND_INTERVAL_SECONDS, FOUND_WAIT_SECONDS = 2, 30


def sleep(seconds: float) -> None:
    """A pause between two reads of one check. Local mode scales it as it scales Wait states."""
    time.sleep(seconds)


def first_wait(created: bool, ready: bool, first_check_seconds: int, interval_seconds: int) -> int:
    """A new resource: its typical creation time. An adopted one: none if ready, else the poll interval."""
    if created:
        return first_check_seconds
    return 0 if ready else interval_seconds


def start(next_wait_seconds: int) -> dict:
    return {"checks": 0, "waited_seconds": 0, "next_wait_seconds": next_wait_seconds}


def watch[T](read: Callable[[], tuple[T, bool]], interval_seconds: int, watch_seconds: int) -> tuple[T, bool, int]:
    """``read()`` -> (description, ready), again every ``interval_seconds`` while not ready, as long as
    the next read stays within ``watch_seconds``; returns the last read and the seconds spent watching."""
    described, ready = read()
    watched = 0
    while not ready and watched + interval_seconds <= watch_seconds:
        sleep(interval_seconds)
        watched += interval_seconds
        described, ready = read()
    return described, ready, watched


def until_found[T](look_up: Callable[[], T | None], what: str, why: str) -> T:
    """``look_up()``, again while it finds nothing, for up to FOUND_WAIT_SECONDS: after a create answered
    that the thing exists already (a look-up moments before did not show it, or the create is the SDK's
    retry of a call whose answer was lost). TransientAwsError when it still does not show: the state
    machine retries the phase, which looks it up first."""
    found, seen, _ = watch(lambda: ((answer := look_up()), bool(answer)), FOUND_INTERVAL_SECONDS, FOUND_WAIT_SECONDS)
    if not seen or found is None:
        raise TransientAwsError(f"{what}: {why}, but it does not show yet after {FOUND_WAIT_SECONDS} s; retried")
    return found


def found_or_created(look_up: Callable[[], dict | None], create: Callable[[], dict | None], what: str) -> tuple[dict, bool]:
    """(the resource, created now?): ``look_up()``, else ``create()``; when the create answers that it
    exists already (the aws helpers return None then), ``until_found``. The caller checks what it found
    is ours."""
    found = look_up()
    if found is not None:
        return found, False
    created = create()
    if created is not None:
        return created, True
    return until_found(look_up, what, "AWS answered that it exists already"), False


def watch_budget(poll: dict, watch_seconds: int, timeout_minutes: float) -> int:
    """How long this check may watch: ``watch_seconds``, but never past the ceiling."""
    return max(0, min(watch_seconds, int(timeout_minutes * 60) - poll["waited_seconds"] - poll["next_wait_seconds"]))


def check[T](
    read: Callable[[], tuple[T, bool]],
    poll: dict,
    interval_seconds: int,
    watch_seconds: int,
    timeout_minutes: float,
    resource: str,
    remedy: str,
) -> tuple[T, bool, dict]:
    """One status check of a poll loop: ``watch`` within ``watch_budget``, then ``after_check``; returns
    the last read, whether it was ready, and the poll state for the next round."""
    budget = watch_budget(poll, watch_seconds, timeout_minutes)
    described, ready, watched = watch(read, interval_seconds, budget)
    return described, ready, after_check(poll, ready, interval_seconds, timeout_minutes, resource, remedy, watched_seconds=watched)


def after_check(
    poll: dict,
    ready: bool,
    interval_seconds: int,
    timeout_minutes: float,
    resource: str,
    remedy: str,
    awaited: str = "active",
    watched_seconds: int = 0,
) -> dict:
    """The poll state after one status check (which watched ``watched_seconds``); ResourceTimeoutError
    when still not ready at the ceiling."""
    waited = poll["waited_seconds"] + poll["next_wait_seconds"] + watched_seconds
    if not ready and waited >= timeout_minutes * 60:
        raise ResourceTimeoutError(f"{resource} not {awaited} after {timeout_minutes:g} minutes; {remedy}")
    return {"checks": poll["checks"] + 1, "waited_seconds": waited, "next_wait_seconds": interval_seconds}


# Step Functions ends an execution whose history passes 25,000 events. One round of a poll loop writes
# 9: Wait entered and exited, Task entered, scheduled, started, succeeded and exited, Choice entered
# and exited. The two loops run side by side; the rest of the execution (every other state once, each
# Task's Retry at its ceiling, Verify's RDS-test loop) stays within the other 5,000, which
# tests/static/test_template.py derives from the definition.
HISTORY_EVENTS_LIMIT = 25_000
EVENTS_PER_ROUND = 9
POLL_HISTORY_BUDGET = 20_000


def rounds_at_ceiling(first_check_seconds: int, interval_seconds: int, watch_seconds: int, timeout_minutes: float) -> int:
    """How many rounds a loop runs before its ceiling ends it (the resource never ready)."""
    remaining = max(0.0, timeout_minutes * 60 - first_check_seconds)
    return 1 + math.ceil(remaining / (interval_seconds + watch_seconds))
