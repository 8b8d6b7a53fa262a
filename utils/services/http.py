"""The one HTTP retry policy every outbound client uses.

`send` retries dropped connections, timeouts, truncated bodies and the retryable statuses with
exponential back-off and full jitter, and raises one clear error naming the service after the last try.
A 503's `Retry-After` is capped (`max_wait`). A 429's is waited in full, never retried early into
another 429 (which costs budget too), up to `max_rate_limit_wait` for one wait and the service's
`WaitBudget` for the run: a wait past either raises `WaitBudgetSpent` at once instead of sleeping,
so a server repeating a huge `Retry-After` cannot park a run for hours.
A service's own quirks (Freshservice's credit pacing, say) sit on top through `SendHooks`.

Also here, shared by every client: `CHECK_POLICY` (the one policy of every `--check`), `Usage` and
`usage_block` (the one shape of the `usage` block in every raw file), `UsageMeter` (counting it per
tenant or site) and `same_origin_link`. Paging is in utils/services/paging.py.
"""

from __future__ import annotations

import http.client
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit

import requests
import urllib3.exceptions

from utils.core.errors import APIError, ConnectionFailed, OutcomeUnknown, WaitBudgetSpent

log = logging.getLogger(__name__)

# The longest one 429 wait honoured in full: Freshservice accounts on the legacy hourly plans answer
# 429 with a Retry-After of many minutes (the docs' sample is 1521 s), up to the rest of the hour.
MAX_RETRY_AFTER = 3600.0
LONG_WAIT = 60.0  # a wait at least this long is logged as a warning: the run visibly sits still


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request."""

    max_tries: int = 5  # tries for connection errors and retryable statuses
    backoff_base: float = 0.5  # exponential back-off with full jitter
    backoff_cap: float = 30.0
    max_rate_limited: int = 30  # 429s for one request before a clear error
    max_wait: float = 120.0  # cap on one 503's Retry-After wait; nonsense values -> default
    max_rate_limit_wait: float = MAX_RETRY_AFTER  # a 429 asking longer is a WaitBudgetSpent error at once
    rate_limit_default: float | None = None  # a 429 without a usable Retry-After waits this; None: back-off
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504})
    idempotent: bool = True  # False: never resend once the request may have reached the server
    # (only connect failures and 429 are retried)

    @classmethod
    def for_check(cls) -> RetryPolicy:
        """The one policy of every `--check`: it answers in seconds, not with the batch's patience."""
        return CHECK_POLICY

    def backoff(self, failures: int) -> float:
        """Seconds to wait before try `failures + 1`: full jitter under a capped exponential."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1)))


# Every `pull_info.py --check` (each service's and the delivery's): two tries, short waits, and a 429
# asking for more than 15 s is an error at once; CHECK_TIMEOUT instead of the batch's read timeout.
CHECK_POLICY = RetryPolicy(max_tries=2, backoff_base=0.2, backoff_cap=1.0, max_rate_limited=2, max_wait=5.0,
                           max_rate_limit_wait=15.0)
CHECK_TIMEOUT = (5.0, 15.0)
TIMEOUT = (5.0, 30.0)  # connect, read: what every service client waits for one answer by default


class SendHooks:
    """A service's quirks on top of the policy; every method is a no-op by default."""

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """Wraps each try, from before the request goes out until its answer is read (pacing)."""
        yield

    def answered(self, response: requests.Response, sent_at: float) -> None:
        """Every response, whatever its status; `sent_at` is time.monotonic() before sending."""

    def failed(self, reason: str) -> None:
        """A try that got no (complete) answer."""

    def rate_limited(self, response: requests.Response, wait: float) -> float:
        """A 429 whose policy wait is `wait` seconds; return how long `send` itself should sleep."""
        return wait

    def waiting(self, seconds: float, reason: str) -> None:
        """`send` is about to sleep `seconds` before retrying."""


class WaitBudget:
    """The seconds one service may hold one run in 429 waits; the client of each service owns one.

    Waits that overlap (threads rate-limited together, as Freshservice's workers are) count once:
    what is spent is the time the run sat still, on `clock` (the clock the waits are slept on).
    Once a wait is refused the budget stays spent, so the service is not waited for again this run.
    """

    def __init__(self, service: str, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.service, self.seconds, self._clock = service, seconds, clock
        self.spent = 0.0
        self._until = 0.0  # the clock time the waits so far end
        self._refused: str | None = None
        self._lock = threading.Lock()

    def reserve(self, wait: float, path: str, answered_by: str | None = None) -> bool:
        """Count a wait of `wait` seconds from now; True when it starts a new pause (not one under way).

        Raises WaitBudgetSpent, without counting it, when it would take the total past the budget; its
        message names `answered_by` (the service that sent the 429, when the budget covers several).
        """
        with self._lock:
            if self._refused is not None:
                raise WaitBudgetSpent(self._refused, 429, path)
            now = self._clock()
            new_pause = now >= self._until
            # Only the part past the pause under way counts (computed apart, so whole waits add up exactly).
            extra = wait if new_pause else max(0.0, now + wait - self._until)
            if self.spent + extra > self.seconds:
                so_far = f" ({duration(self.spent)} waited so far)" if self.spent else ""
                self._refused = (f"{answered_by or self.service} rate limit on {path}: it asks to wait {duration(wait)}, past the "
                                 f"{duration(self.seconds)} this run may wait for {self.service}{so_far}")
                raise WaitBudgetSpent(self._refused, 429, path)
            self.spent += extra
            self._until = max(self._until, now + wait)
            return new_pause


def duration(seconds: float) -> str:
    """Seconds for a log line: '45 s', '30 min', '1 h 15 min'."""
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 or seconds == int(seconds) else f"{seconds:.1f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")


