"""The one HTTP client through which every Freshservice request goes.

It owns authentication, timeouts, rate-limit pacing shared by all threads of a run
(utils/services/freshservice_pacing.py, on top of the shared retry policy in utils/services/http.py),
paging through utils/services/paging.py, typed errors, the per-run counters that land in the raw data,
and the run's memo of what was read of each ticket (utils/services/freshservice_memo.py): the client
is the one object a whole run shares, while each batch of the run (the backfill, the quarter, the
month) makes its own AccountContext.
"""

from __future__ import annotations

import base64
import copy
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import requests

from utils.core.cli import redact, register_secret
from utils.core.errors import APIError, AuthenticationError, ForbiddenError, NotFoundError, ValidationFailed
from utils.services.freshservice_memo import TicketMemo
from utils.services.freshservice_pacing import RateLimiter, int_header
from utils.services.http import (
    TIMEOUT,
    RetryPolicy,
    SendHooks,
    Usage,
    WaitBudget,
    same_origin_link,
    send,
    usage_block,
)
from utils.services.paging import LinkHeader, Page, PageGuard, PageNumber, Token, paginate

log = logging.getLogger(__name__)

SERVICE = "Freshservice"
USER_AGENT = "IntegoReport/1.0 (+monthly MSP client reports; python-requests)"
FILTER_PAGE_SIZE = 30  # /tickets/filter returns 30 a page whatever per_page says
FILTER_PAGE_CAP = 10  # and, like Freshdesk's search, at most 10 pages (see freshservice-api.md Part 1)
LIST_PAGE_SIZE = 100
LIST_PAGE_CAP = 1000  # pages of one link-header list before it is taken for a loop
# The seconds a run may sit in Freshservice 429 waits: two full waits of a legacy hourly plan (whose
# Retry-After runs to the end of the hour; Blossom's 1000 credits/h is about 300 tickets), beyond
# which the run stops with a clear error instead of sitting still for hours.
WAIT_BUDGET = 2 * 3600.0


@dataclass
class UsageCounters(Usage):
    """What a run cost: the shared `usage` block plus Freshservice's credits; also the logs' summary."""

    credits: int = 0
    csat_requests: int = 0  # /csat_response calls, a credit each (most answer 404)
    csat_probes: int = 0  # of those, probes for surveys that left no feedback conversation
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds_waited(self) -> float:
        return self.waited_seconds

    def minus(self, earlier: Usage) -> UsageCounters:
        """What was spent since `earlier` (a copy of the same counters), timed from when `earlier` was taken."""
        spent = super().minus(earlier)
        base = earlier if isinstance(earlier, UsageCounters) else UsageCounters()
        return UsageCounters(spent.requests, spent.retries, spent.rate_limited, spent.waited_seconds,
                             credits=self.credits - base.credits, csat_requests=self.csat_requests - base.csat_requests,
                             csat_probes=self.csat_probes - base.csat_probes, started=base.started)

    def usage(self) -> dict[str, Any]:
        """The raw file's `usage` block (utils.services.http.usage_block) with Freshservice's extras."""
        return usage_block(self, credits=self.credits, csat_requests=self.csat_requests, csat_probes=self.csat_probes,
                           seconds_total=round(time.monotonic() - self.started, 2))

    def as_dict(self) -> dict[str, Any]:
        """The raw file's older `api_usage` block (its readers predate `usage`): `seconds_waited` by that name."""
        return {
            "requests": self.requests,
            "credits": self.credits,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "seconds_waited": round(self.waited_seconds, 2),
            "csat_requests": self.csat_requests,
            "csat_probes": self.csat_probes,
            "seconds_total": round(time.monotonic() - self.started, 2),
        }


def freshservice_policy(window_seconds: float = 60.0, **changes: Any) -> RetryPolicy:
    """The batch's policy for Freshservice: a 503's Retry-After may span at most two windows; a 429's is
    honoured in full (an hourly plan's runs to the end of the hour) within the run's WAIT_BUDGET, and a
    429 without one waits a window. `changes` override any field (tests use a short back-off)."""
    fields: dict[str, Any] = {"max_wait": 2 * window_seconds, "rate_limit_default": window_seconds, **changes}
    return RetryPolicy(**fields)


