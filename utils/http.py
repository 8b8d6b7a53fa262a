"""The one HTTP retry policy every outbound client uses.

`send` retries dropped connections, timeouts, truncated bodies and the retryable statuses with
exponential back-off and full jitter, waits out `Retry-After` on 429 and 503 (capped, so a server
cannot park a run for a day), and raises one clear error naming the service after the last try.
A service's own quirks (Freshservice's credit pacing, say) sit on top through `SendHooks`.
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
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit

import requests
import urllib3.exceptions

from utils.errors import APIError, ConnectionFailed, OutcomeUnknown

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request."""

    max_tries: int = 5  # tries for connection errors and retryable statuses
    backoff_base: float = 0.5  # exponential back-off with full jitter
    backoff_cap: float = 30.0
    max_rate_limited: int = 30  # 429s for one request before a clear error
    max_wait: float = 120.0  # cap on one Retry-After wait; nonsense values -> default
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504})
    idempotent: bool = True  # False: never resend once the request may have reached the server
    # (only connect failures and 429 are retried)

    def backoff(self, failures: int) -> float:
        """Seconds to wait before try `failures + 1`: full jitter under a capped exponential."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1)))


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


class CountingHooks(SendHooks):
    """Counts every try (retries included) against one key (a tenant, a site) in a shared dict."""

    def __init__(self, counts: dict[str, int], key: str, lock: threading.Lock):
        self.counts, self.key, self.lock = counts, key, lock

    def answered(self, response: requests.Response, sent_at: float) -> None:
        self._add()

    def failed(self, reason: str) -> None:
        self._add()

    def _add(self) -> None:
        with self.lock:
            self.counts[self.key] = self.counts.get(self.key, 0) + 1


# -- following a server's own links: never off its origin, never for ever ------------------------

MAX_PAGES = 10_000  # a guard against a server that never ends a listing (an endless next link or cursor)


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


def bounded_pages(service: str, path: str, limit: int = MAX_PAGES, error: type[APIError] = APIError) -> Iterator[int]:
    """Page numbers for a paging loop; asking for page `limit + 1` raises `error` instead of looping for ever."""
    yield from range(limit)
    raise error(f"{service} {path} did not end after {limit} pages", path=path)

# A truncated body surfaces as any of these, depending on where the read stopped.
_TRUNCATED = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
              urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError, http.client.IncompleteRead)
_NO_ANSWER = (requests.ConnectionError, requests.Timeout, *_TRUNCATED)


def send(session: requests.Session, method: str, url: str, *, service: str,
         policy: RetryPolicy = RetryPolicy(), timeout: Any = (5.0, 30.0),
         sleep: Callable[[float], None] = time.sleep, hooks: SendHooks | None = None,
         **request_kwargs: Any) -> requests.Response:
    """Send one request under `policy`; return the final response for any status it does not retry.

    The caller maps 4xx/5xx to its own typed errors (a retryable status comes back once the tries
    are spent). Raises ConnectionFailed after the last failed try, OutcomeUnknown when a
    non-idempotent request failed after it may have reached the server, and APIError (status 429)
    when the rate limit stays exhausted. Messages name `service` and the host, never a secret.
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
            wait = retry_after_seconds(response.headers, default=policy.backoff(rate_limited), cap=policy.max_wait)
            own = hooks.rate_limited(response, wait)
            log.info("%s rate limit reached on %s; pausing %.1f s", service, path, wait)
            _close(response)
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


def retry_after_seconds(headers: Mapping[str, str], default: float, cap: float) -> float:
    """Seconds a Retry-After header asks for (delta-seconds or HTTP date), at most `cap`.

    Missing or nonsense values (text, negative, inf, nan) give `default` (also capped).
    """
    value = headers.get("Retry-After")
    seconds = default
    if value is not None and value.strip():
        text = value.strip()
        number: float | None
        try:
            number = float(text)
        except ValueError:
            number = _seconds_until_http_date(text)
        if number is not None and math.isfinite(number) and number >= 0:
            seconds = number
    return max(0.0, min(seconds, cap))


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
