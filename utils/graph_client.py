"""A small Microsoft Graph client for the MSP's one multi-tenant app: app-only tokens and paged GETs.

Graph's own quirks sit on top of the shared retry policy (`utils.http.send`): one token per tenant,
kept for the run and refreshed a little before its `expires_in` runs out (a batch can outlive a
token); a 401 `InvalidAuthenticationToken` gets a fresh token and one more try; collections are
read by following `@odata.nextLink` exactly as given; the two kinds of 403 (permission not granted,
tenant without Entra ID P1/P2) become their own errors so the puller can record a plain reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from utils.cli import register_secret
from utils.errors import APIError, AuthenticationError, ForbiddenError
from utils.http import CountingHooks, RetryPolicy, WaitBudget, send

log = logging.getLogger(__name__)

SERVICE = "Microsoft Graph"
LOGIN_SERVICE = "Microsoft sign-in"
SCOPE = "https://graph.microsoft.com/.default"
REFRESH_MARGIN = 300.0  # seconds before expiry when a token is renewed (or a tenth of its life, if shorter)
NON_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
DENIED = "Authorization_RequestDenied"
# Refusals that concern the MSP's app itself (its secret), not one client's tenant.
APP_CREDENTIAL_ERRORS = ("invalid_client",)
# The seconds a run may sit in Microsoft 429 waits (sign-in and Graph together). A monthly pull is far
# below Graph's per-tenant limits and its Retry-After is normally seconds, so minutes of throttling
# mean something else is using the tenant's budget: stop Microsoft 365 for the run, not the run.
WAIT_BUDGET = 15 * 60.0


class GraphError(APIError):
    """A Graph request failed; `code` is Graph's error code (never a secret)."""

    def __init__(self, message: str, status: int | None = None, path: str | None = None, code: str | None = None):
        super().__init__(message, status, path)
        self.code = code


class PermissionDenied(GraphError, ForbiddenError):
    """403 Authorization_RequestDenied: the client's admin has not granted this permission."""


class NotPremium(GraphError, ForbiddenError):
    """403 for a tenant without Entra ID P1/P2 (sign-in activity, MFA registration details)."""


class TenantRefused(APIError):
    """The token endpoint refused this tenant (unknown, or the app was never consented there)."""


class AppCredentialsRefused(TenantRefused, AuthenticationError):
    """The token endpoint refused the MSP's app secret: every tenant would fail the same way."""


@dataclass
class _Token:
    value: str
    renew_at: float  # clock() time after which a new token is fetched first


