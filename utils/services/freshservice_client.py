"""The one HTTP client through which every Freshservice request goes.

It owns authentication, timeouts, rate-limit pacing shared by all threads of a run (on top of the
shared retry policy in utils/services/http.py), pagination, typed errors, and the per-run counters that land
in the raw data.
"""

from __future__ import annotations

import base64
import copy
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from utils.core.cli import redact, register_secret
from utils.core.errors import APIError, AuthenticationError, ForbiddenError, NotFoundError, ValidationFailed
from utils.core.secrets import load_api_key
from utils.core.settings import Settings
from utils.core.urls import freshservice_url
from utils.services.http import RetryPolicy, SendHooks, WaitBudget, same_origin_link, send

log = logging.getLogger(__name__)

USER_AGENT = "IntegoReport/1.0 (+monthly MSP client reports; python-requests)"
FILTER_PAGE_SIZE = 30  # /tickets/filter returns 30 a page whatever per_page says
FILTER_PAGE_CAP = 10  # and, like Freshdesk's search, at most 10 pages (see freshservice-api.md Part 1)
LIST_PAGE_SIZE = 100
# The seconds a run may sit in Freshservice 429 waits: two full waits of a legacy hourly plan (whose
# Retry-After runs to the end of the hour; Blossom's 1000 credits/h is about 300 tickets), beyond
# which the run stops with a clear error instead of sitting still for hours.
WAIT_BUDGET = 2 * 3600.0


