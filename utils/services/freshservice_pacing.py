"""Freshservice's credit pacing, shared by every thread of a run, on top of the shared retry policy.

Freshservice's budget is per account and per minute (`X-Ratelimit-Total`, `X-Ratelimit-Remaining`),
shared with every other integration of the account; `RateLimiter` keeps a reserve of it for them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager


class RateLimiter:
    """Pacing shared by every thread of a run.

    - After a 429 nobody sends before Retry-After has passed, and that moment tells us when the
      budget's window resets (Freshservice's budget is per minute; `window_seconds`).
    - While X-Ratelimit-Remaining, less what is in flight, is below the reserve (a share of
      X-Ratelimit-Total), the run waits for the next reset when it knows when that is; until it
      knows, it sends one request at a time at the rate the budget refills. Either way the
      account's other integrations keep the reserve, and a fixed window sees at most one 429.
    - When a reset is due, one request goes first; only when its answer shows the fresh budget do
      the others follow (a server whose windows start late would otherwise see them all early).
    """

    FREE, PACED, PROBE = "free", "paced", "probe"

    def __init__(self, reserve: float = 0.10, window_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.reserve = reserve
        self.window_seconds = window_seconds
        self.recheck_seconds = min(1.0, window_seconds / 20)
        self._clock = self.clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._one_at_a_time = threading.Lock()
        self._blocked_until = 0.0
        self._next_slot = 0.0
        self._in_flight = 0
        self._awaiting_reset = False
        self._recheck_at = 0.0
        self._low_water: int | None = None
        self.reset_at: float | None = None
        self.total: int | None = None
        self.remaining: int | None = None

    def _low(self) -> bool:
        if not self.total or self.remaining is None:
            return False
        return self.remaining - self._in_flight < self.reserve * self.total

    def _delay(self) -> tuple[float, str]:
        """(seconds to wait before sending, how to send); call with the lock held."""
        now = self._clock()
        start_at = max(now, self._blocked_until)
        if not self._awaiting_reset and self.reset_at is not None and now >= self.reset_at:
            self._awaiting_reset, self._recheck_at, self._low_water = True, now, self.remaining
            self.remaining = None
        if self._awaiting_reset:
            return max(start_at, self._recheck_at) - now, self.PROBE
        if not self._low():
            return start_at - now, self.FREE
        if self.reset_at is not None:
            return max(start_at, self.reset_at) - now, self.FREE
        return max(start_at, self._next_slot) - now, self.PACED

    @contextmanager
    def turn(self, cost: int = 1) -> Iterator[float]:
        """Hold a turn to send a request of about `cost` credits; yields the seconds waited for it."""
        waited = 0.0
        one_at_a_time = False
        try:
            while True:
                with self._lock:
                    delay, mode = self._delay()
                    if delay <= 0 and (one_at_a_time or mode == self.FREE):
                        if mode == self.PACED:
                            # The refill rate less the reserve: one credit every `interval` seconds.
                            interval = self.window_seconds / (self.total * (1 - self.reserve))  # type: ignore[operator]
                            self._next_slot = max(self._clock(), self._next_slot) + interval * cost
                        self._in_flight += cost
                        break
                if mode != self.FREE and not one_at_a_time:
                    self._one_at_a_time.acquire()
                    one_at_a_time = True
                    continue  # look again: the state may have changed while we queued
                self._sleep(delay)
                waited += delay
            try:
                yield waited
            finally:
                with self._lock:
                    self._in_flight -= cost
        finally:
            if one_at_a_time:
                self._one_at_a_time.release()

    def observe(self, headers: Mapping[str, str], sent_at: float | None = None) -> None:
        """Read the X-Ratelimit-* headers of a response to a request sent at `sent_at` (clock time)."""
        total = int_header(headers, "X-Ratelimit-Total")
        remaining = int_header(headers, "X-Ratelimit-Remaining")
        with self._lock:
            if total is not None:
                self.total = total
            if remaining is None:
                return
            if self._awaiting_reset:
                if self._low_water is None or remaining > self._low_water:
                    # The fresh budget: the window began about when this request was sent.
                    self._awaiting_reset = False
                    if self.reset_at is not None:
                        self.reset_at = max(self.reset_at, sent_at or 0.0) + self.window_seconds
                else:
                    self._recheck_at = self._clock() + self.recheck_seconds  # not reset yet: look again shortly
                    self._low_water = remaining
                self.remaining = remaining
            elif self.reset_at is not None and self.remaining is not None:
                # Answers to concurrent requests arrive out of order; within a known window the
                # budget only shrinks, so a late, higher figure is stale.
                self.remaining = min(self.remaining, remaining)
            else:
                self.remaining = remaining

    def block(self, seconds: float) -> None:
        """A 429 arrived: nobody sends again for `seconds`, when the window resets."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)
            self.reset_at = self._blocked_until
            self._awaiting_reset = False
            if self.remaining is None:
                self.remaining = 0  # keep what the 429's own headers said, if they said anything


def int_header(headers: Mapping[str, str], name: str) -> int | None:
    """An integer header, or None when it is missing or not a number."""
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
