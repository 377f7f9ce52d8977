"""The poll schedule's bookkeeping (phases/polling.py): a check that watches reads on the same grid as the
Wait loop, stops at its watch or at the ceiling, and the ceiling counts what was watched."""

import pytest

from analytics_provisioner.deployment import Options
from analytics_provisioner.errors import ResourceTimeoutError
from analytics_provisioner.phases import polling


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(polling, "sleep", slept.append)
    return slept


def reads_ready_after(count: int):
    """A read that says 'not ready' ``count`` times, then 'ready'; counts its calls."""
    calls = []

    def read():
        calls.append(len(calls))
        return {"read": len(calls)}, len(calls) > count

    return read, calls


def test_watch_reads_every_interval_until_ready(pauses):
    read, calls = reads_ready_after(3)
    described, ready, watched = polling.watch(read, 15, 300)
    assert ready is True and described == {"read": 4}
    assert len(calls) == 4 and pauses == [15, 15, 15] and watched == 45


def test_watch_stops_at_its_length_not_ready(pauses):
    read, calls = reads_ready_after(100)
    _, ready, watched = polling.watch(read, 15, 100)
    assert ready is False and watched == 90 and len(calls) == 7  # reads at 0, 15, ..., 90: the next would pass 100


def test_no_watch_is_one_read(pauses):
    read, calls = reads_ready_after(100)
    assert polling.watch(read, 60, 0)[1:] == (False, 0) and len(calls) == 1 and pauses == []


def test_reads_fall_on_one_grid_across_checks(pauses):
    """First check at 420 s, watch 60 s, interval 15 s: reads at 420, 435, ... with no gap between checks."""
    read, _ = reads_ready_after(100)
    poll, reads = polling.start(420), []
    for _ in range(3):
        start = poll["waited_seconds"] + poll["next_wait_seconds"]
        _, ready, watched = polling.watch(read, 15, 60)
        reads += [start + offset for offset in range(0, watched + 1, 15)]
        poll = polling.after_check(poll, ready, 15, 60, "domain d", "remedy", watched_seconds=watched)
    assert reads == list(range(420, 420 + 15 * len(reads), 15))
    assert poll == {"checks": 3, "waited_seconds": 420 + 60 + 15 + 60 + 15 + 60, "next_wait_seconds": 15}


def test_watch_never_passes_the_ceiling():
    poll = {"checks": 2, "waited_seconds": 3400, "next_wait_seconds": 15}
    assert polling.watch_budget(poll, 300, 60) == 3600 - 3415
    assert polling.watch_budget({**poll, "waited_seconds": 3600}, 300, 60) == 0
    assert polling.watch_budget(polling.start(420), 300, 60) == 300


def test_ceiling_counts_the_watch_and_names_the_resource():
    poll = {"checks": 5, "waited_seconds": 3300, "next_wait_seconds": 15}
    with pytest.raises(ResourceTimeoutError, match="domain d not active after 60 minutes; raise it"):
        polling.after_check(poll, False, 15, 60, "domain d", "raise it", watched_seconds=285)
    assert polling.after_check(poll, True, 15, 60, "domain d", "raise it", watched_seconds=285)["waited_seconds"] == 3600


# Step Functions ends an execution whose history passes 25,000 events. One round of a poll loop adds
# about 9 (Wait entered/exited, Task entered/scheduled/started/succeeded/exited, Choice entered/exited).
EVENTS_PER_ROUND = 9
HISTORY_LIMIT = 25_000


def test_default_schedule_stays_far_under_the_history_limit_at_the_ceiling():
    options = Options()
    for first, timeout in (
        (options.search_first_check_seconds, options.search_timeout_minutes),
        (options.database_first_check_seconds, options.database_timeout_minutes),
    ):
        rounds = 1 + (timeout * 60 - first) / (options.poll_watch_seconds + options.poll_interval_seconds)
        assert 2 * rounds * EVENTS_PER_ROUND < HISTORY_LIMIT / 10  # both loops at their ceiling
