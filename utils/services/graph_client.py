"""A small Microsoft Graph client for the MSP's one multi-tenant app: app-only tokens and paged GETs.

Graph's own quirks sit on top of the shared retry policy (`utils.http.send`): one token per tenant,
kept for the run and refreshed a little before its `expires_in` runs out (a batch can outlive a
token); a 401 `InvalidAuthenticationToken` gets a fresh token and one more try; collections are
read by following `@odata.nextLink` exactly as given (only on the Graph host itself, and for at most
`max_pages` pages; null items are skipped); the two kinds of 403 (permission not granted, the
"non-premium tenant" one) become their own errors so the puller can record a plain reason. A refused
token is decided by its `AADSTS` code, never by `error` alone: only the app-level codes mean the
MSP's secret is at fault; any other code concerns one client's tenant and says what its admin must do.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from utils.core.cli import register_secret
from utils.core.errors import APIError, AuthenticationError, ForbiddenError
from utils.services.http import TIMEOUT, RetryPolicy, SendHooks, Usage, UsageMeter, WaitBudget, send
from utils.services.paging import MAX_PAGES, JsonNextLink, Page, PageGuard, Token, paginate

log = logging.getLogger(__name__)

SERVICE = "Microsoft Graph"
LOGIN_SERVICE = "Microsoft sign-in"
LOGIN_URL, GRAPH_URL = "https://login.microsoftonline.com", "https://graph.microsoft.com"
SCOPE = "https://graph.microsoft.com/.default"
REFRESH_MARGIN = 300.0  # seconds before expiry when a token is renewed (or a tenth of its life, if shorter)
NON_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
DENIED = "Authorization_RequestDenied"
# Token refusals by AADSTS code. `invalid_client` alone decides nothing: Entra ID answers it both for
# a bad secret (7000215) and for a tenant whose admin never consented (7000229).
APP_LEVEL_CODES = {  # the MSP's app itself is at fault: every tenant fails the same way
    7000215: "The MSP's app secret is wrong, so every client fails alike: set the secret's value (not its ID) in "
             "MS365_CLIENT_SECRET or ms365_secret.txt.",
    7000222: "The MSP's app secret has expired, so every client fails alike: add a new secret in the app registration and "
             "set it in MS365_CLIENT_SECRET or ms365_secret.txt.",
    7000216: "No app secret was sent: set MS365_CLIENT_SECRET or ms365_secret.txt.",
}
CONSENT = "The client's admin must grant admin consent to the app at {consent_url}"
TENANT_CODES = {  # this client's tenant only; `{consent_url}` is the tenant's admin-consent link
    7000229: CONSENT + " (the app has no service principal in their tenant yet).",
    700016: CONSENT + " (if every client fails like this, app_id in [ms365] is wrong instead).",
    90002: "The client's admin must confirm their tenant ID or primary domain (Entra admin center, Overview) so that "
           "ms365_tenant can be corrected.",
    65001: "The client's admin must grant admin consent again at {consent_url} (a permission was added since they consented).",
}
UNKNOWN_CODE = ("The client's admin must check the app in their Entra admin center (Enterprise applications) or grant "
                "admin consent again at {consent_url}.")
NO_CODE = "Microsoft's sign-in gave no AADSTS code: try again later, and check login_url in [ms365] if it persists."
_AADSTS = re.compile(r"AADSTS(\d+)")
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
    """403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant` (sign-in activity, MFA registration details).

    Despite its name it does not prove the tenant lacks Entra ID P1/P2: Microsoft's docs team confirms
    an app without Directory.Read.All gets it on premium tenants too.
    """


class TenantRefused(APIError):
    """The token endpoint refused this tenant (unknown, or the app was never consented there).

    `code` is the AADSTS number (None when the answer had none); `advice` says what to do about it.
    """

    def __init__(self, message: str, status: int | None = None, path: str | None = None, *,
                 tenant: str = "", code: int | None = None, advice: str = ""):
        super().__init__(message, status, path)
        self.tenant, self.code, self.advice = tenant, code, advice


class AppCredentialsRefused(TenantRefused, AuthenticationError):
    """The token endpoint refused the MSP's app secret: every tenant would fail the same way."""


@dataclass
class _Token:
    value: str
    renew_at: float  # clock() time after which a new token is fetched first


class GraphClient:
    """App-only access to Graph for many tenants with one app registration; safe to share between threads.

    Made like every service client: `(base_url, secret, *, policy, session, timeout, sleep)` plus its
    own extras (the app id, the sign-in URL); the source's declaration (utils/sources/ms365.py) makes it
    from the [ms365] table and the secret.
    """

    def __init__(self, graph_url: str, secret: str, *, app_id: str, login_url: str = LOGIN_URL,
                 policy: RetryPolicy | None = None, session: requests.Session | None = None, timeout: Any = TIMEOUT,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 max_pages: int = MAX_PAGES) -> None:
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
        self.max_pages = max_pages
        self._tokens: dict[str, _Token] = {}
        self._token_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.usage = UsageMeter()  # per tenant, token requests and retries included
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
            raise _token_error(tenant, response.status_code, body, self.consent_url(tenant))
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

    def consent_url(self, tenant: str) -> str:
        """Where the client's admin consents to the MSP's app for their tenant."""
        return f"{self.login_url}/{quote(tenant, safe='')}/adminconsent?client_id={quote(self.app_id, safe='')}"

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
        """Every item of a collection, following `@odata.nextLink` as given; `stop(page)` True ends early.

        The link is followed only on the Graph host (the request carries the tenant's bearer token)
        and for at most `max_pages` pages; null items, which Graph lists can hold, are skipped.
        """
        first = self.url(path, params)

        def fetch(token: Token | None) -> Page:
            body = self.get_json(tenant, str(token) if token else first)
            values = body.get("value")
            if not isinstance(values, list):
                raise GraphError(f"{SERVICE} answered {path} without a list of values", path=path)
            return Page([item for item in values if isinstance(item, dict)], body)

        guard = PageGuard(SERVICE, path, self.max_pages, self.graph_url, GraphError, f"tenant {tenant}", first=first)
        pages = paginate(fetch, JsonNextLink(), guard, stop=(lambda page: stop(page.items)) if stop else None)
        return [item for page in pages for item in page.items]

    def usage_for(self, tenant: str) -> Usage:
        """What was sent for `tenant` so far (a snapshot; subtract an earlier one for one pull)."""
        return self.usage.snapshot(tenant)

    def requests_for(self, tenant: str) -> int:
        return self.usage_for(tenant).requests

    def _hooks(self, tenant: str) -> SendHooks:
        return self.usage.hooks(tenant)


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


def aadsts_code(body: Mapping[str, Any]) -> int | None:
    """The AADSTS number of a token error: `error_codes[0]`, else the one the description starts with."""
    codes = body.get("error_codes")
    if isinstance(codes, list) and codes and isinstance(codes[0], int) and not isinstance(codes[0], bool):
        return codes[0]
    match = _AADSTS.match(str(body.get("error_description") or ""))
    return int(match.group(1)) if match else None


def _token_error(tenant: str, status: int, body: Mapping[str, Any], consent_url: str) -> TenantRefused:
    """One line: the AADSTS code, Microsoft's first sentence and what to do about it (never the secret).

    Only an app-level code is an AppCredentialsRefused (it stops Microsoft 365 for a whole batch);
    any other code, or none, is this tenant's TenantRefused.
    """
    description = str(body.get("error_description") or "")
    code = aadsts_code(body)
    if description.startswith("AADSTS"):
        said = _first_sentence(description)
    else:
        error = body.get("error") if isinstance(body.get("error"), str) else None
        said = (f"AADSTS{code}: " if code is not None else "") + (f"{error} (HTTP {status})" if error else f"HTTP {status}")
    said = said if said.endswith(".") else said + "."
    kind = AppCredentialsRefused if code in APP_LEVEL_CODES else TenantRefused
    if code is None:
        advice = NO_CODE
    else:
        advice = APP_LEVEL_CODES.get(code) or TENANT_CODES.get(code, UNKNOWN_CODE).format(consent_url=consent_url)
    return kind(f"Microsoft 365 sign-in for tenant {tenant} refused: {said} {advice}", status, "/oauth2/v2.0/token",
                tenant=tenant, code=code, advice=advice)


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