@dataclass
class UsageCounters:
    """What a run cost: these go into the raw data (`api_usage`) and the logs."""

    requests: int = 0
    credits: int = 0
    retries: int = 0
    rate_limited: int = 0
    seconds_waited: float = 0.0
    csat_requests: int = 0  # /csat_response calls, a credit each (most answer 404)
    csat_probes: int = 0  # of those, probes for surveys that left no feedback conversation
    started: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "credits": self.credits,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "seconds_waited": round(self.seconds_waited, 2),
            "csat_requests": self.csat_requests,
            "csat_probes": self.csat_probes,
            "seconds_total": round(time.monotonic() - self.started, 2),
        }


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
        total = _int_header(headers, "X-Ratelimit-Total")
        remaining = _int_header(headers, "X-Ratelimit-Remaining")
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


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class FreshserviceClient:
    """A read-only Freshservice API v2 client; safe to share between worker threads."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_tries: int = 5,
        max_rate_limited_tries: int = 30,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        rate_reserve: float = 0.10,
        rate_window_seconds: float = 60.0,
        limiter: RateLimiter | None = None,
        counters: UsageCounters | None = None,
    ):
        register_secret(api_key)
        # What goes on the wire is the Authorization header's base64 of "key:X"; a server that echoes it must not show it.
        register_secret(base64.b64encode(f"{api_key}:X".encode("latin-1", "replace")).decode("ascii"))
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.limiter = limiter or RateLimiter(reserve=rate_reserve, window_seconds=rate_window_seconds)
        # A 503's Retry-After may span at most two windows; a 429's is honoured in full (an hourly
        # plan's runs to the end of the hour) within the run's WAIT_BUDGET; a 429 without one waits a window.
        self.policy = RetryPolicy(max_tries=max_tries, backoff_base=backoff_base, backoff_cap=backoff_cap,
                                  max_rate_limited=max_rate_limited_tries, max_wait=2 * self.limiter.window_seconds,
                                  rate_limit_default=self.limiter.window_seconds)
        self.wait_budget = WaitBudget("Freshservice", WAIT_BUDGET, clock=self.limiter.clock)
        self.counters = counters or UsageCounters()
        self._counter_lock = threading.Lock()
        self._local = threading.local()
        self.filter_params: dict[str, Any] = {}

    def in_workspace(self, workspace_id: int) -> FreshserviceClient:
        """This client, sharing its sessions, pacing and counters, whose ticket filters carry `workspace_id`.

        Freshservice for MSPs answers a filter that names no workspace for the primary one only.
        """
        scoped = copy.copy(self)
        scoped.filter_params = {**self.filter_params, "workspace_id": workspace_id}
        return scoped

    # -- plumbing ---------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.auth = (self._api_key, "X")
            session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
            self._local.session = session
        return session

    def count(self, **increments: float) -> None:
        """Add to the run's counters what only the caller knows, such as why a request was sent."""
        self._count(**increments)

    def _count(self, **increments: float) -> None:
        with self._counter_lock:
            for name, value in increments.items():
                setattr(self.counters, name, getattr(self.counters, name) + value)

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return same_origin_link(path_or_url, self.base_url)  # a `link` header must never send our key elsewhere
        return f"{self.base_url}/api/v2/{path_or_url.lstrip('/')}"

    def request(self, path: str, params: Mapping[str, Any] | None = None, expected_cost: int = 1) -> requests.Response:
        """GET `path` (relative to /api/v2/ or a full same-host URL) with retries and pacing; return the 2xx response."""
        url = self._url(path)
        shown_path = urlsplit(url).path
        response = send(self._session(), "GET", url, service="Freshservice", policy=self.policy,
                        timeout=self.timeout, hooks=_PacingHooks(self, expected_cost), budget=self.wait_budget,
                        params=params)
        status = response.status_code
        if status in self.policy.retry_statuses:
            raise APIError(f"Freshservice answered {status} for {shown_path} {self.policy.max_tries} times: {_error_message(response)}",
                           status, shown_path)
        if status >= 400:
            raise _typed_error(response, shown_path)
        return response

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, expected_cost: int = 1) -> Any:
        """GET and decode JSON, with a one-line error when the server answers something else."""
        response = self.request(path, params, expected_cost)
        return _decode_json(response, urlsplit(response.url).path)

    # -- pagination ---------------------------------------------------------------------------

    def paginate(self, path: str, key: str, params: Mapping[str, Any] | None = None, per_page: int = LIST_PAGE_SIZE,
                 max_pages: int = 1000, expected_cost: int = 1, stop: Callable[[list], bool] | None = None) -> Iterator[dict]:
        """Yield every item of a `link`-header list (`{key: [...]}` bodies), following rel="next".

        `stop(page_items)`, when given and true after a page, ends the paging early.
        """
        query: dict[str, Any] | None = {**(params or {}), "per_page": per_page}
        url = path
        seen: set[str] = set()
        for _page in range(max_pages):
            response = self.request(url, query, expected_cost)
            body = _decode_json(response, urlsplit(response.url).path)
            items = body.get(key) if isinstance(body, dict) else body if isinstance(body, list) else None
            if not isinstance(items, list):
                raise APIError(f"unexpected answer from {urlsplit(response.url).path}: no {key!r} list", response.status_code, urlsplit(response.url).path)
            yield from items
            next_url = response.links.get("next", {}).get("url")
            if not next_url or not items or (stop is not None and stop(items)):
                return
            if next_url in seen or next_url == response.url:
                raise APIError(f"pagination loop on {urlsplit(next_url).path}: the next page repeats", path=urlsplit(next_url).path)
            seen.add(response.url)
            url, query = next_url, None  # the next URL carries every parameter
        raise APIError(f"more than {max_pages} pages from {path}; stopping rather than looping for ever", path=path)

    def filter_page(self, query: str, page: int) -> tuple[list[dict], int]:
        """One page of /tickets/filter: (tickets, total)."""
        body = self.get_json("tickets/filter", {**self.filter_params, "query": f'"{query}"', "page": page})
        if not isinstance(body, dict) or not isinstance(body.get("tickets"), list):
            raise APIError("unexpected answer from /api/v2/tickets/filter: no 'tickets' list", path="/api/v2/tickets/filter")
        return body["tickets"], int(body.get("total") or 0)

    def filter_tickets(self, query: str, max_pages: int = FILTER_PAGE_CAP,
                       first: tuple[list[dict], int] | None = None) -> tuple[list[dict], int]:
        """Every ticket a filter query can return, with its `total`; `first` is page 1 if already read.

        The filter has no `link` header and caps at `max_pages` pages; when `total` is more than the
        pages can hold, the tickets returned are incomplete and the caller must split the query.
        """
        tickets, total = first if first is not None else self.filter_page(query, 1)
        tickets = list(tickets)
        seen_ids = {ticket.get("id") for ticket in tickets}
        page = 1
        while len(tickets) < total and page < max_pages:
            page += 1
            batch, total = self.filter_page(query, page)
            fresh = [ticket for ticket in batch if ticket.get("id") not in seen_ids]
            if not fresh:
                break  # an empty page, or a page repeating the last one: nothing more to read
            seen_ids.update(ticket.get("id") for ticket in fresh)
            tickets.extend(fresh)
            if len(batch) < FILTER_PAGE_SIZE:
                break
        return tickets, total

    def filter_total(self, query: str) -> int:
        """How many tickets match a filter query, for the price of one page."""
        return self.filter_page(query, 1)[1]


