"""Simulated time: local mode skips the waits, but AWS's time-based rules must still see them pass.

The emulator scales Wait states, Retry back-offs and botocore's retry sleeps (0 = instant); every
second it does not sleep is added here, so ``now()`` is the time a real run would have reached.
Rules that depend on how long ago something happened (a listing that lags writes) read it. Parallel
branches that wait at once each add their wait, so the clock may run ahead: a rule is then kinder,
never harsher, than AWS.
"""

import threading
import time


class Clock:
    def __init__(self):
        self.skipped = 0.0
        self._lock = threading.Lock()

    def skip(self, seconds: float) -> None:
        with self._lock:
            self.skipped += max(seconds, 0.0)

    def now(self) -> float:
        return time.time() + self.skipped