# -- what a run cost, recorded alike in every raw file ------------------------------------------

@dataclass
class Usage:
    """What requests to one service cost: tries sent (retries included), retries, 429s, seconds waited."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0

    def minus(self, earlier: Usage) -> Usage:
        """What was spent since `earlier` (a snapshot of the same counters)."""
        return Usage(self.requests - earlier.requests, self.retries - earlier.retries,
                     self.rate_limited - earlier.rate_limited, self.waited_seconds - earlier.waited_seconds)


def usage_block(usage: Usage, **extras: int | float) -> dict[str, int | float]:
    """The `usage` block of every raw file (Freshservice, Microsoft 365, SentinelOne), one shape for all:

    {"requests": n, "retries": n, "rate_limited": n, "waited_seconds": x, ...the service's own extras}
    where requests counts every try sent (retries and 429s included) and waited_seconds the time the
    pull sat still before retries and in rate-limit pacing.
    """
    return {"requests": usage.requests, "retries": usage.retries, "rate_limited": usage.rate_limited,
            "waited_seconds": round(usage.waited_seconds, 2), **extras}


class UsageMeter:
    """Usage per key (a tenant, a site) of one client shared by threads; `hooks(key)` counts into it."""

    def __init__(self) -> None:
        self._usage: dict[str, Usage] = {}
        self._lock = threading.Lock()

    def hooks(self, key: str) -> SendHooks:
        """Hooks for `send` that count every try, retry, 429 and wait against `key`."""
        return _MeteredHooks(self, key)

    def add(self, key: str, **increments: float) -> None:
        with self._lock:
            usage = self._usage.setdefault(key, Usage())
            for name, value in increments.items():
                setattr(usage, name, getattr(usage, name) + value)

    def snapshot(self, key: str) -> Usage:
        """A copy of `key`'s counters so far (zero when nothing was sent for it)."""
        with self._lock:
            return replace(self._usage.get(key, Usage()))


class _MeteredHooks(SendHooks):
    def __init__(self, meter: UsageMeter, key: str):
        self.meter, self.key = meter, key

    def answered(self, response: requests.Response, sent_at: float) -> None:
        self.meter.add(self.key, requests=1, rate_limited=int(response.status_code == 429))

    def failed(self, reason: str) -> None:
        self.meter.add(self.key, requests=1)

    def waiting(self, seconds: float, reason: str) -> None:
        self.meter.add(self.key, retries=1, waited_seconds=seconds)


# -- following a server's own links: never off its origin ------------------------------------------

def _origin(parts: SplitResult) -> tuple[str, str, int] | None:
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: no origin we could match
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def same_origin_link(link: str, base_url: str) -> str:
    """`link` when it is on `base_url`'s scheme, host and port; else an APIError.

    A next-page link comes from the server's answer, and the request that follows it carries our
    key or bearer token: a link to another host (or a file:// or relative one) must never get it.
    """
    parts = urlsplit(link)
    if _origin(parts) is None or _origin(parts) != _origin(urlsplit(base_url)):
        where = f"{parts.scheme}://{parts.netloc}" if parts.scheme else "a relative link"
        raise APIError(f"refusing to follow a link to another host: {where}")
    return link

# A truncated body surfaces as any of these, depending on where the read stopped.
_TRUNCATED = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
              urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError, http.client.IncompleteRead)
_NO_ANSWER = (requests.ConnectionError, requests.Timeout, *_TRUNCATED)


