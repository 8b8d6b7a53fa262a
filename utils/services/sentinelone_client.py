"""A small SentinelOne Management API v2.1 client: one console, one API token, paged GETs per site.

SentinelOne's quirks sit on top of the shared retry policy (`utils.http.send`, which also waits
out a 429's `Retry-After`, or backs off when there is none): lists are read with `limit=1000` and
the opaque `cursor` until `nextCursor` is null, never by `totalItems` (it can read 0 once a cursor
is sent) and never stopping at an empty page (one can come before the end); `/sites` wraps its list
in a different envelope; ids are 18-digit strings and stay strings. Errors become one line built
from the body's `errors[].title` (and `detail`); the token is only ever in the request header.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from utils.core.cli import register_secret
from utils.core.errors import APIError, AuthenticationError, ForbiddenError, NotFoundError
from utils.services.http import TIMEOUT, RetryPolicy, Usage, UsageMeter, WaitBudget, send
from utils.services.paging import MAX_PAGES, Cursor, Page, PageGuard, Token, paginate

SERVICE = "SentinelOne"
API_PREFIX = "/web/api/v2.1"
PAGE_LIMIT = 1000  # the most the API gives in one page; above it answers 400
OPEN_INCIDENT_STATUSES = ("unresolved", "in_progress")
WAIT_BUDGET = 15 * 60.0  # seconds a run may sit in 429 waits: a monthly pull is a few requests a site, so
# minutes of throttling mean another integration holds the console's budget; stop SentinelOne, not the run
NO_SITE = ""  # the request counter's key for calls not about one site (the token check)


class SentinelOneError(APIError):
    """A SentinelOne request failed; `code` is the body's error code (never a secret)."""

    def __init__(self, message: str, status: int | None = None, path: str | None = None, code: int | None = None):
        super().__init__(message, status, path)
        self.code = code


class TokenRefused(SentinelOneError, AuthenticationError):
    """401: the API token is wrong, revoked or expired."""


class SiteForbidden(SentinelOneError, ForbiddenError):
    """403: the token's user may not read this."""


class SiteNotFound(SentinelOneError, NotFoundError):
    """The site id is unknown, or outside the token's scope."""


