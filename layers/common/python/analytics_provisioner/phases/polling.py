"""Bookkeeping for the state machine's poll loops (Create -> Wait -> status -> Choice).

The ensure call returns ``poll`` with the first wait; each status call adds the wait the state
machine was told to take to ``waited_seconds`` and schedules the next one. The ceiling counts these
scheduled waits, not the wall clock, so it still ends the loop when local mode runs Wait states in
0 s.
"""

from ..errors import ResourceTimeoutError


def first_wait(created: bool, ready: bool, first_check_seconds: int, interval_seconds: int) -> int:
    """A new resource: its typical creation time. An adopted one: none if ready, else the poll interval."""
    if created:
        return first_check_seconds
    return 0 if ready else interval_seconds


def start(next_wait_seconds: int) -> dict:
    return {"checks": 0, "waited_seconds": 0, "next_wait_seconds": next_wait_seconds}


def after_check(poll: dict, ready: bool, interval_seconds: int, timeout_minutes: float, resource: str, remedy: str,
                awaited: str = "active") -> dict:
    """The poll state after one status check; ResourceTimeoutError when still not ready at the ceiling."""
    waited = poll["waited_seconds"] + poll["next_wait_seconds"]
    if not ready and waited >= timeout_minutes * 60:
        raise ResourceTimeoutError(f"{resource} not {awaited} after {timeout_minutes:g} minutes; {remedy}")
    return {"checks": poll["checks"] + 1, "waited_seconds": waited, "next_wait_seconds": interval_seconds}