def send(session: requests.Session, method: str, url: str, *, service: str,
         policy: RetryPolicy = RetryPolicy(), timeout: Any = (5.0, 30.0),
         sleep: Callable[[float], None] = time.sleep, hooks: SendHooks | None = None,
         budget: WaitBudget | None = None, **request_kwargs: Any) -> requests.Response:
    """Send one request under `policy`; return the final response for any status it does not retry.

    The caller maps 4xx/5xx to its own typed errors (a retryable status comes back once the tries
    are spent). Raises ConnectionFailed after the last failed try, OutcomeUnknown when a
    non-idempotent request failed after it may have reached the server, APIError (status 429)
    when the rate limit stays exhausted, and WaitBudgetSpent when a 429's wait is longer than
    `policy.max_rate_limit_wait` or than what is left of `budget` (the service's for this run).
    Messages name `service` and the host, never a secret.
    """
    hooks = hooks or SendHooks()
    parts = urlsplit(url)
    host, path = parts.hostname or "?", parts.path or "/"
    failures = 0
    rate_limited = 0
    while True:
        try:
            with hooks.attempt():
                sent_at = time.monotonic()
                response = session.request(method, url, timeout=timeout, **request_kwargs)
                hooks.answered(response, sent_at)
        except _NO_ANSWER as exc:
            reason = describe_connection_error(exc)
            hooks.failed(reason)
            failures += 1
            if not policy.idempotent and not _before_sending(exc):
                raise OutcomeUnknown(f"{service} ({host}): {reason} after the request was sent; it may or may not "
                                     f"have been carried out, so it is not sent again", path=path) from None
            if failures >= policy.max_tries:
                raise ConnectionFailed(f"cannot reach {service} ({host}): {reason} (gave up after {failures} tries)",
                                       path=path) from None
            _pause(policy.backoff(failures), f"{reason} on {path}", failures, sleep, hooks)
            continue
        status = response.status_code
        if status == 429:
            rate_limited += 1
            if rate_limited >= policy.max_rate_limited:
                raise APIError(f"{service} kept its rate limit exhausted through {rate_limited} waits; "
                               f"other integrations may be using the whole budget", status, path)
            try:
                wait = _rate_limit_wait(response, service, path, policy, rate_limited, budget)
            finally:
                _close(response)
            own = hooks.rate_limited(response, wait)
            _pause(own, f"HTTP 429 on {path}", rate_limited, sleep, hooks)
            continue
        if status in policy.retry_statuses and policy.idempotent:
            failures += 1
            if failures >= policy.max_tries:
                return response
            wait = policy.backoff(failures)
            if status == 503:
                wait = retry_after_seconds(response.headers, default=wait, cap=policy.max_wait)
            _close(response)
            _pause(wait, f"HTTP {status} on {path}", failures, sleep, hooks)
            continue
        return response


def _rate_limit_wait(response: requests.Response, service: str, path: str, policy: RetryPolicy, rate_limited: int,
                     budget: WaitBudget | None) -> float:
    """How long to wait after this 429: its Retry-After in full (or the default); one log line per pause."""
    asked = requested_wait(response.headers)
    default = policy.rate_limit_default if policy.rate_limit_default is not None else policy.backoff(rate_limited)
    wait = asked if asked is not None else default
    if wait > policy.max_rate_limit_wait:
        raise WaitBudgetSpent(f"{service} rate limit on {path}: it asks to wait {duration(wait)}, longer than the "
                              f"{duration(policy.max_rate_limit_wait)} we wait for one rate limit; stopping rather than "
                              f"retrying early into another 429", 429, path)
    new_pause = budget.reserve(wait, path, service) if budget is not None else True
    level = logging.DEBUG if not new_pause else logging.WARNING if wait >= LONG_WAIT else logging.INFO
    why = "as its Retry-After asks" if asked is not None else "(no usable Retry-After)"
    log.log(level, "%s rate limit reached on %s: waiting %s %s before trying again", service, path, duration(wait), why)
    return wait


def retry_after_seconds(headers: Mapping[str, str], default: float, cap: float) -> float:
    """Seconds a Retry-After header asks for (delta-seconds or HTTP date), at most `cap`.

    Missing or nonsense values (text, negative, inf, nan) give `default` (also capped).
    """
    asked = requested_wait(headers)
    return max(0.0, min(default if asked is None else asked, cap))


def requested_wait(headers: Mapping[str, str]) -> float | None:
    """The seconds a Retry-After header asks for; None when it is missing or nonsense (text, negative, inf, nan)."""
    value = headers.get("Retry-After")
    if value is None or not value.strip():
        return None
    text = value.strip()
    number: float | None
    try:
        number = float(text)
    except ValueError:
        number = _seconds_until_http_date(text)
    return number if number is not None and math.isfinite(number) and number >= 0 else None


def _seconds_until_http_date(text: str) -> float | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _pause(seconds: float, what: str, attempt: int, sleep: Callable[[float], None], hooks: SendHooks) -> None:
    log.debug("%s; retry %d in %.2f s", what, attempt, seconds)
    hooks.waiting(seconds, what)
    if seconds > 0:
        sleep(seconds)


def _close(response: requests.Response) -> None:
    try:
        response.close()
    except Exception:  # noqa: BLE001 - a response we are discarding may fail to close; nothing to do
        pass


def _before_sending(exc: BaseException) -> bool:
    """True when the request certainly never reached the server (DNS, refused, connect timeout)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, _TRUNCATED):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
        return isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))
    return False


def describe_connection_error(exc: BaseException) -> str:
    """A few words for a failed try: timed out, DNS lookup failed, refused, dropped, truncated."""
    text = str(exc)
    if isinstance(exc, (requests.Timeout, urllib3.exceptions.ReadTimeoutError)):
        return "timed out"
    if isinstance(exc, _TRUNCATED):
        return "answer cut off"
    if any(sign in text for sign in ("Name or service not known", "nodename nor servname", "getaddrinfo failed",
                                      "NameResolutionError", "Temporary failure in name resolution")):
        return "DNS lookup failed"
    if "Connection refused" in text or "ConnectionRefusedError" in text:
        return "connection refused"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
        return "connection dropped"
    return "connection failed"
