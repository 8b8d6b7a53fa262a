"""Time the tests need not wait for: SkippedTime (the limiter's sleeps move the simulator's rate window)
and FakeClock (time that moves only when somebody sleeps)."""

from __future__ import annotations

import threading
import time

from simulators.freshservice import Simulator
from utils.services.freshservice_client import RateLimiter


class SkippedTime:
    """Waits that pass at once: a sleep moves the limiter's clock and the simulator's rate window
    forward together, so a pacing test sees real windows reset without waiting for them. Without a
    Freshservice simulator it is a clock and a sleep for any client that takes them (Graph, Mailchimp)."""

    def __init__(self, simulator: Simulator | None = None) -> None:
        self.simulator = simulator
        self.skipped = 0.0
        self._lock = threading.Lock()

    def clock(self) -> float:
        return time.monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.skipped += max(seconds, 0.0)
            if self.simulator is not None:
                self.simulator.advance_clock(max(seconds, 0.0))

    def limiter(self, **options) -> RateLimiter:
        return RateLimiter(clock=self.clock, sleep=self.sleep, **options)


class FakeClock:
    """Time that moves only when somebody sleeps, so pacing can be checked exactly."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