def api_time(moment: datetime) -> str:
    """An instant as SentinelOne's filters take it: UTC with microseconds, `2026-10-01T04:00:00.000000Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SentinelOneClient:
    """Read-only access to one SentinelOne console; safe to share between threads.

    Made like every service client: `(base_url, secret, *, policy, session, timeout, sleep)`; the source's declaration (utils/sources/sentinelone.py)
    makes it from the [sentinelone] table and the token.
    """

    def __init__(self, console_url: str, token: str, *, policy: RetryPolicy | None = None,
                 session: requests.Session | None = None, timeout: Any = TIMEOUT,
                 sleep: Callable[[float], None] = time.sleep, max_pages: int = MAX_PAGES) -> None:
        register_secret(token)
        url = console_url.rstrip("/")
        self.console_url = url[: -len(API_PREFIX)] if url.endswith(API_PREFIX) else url
        self._token = token
        self.session = session or requests.Session()
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.timeout = timeout
        self.max_pages = max_pages
        self.wait_budget = WaitBudget(SERVICE, WAIT_BUDGET)
        self.usage = UsageMeter()  # per site id, retries included

    # ---- one request

    def get_json(self, path: str, params: Mapping[str, str | int], site_id: str = NO_SITE) -> dict:
        """One GET of `path` (under /web/api/v2.1); the JSON body of a 200, else a typed one-line error."""
        response = send(self.session, "GET", f"{self.console_url}{API_PREFIX}{path}", service=SERVICE, policy=self.policy,
                        timeout=self.timeout, sleep=self.sleep, hooks=self.usage.hooks(site_id),
                        budget=self.wait_budget, params=dict(params),
                        headers={"Authorization": f"ApiToken {self._token}", "Accept": "application/json"})
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 200 and isinstance(body, dict):
            return body
        if response.status_code == 200:
            raise SentinelOneError(f"{SERVICE} answered {path} with something other than JSON; is the console URL "
                                   f"{self.console_url} right?", 200, path)
        raise _error(path, response.status_code, body if isinstance(body, dict) else {}, site_id)

    # ---- lists

    def list_all(self, path: str, params: Mapping[str, str | int], site_id: str = NO_SITE) -> list[dict]:
        """Every item of a list, 1000 a page, following `nextCursor` until it is null.

        `totalItems` is never consulted and an empty page does not end the listing (both are known
        SentinelOne quirks); an item seen on two pages is kept once.
        """

        def fetch(token: Token | None) -> Page:
            query = {**params, "limit": PAGE_LIMIT, **({"cursor": token} if token else {})}
            body = self.get_json(path, query, site_id)
            return Page(_page_items(body, path), body)

        where = f"site {site_id}" if site_id else ""
        guard = PageGuard(SERVICE, path, self.max_pages, error=SentinelOneError, where=where)
        items: dict[str, dict] = {}
        for page in paginate(fetch, Cursor(_next_cursor), guard):
            for item in page.items:
                items.setdefault(str(item.get("id")), item)
        return list(items.values())

    # ---- what the puller reads

    def site(self, site_id: str) -> dict:
        """The site record (licences, name); SiteNotFound when the token cannot see it."""
        sites = self.list_all("/sites", {"siteIds": site_id}, site_id)
        for site in sites:
            if str(site.get("id")) == site_id:
                return site
        raise SiteNotFound(f"{SERVICE} site {site_id} was not found: check the site id, and that the API token's user "
                           f"can see that site", 200, "/sites")

    def threats_created(self, site_id: str, start: datetime, end: datetime) -> list[dict]:
        """Threats of the site created in [start, end)."""
        return self.list_all("/threats", {"siteIds": site_id, "createdAt__gte": api_time(start), "createdAt__lt": api_time(end)},
                             site_id)

    def open_threats(self, site_id: str) -> list[dict]:
        """Threats of the site still unresolved or in progress, whenever they were created."""
        return self.list_all("/threats", {"siteIds": site_id, "incidentStatuses": ",".join(OPEN_INCIDENT_STATUSES)}, site_id)

    def agents(self, site_id: str) -> list[dict]:
        """The site's endpoints that are not decommissioned."""
        return self.list_all("/agents", {"siteIds": site_id, "isDecommissioned": "false"}, site_id)

    def check(self) -> int:
        """One cheap call that proves the URL and the token: how many sites the token can see."""
        body = self.get_json("/sites", {"countOnly": "true", "limit": 1})
        pagination = body.get("pagination")
        total = pagination.get("totalItems") if isinstance(pagination, dict) else None
        return total if isinstance(total, int) else 0

    def usage_for(self, site_id: str) -> Usage:
        """What was sent for the site so far (a snapshot; subtract an earlier one for one pull)."""
        return self.usage.snapshot(site_id)

    def requests_for(self, site_id: str) -> int:
        return self.usage_for(site_id).requests


def _next_cursor(body: Any) -> Any:
    pagination = body.get("pagination") if isinstance(body, dict) else None
    return pagination.get("nextCursor") if isinstance(pagination, dict) else None


def _page_items(body: Mapping[str, Any], path: str) -> list[dict]:
    data = body.get("data")
    if path == "/sites" and isinstance(data, dict):  # /sites: {"data": {"allSites": {...}, "sites": [...]}}
        data = data.get("sites")
    if not isinstance(data, list):
        raise SentinelOneError(f"{SERVICE} answered {path} without a list of data", path=path)
    return [item for item in data if isinstance(item, dict)]


def _error(path: str, status: int, body: Mapping[str, Any], site_id: str) -> SentinelOneError:
    """One line from the body's first error (title, then detail), typed by status."""
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    title = str(first.get("title") or "").strip()
    detail = str(first.get("detail") or "").strip()
    code = first.get("code") if isinstance(first.get("code"), int) else None
    said = ": ".join(part for part in (title, detail) if part) or "no error message"
    if status == 401:
        return TokenRefused(f"{SERVICE} refused the API token ({said}, HTTP 401): it may be wrong or expired; "
                            f"generate a new one in the console", status, path, code)
    where = f" for site {site_id}" if site_id else ""
    if status == 403:
        return SiteForbidden(f"{SERVICE} {path}{where}: the API token's user may not read this ({said}, HTTP 403)", status, path, code)
    if status == 404:
        return SiteNotFound(f"{SERVICE} {path}{where}: not found ({said}, HTTP 404); is the console URL right?", status, path, code)
    return SentinelOneError(f"{SERVICE} {path}{where}: HTTP {status} ({said})", status, path, code)