class FreshserviceClient:
    """A read-only Freshservice API v2 client; safe to share between worker threads.

    Made like every service client: `(base_url, secret, *, policy, session, timeout, sleep)` plus its
    own extras (the pacing); the run's is made by its source's `make_client`. Without a `policy` it uses
    `freshservice_policy` for the pacing window; without a `session`, each thread gets its own.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
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
        self.sleep = sleep
        self.limiter = limiter or RateLimiter(reserve=rate_reserve, window_seconds=rate_window_seconds)
        self.policy = policy or freshservice_policy(self.limiter.window_seconds)
        self.wait_budget = WaitBudget(SERVICE, WAIT_BUDGET, clock=self.limiter.clock)
        self.counters = counters or UsageCounters()
        self._counter_lock = threading.Lock()
        self.ticket_memo = TicketMemo()  # shared with the in_workspace copies, like the counters
        self._shared_session = session
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
        if self._shared_session is not None:
            return self._shared_session
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        if session.auth is None:
            session.auth = (self._api_key, "X")
            session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        return session

    def counters_now(self) -> UsageCounters:
        """A copy of the run's counters as they stand, its clock starting now (`later.minus(copy)`: what was spent since)."""
        with self._counter_lock:
            return replace(self.counters, started=time.monotonic())

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
        response = send(self._session(), "GET", url, service=SERVICE, policy=self.policy, timeout=self.timeout,
                        sleep=self.sleep, hooks=_PacingHooks(self, expected_cost), budget=self.wait_budget, params=params)
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
                 max_pages: int = LIST_PAGE_CAP, expected_cost: int = 1, stop: Callable[[list], bool] | None = None) -> Iterator[dict]:
        """Yield every item of a `link`-header list (`{key: [...]}` bodies), following rel="next".

        `stop(page_items)`, when given and true after a page, ends the paging early.
        """
        query = {**(params or {}), "per_page": per_page}

        def fetch(token: Token | None) -> Page:
            # The next link carries every parameter, and only ever goes to our own host (`_url`).
            response = self.request(str(token), None, expected_cost) if token else self.request(path, query, expected_cost)
            shown = urlsplit(response.url).path
            body = _decode_json(response, shown)
            items = body.get(key) if isinstance(body, dict) else body if isinstance(body, list) else None
            if not isinstance(items, list):
                raise APIError(f"unexpected answer from {shown}: no {key!r} list", response.status_code, shown)
            return Page(items, body, response)

        guard = PageGuard(SERVICE, f"/api/v2/{path.lstrip('/')}", max_pages, self.base_url)
        for page in paginate(fetch, LinkHeader(), guard, stop=(lambda page: stop(page.items)) if stop else None):
            yield from page.items

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
        tickets: list[dict] = []
        seen_ids: set[Any] = set()
        total, pages_read = 0, 0

        def fetch(token: Token | None) -> Page:
            batch, page_total = self.filter_page(query, int(token or 1))
            return Page(batch, page_total)

        def read(page: Page) -> bool:
            """Keep the page's new tickets; True when nothing more is worth reading."""
            nonlocal total, pages_read
            total, pages_read = page.body, pages_read + 1
            fresh = [ticket for ticket in page.items if ticket.get("id") not in seen_ids]
            seen_ids.update(ticket.get("id") for ticket in fresh)
            tickets.extend(fresh)
            # After the first, an empty page or one repeating the last (pages shift while we read) ends it.
            return len(tickets) >= total or (pages_read > 1 and not fresh)

        start = Page(list(first[0]), first[1]) if first is not None else None
        guard = PageGuard(SERVICE, "/api/v2/tickets/filter", max_pages + 1)
        for _page in paginate(fetch, PageNumber(max_pages, FILTER_PAGE_SIZE), guard, first=start, stop=read):
            pass
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
                self._client._count(waited_seconds=waited)
            yield

    def answered(self, response: requests.Response, sent_at: float) -> None:
        self._client.limiter.observe(response.headers, sent_at)
        self._client._count(requests=1, credits=int_header(response.headers, "X-Ratelimit-Used-CurrentRequest") or 0)

    def failed(self, reason: str) -> None:
        self._client._count(requests=1)

    def rate_limited(self, response: requests.Response, wait: float) -> float:
        self._client._count(rate_limited=1)
        self._client.limiter.block(wait)
        return 0.0  # the limiter holds every thread (this one too) until then

    def waiting(self, seconds: float, reason: str) -> None:
        self._client._count(retries=1, waited_seconds=seconds)


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