class GraphClient:
    """App-only access to Graph for many tenants with one app registration; safe to share between threads."""

    def __init__(self, app_id: str, secret: str, login_url: str = "https://login.microsoftonline.com",
                 graph_url: str = "https://graph.microsoft.com", *, session: requests.Session | None = None,
                 policy: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, timeout: Any = (5.0, 30.0)) -> None:
        register_secret(secret)
        self.app_id = app_id
        self._secret = secret
        self.login_url = login_url.rstrip("/")
        self.graph_url = graph_url.rstrip("/")
        self.session = session or requests.Session()
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.wait_budget = WaitBudget("Microsoft 365", WAIT_BUDGET, clock=clock)
        self.timeout = timeout
        self._tokens: dict[str, _Token] = {}
        self._token_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.requests: dict[str, int] = {}  # HTTP requests per tenant, token requests and retries included
        self.tokens_fetched: dict[str, int] = {}

    # ---- tokens

    def token(self, tenant: str) -> str:
        """A valid access token for `tenant`: the cached one, or a new one when it is close to expiry."""
        with self._lock:
            lock = self._token_locks.setdefault(tenant.lower(), threading.Lock())
        with lock:
            cached = self._tokens.get(tenant.lower())
            if cached is not None and self.clock() < cached.renew_at:
                return cached.value
            return self._fetch_token(tenant).value

    def _forget_token(self, tenant: str, value: str) -> None:
        with self._lock:
            cached = self._tokens.get(tenant.lower())
            if cached is not None and cached.value == value:
                del self._tokens[tenant.lower()]

    def _fetch_token(self, tenant: str) -> _Token:
        url = f"{self.login_url}/{quote(tenant, safe='')}/oauth2/v2.0/token"
        form = {"client_id": self.app_id, "client_secret": self._secret, "scope": SCOPE, "grant_type": "client_credentials"}
        asked_at = self.clock()
        response = send(self.session, "POST", url, service=LOGIN_SERVICE, policy=self.policy, timeout=self.timeout,
                        sleep=self.sleep, hooks=self._hooks(tenant), budget=self.wait_budget, data=form)
        body = _json(response)
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            raise _token_error(tenant, response.status_code, body)
        try:
            lifetime = float(body.get("expires_in") or 3599.0)
        except (TypeError, ValueError):
            lifetime = 3599.0
        margin = min(REFRESH_MARGIN, lifetime / 10)
        token = _Token(body["access_token"], asked_at + lifetime - margin)
        register_secret(token.value)
        with self._lock:
            self._tokens[tenant.lower()] = token
            self.tokens_fetched[tenant] = self.tokens_fetched.get(tenant, 0) + 1
        return token

    # ---- reading

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        """A Graph v1.0 URL; `$` and `,` stay readable in the query, as Graph's own examples write them."""
        query = "&".join(f"{quote(str(key), safe='$')}={quote(str(value), safe='$,')}" for key, value in (params or {}).items())
        return f"{self.graph_url}/v1.0{path}" + (f"?{query}" if query else "")

    def get_json(self, tenant: str, url: str) -> dict:
        """One GET of a full URL for `tenant`; a 401 for an expired token gets a new token and one more try."""
        for attempt in (1, 2):
            token = self.token(tenant)
            response = send(self.session, "GET", url, service=SERVICE, policy=self.policy, timeout=self.timeout,
                            sleep=self.sleep, hooks=self._hooks(tenant), budget=self.wait_budget,
                            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
            body = _json(response)
            if response.status_code == 200:
                return body
            if response.status_code == 401 and attempt == 1:
                log.debug("Graph refused the token for %s (%s); getting a new one", tenant, _error_code(body))
                self._forget_token(tenant, token)
                continue
            raise _graph_error(tenant, url, response.status_code, body)
        raise AssertionError("unreachable")

    def get_all(self, tenant: str, path: str, params: Mapping[str, str | int] | None = None,
                stop: Callable[[list[dict]], bool] | None = None) -> list[dict]:
        """Every item of a collection, following `@odata.nextLink` as given; `stop(page)` True ends early."""
        url: str | None = self.url(path, params)
        items: list[dict] = []
        seen: set[str] = set()
        while url:
            if url in seen:  # a server repeating a link would otherwise loop for ever
                raise GraphError(f"{SERVICE} sent the same next page link twice for {path}", path=path)
            seen.add(url)
            body = self.get_json(tenant, url)
            page = body.get("value")
            if not isinstance(page, list):
                raise GraphError(f"{SERVICE} answered {path} without a list of values", path=path)
            items.extend(page)
            if stop is not None and stop(page):
                break
            next_link = body.get("@odata.nextLink")
            url = next_link if isinstance(next_link, str) and next_link else None
        return items

    def requests_for(self, tenant: str) -> int:
        with self._lock:
            return self.requests.get(tenant, 0)

    def _hooks(self, tenant: str) -> CountingHooks:
        return CountingHooks(self.requests, tenant, self._lock)


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_code(body: Mapping[str, Any]) -> str | None:
    error = body.get("error")
    return error.get("code") if isinstance(error, dict) else None


def _first_sentence(text: str) -> str:
    head = text.split(" Trace ID:")[0].strip()
    end = head.find(". ")
    return head[: end + 1] if end >= 0 else head


def _token_error(tenant: str, status: int, body: Mapping[str, Any]) -> APIError:
    """One line naming the AADSTS code and Microsoft's first sentence (never the secret)."""
    description = str(body.get("error_description") or "")
    error = str(body.get("error") or f"HTTP {status}")
    if description.startswith("AADSTS"):
        message = f"Microsoft 365 sign-in for tenant {tenant} refused: {_first_sentence(description)}"
    else:
        message = f"Microsoft 365 sign-in for tenant {tenant} refused: {error} (HTTP {status})"
    if error in APP_CREDENTIAL_ERRORS:
        return AppCredentialsRefused(message, status, "/oauth2/v2.0/token")
    return TenantRefused(message, status, "/oauth2/v2.0/token")


def _graph_error(tenant: str, url: str, status: int, body: Mapping[str, Any]) -> GraphError:
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code = error.get("code") if isinstance(error, dict) else None
    message = str(error.get("message") or "").strip() if isinstance(error, dict) else ""
    path = url.split("?")[0].split("/v1.0", 1)[-1]
    text = f"{SERVICE} {path} for tenant {tenant}: HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    if status == 403 and code == NON_PREMIUM:
        return NotPremium(text, status, path, code)
    if status == 403:
        return PermissionDenied(text, status, path, code)
    return GraphError(text, status, path, code)