class _PacingHooks(SendHooks):
    """Freshservice's credit pacing and the run's counters on top of the shared retry policy."""

    def __init__(self, client: FreshserviceClient, expected_cost: int):
        self._client = client
        self._cost = expected_cost

    @contextmanager
    def attempt(self) -> Iterator[None]:
        with self._client.limiter.turn(self._cost) as waited:
            if waited:
                self._client._count(seconds_waited=waited)
            yield

    def answered(self, response: requests.Response, sent_at: float) -> None:
        self._client.limiter.observe(response.headers, sent_at)
        self._client._count(requests=1, credits=_int_header(response.headers, "X-Ratelimit-Used-CurrentRequest") or 0)

    def failed(self, reason: str) -> None:
        self._client._count(requests=1)

    def rate_limited(self, response: requests.Response, wait: float) -> float:
        self._client._count(rate_limited=1)
        self._client.limiter.block(wait)
        return 0.0  # the limiter holds every thread (this one too) until then

    def waiting(self, seconds: float, reason: str) -> None:
        self._client._count(retries=1, seconds_waited=seconds)


def _decode_json(response: requests.Response, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "unknown content").split(";")[0]
        raise APIError(f"Freshservice answered {path} with {kind} that is not valid JSON (is the helpdesk URL right?)",
                       response.status_code, path) from None


def _error_message(response: requests.Response) -> str:
    """Freshservice's own words for an error: `message`, or the validation `errors` list."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or "no details"
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"]:
            parts = [f"{e.get('field')}: {e.get('message')}" for e in body["errors"] if isinstance(e, dict)]
            return redact(f"{body.get('description', 'Validation failed')} ({'; '.join(parts)})")
        if body.get("message"):
            return redact(str(body["message"]))
        if body.get("description"):
            return redact(str(body["description"]))
    return response.reason or "no details"


def _error_fields(response: requests.Response) -> tuple[str, ...]:
    """The fields a validation error names (`errors[].field`), none when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return ()
    errors = body.get("errors") if isinstance(body, dict) else None
    return tuple(str(e["field"]) for e in errors if isinstance(e, dict) and e.get("field")) if isinstance(errors, list) else ()


def _typed_error(response: requests.Response, path: str) -> APIError:
    status = response.status_code
    message = _error_message(response)
    if status == 401:
        return AuthenticationError(f"Freshservice refused the API key (401: {message}); check FRESHSERVICE_API_KEY or token.txt", status, path)
    if status == 403:
        return ForbiddenError(f"the API key may not read {path} (403: {message})", status, path)
    if status == 404:
        return NotFoundError(f"not found: {path} (404)", status, path)
    fields = _error_fields(response) if status == 400 else ()
    if fields:
        return ValidationFailed(f"Freshservice answered 400 for {path}: {message}", status, path, fields)
    return APIError(f"Freshservice answered {status} for {path}: {message}", status, path)


def client_from_settings(settings: Settings, api_key: str | None = None, **options: Any) -> FreshserviceClient:
    """A client for the [freshservice] settings (URL and rate pacing); the key FRESHSERVICE_API_KEY or token.txt unless given."""
    url = freshservice_url(settings.freshservice.url)  # a ConfigError naming the file and FRESHSERVICE_URL when unset
    key = api_key if api_key is not None else load_api_key(settings.home, settings.env)
    options.setdefault("rate_window_seconds", settings.freshservice.rate_window)
    return FreshserviceClient(url, key, rate_reserve=settings.freshservice.rate_reserve, **options)
