"""Simulated time: local mode skips the waits, but AWS's time-based rules must still see them pass.

The emulator scales Wait states, Retry back-offs and botocore's retry sleeps (0 = instant); every
second it does not sleep is added here, so ``now()`` is the time a real run would have reached.
Rules that depend on how long ago something happened (a listing that lags writes) read it. Parallel
branches that wait at once each add their wait, so the clock may run ahead: a rule is then kinder,
never harsher, than AWS.

A rule that must never be kinder than AWS (IAM propagation: whatever the other branches do, a fresh
principal is refused until its user has waited) counts per thread instead: ``since(mark)`` is how
long the calling thread, and the threads that started it (``TaskThread``), have waited since
``mark()``. A Task runs on a thread its state's thread starts, and the state's Retry sleeps on the
latter; a Parallel branch runs on a thread of its own, whose waits pass no time for another branch.
Computing takes no simulated time; tests pass time with ``wait``.
"""

import threading
import time
import weakref


class Clock:
    def __init__(self):
        self.skipped = 0.0
        self._waited: weakref.WeakKeyDictionary[threading.Thread, float] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def skip(self, seconds: float) -> None:
        with self._lock:
            self.skipped += max(seconds, 0.0)

    def now(self) -> float:
        return time.time() + self.skipped

    def wait(self, seconds: float, slept: float = 0.0) -> None:
        """The calling thread waited ``seconds``, of which it really slept ``slept``."""
        self.skip(seconds - slept)
        with self._lock:
            thread = threading.current_thread()
            self._waited[thread] = self._waited.get(thread, 0.0) + seconds

    def mark(self) -> dict:
        with self._lock:
            return dict(self._waited)

    def since(self, mark: dict) -> float:
        waited = 0.0
        thread: threading.Thread | None = threading.current_thread()
        with self._lock:
            while thread is not None:
                waited += self._waited.get(thread, 0.0) - mark.get(thread, 0.0)
                thread = getattr(thread, "started_by", None)
        return waited


class TaskThread(threading.Thread):
    """The thread moto's interpreter runs a Task on, knowing the state's thread that started it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started_by = threading.current_thread()
