"""A local Microsoft identity platform + Microsoft Graph server, serving several client tenants.

Behaviour follows Part 1 of the team's Microsoft 365 reference: the client-credentials token
endpoint (`POST /{tenant}/oauth2/v2.0/token`) with its AADSTS errors and `expires_in`, and the five
Graph collections the puller reads, each with `$top` and opaque `@odata.nextLink` paging. Per tenant:
"no Entra ID P1/P2" (403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant` on sign-in
activity and MFA registration) and "permission not granted" (403 `Authorization_RequestDenied` on
chosen endpoints). 429/503 with `Retry-After` on chosen requests; counters by endpoint and tenant.

Hostile or unusual answers, each a switch that is off by default:

- `GraphTenant.aadsts`: the token endpoint refuses that tenant with this AADSTS code (7000215,
  7000222, 7000216, 7000229, 700016, 90002, 65001 with their real HTTP status and `error`; any other
  code as a 400 `invalid_request`).
- `GraphTenant.null_items`: every page of that tenant's collections starts with a `null` item.
- `GraphTenant.set_control_state(id, state, when)`: a `controlStateUpdates` entry on a control profile
  (`Ignored`, `ThirdParty`, `Reviewed`, `Default`).
- `GraphSimulator.next_link_base`: every `@odata.nextLink` points at this base URL (another host, a
  `file://` URL) instead of the simulator itself.
- `GraphSimulator.repeated_next_link`: a page read from a nextLink carries that same nextLink again
  (a paging loop).
- `GraphSimulator.endless_next_link`: every page carries a `@odata.nextLink`, past the last item too
  (empty pages with a fresh link), so a client that does not cap its pages never stops.

Standard library only:

    python -m simulators.demo_ms365 --port 8090        # serves the demo tenants
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from simulators.base import LoopbackServer, Reply, Request

GRAPH_PREFIX = "/v1.0"

# Endpoint names (counter keys and switch names) by path under /v1.0.
ENDPOINTS = {
    "/security/secureScores": "secureScores",
    "/security/secureScoreControlProfiles": "secureScoreControlProfiles",
    "/subscribedSkus": "subscribedSkus",
    "/users": "users",
    "/reports/authenticationMethods/userRegistrationDetails": "userRegistrationDetails",
}
SIGN_IN = "signInActivity"  # a switch name too: the users call with signInActivity selected

# Which application permission each endpoint needs (reference, "The MSP's set-up").
PERMISSIONS = {
    "secureScores": "SecurityEvents.Read.All",
    "secureScoreControlProfiles": "SecurityEvents.Read.All",
    "subscribedSkus": "Organization.Read.All",
    "users": "User.Read.All",
    SIGN_IN: "AuditLog.Read.All",
    "userRegistrationDetails": "AuditLog.Read.All",
}

# Token refusals the `aadsts` switch gives: code -> (HTTP status, `error`, first sentence). {app} and
# {tenant} are filled in; the wording follows real captures (microsoft-365.md, "Token").
AADSTS_ERRORS = {
    7000215: (401, "invalid_client", "Invalid client secret provided. Ensure the secret being sent in the request is the "
                                     "client secret value, not the client secret ID, for a secret added to app '{app}'."),
    7000222: (401, "invalid_client", "The provided client secret keys for app '{app}' are expired. Visit the Azure portal "
                                     "to create new keys for your app."),
    7000216: (401, "invalid_client", "'client_assertion', 'client_secret' or 'request' is required for the "
                                     "'client_credentials' grant type."),
    7000229: (401, "invalid_client", "The client application {app} is missing service principal in the tenant {tenant}. "
                                     "See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119"),
    700016: (400, "unauthorized_client", "Application with identifier '{app}' was not found in the directory '{tenant}'. "
                                         "This can happen if the application has not been installed by the administrator "
                                         "of the tenant or consented to by any user in the tenant."),
    90002: (400, "invalid_request", "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
                                    "are signing into the correct cloud."),
    65001: (400, "invalid_grant", "The user or administrator has not consented to use the application with ID '{app}'. "
                                  "Send an interactive authorization request for this user and resource."),
}

# Page sizes: (default when no $top, largest $top honoured). Sign-in activity caps users at 120.
PAGE_SIZES = {
    "secureScores": (100, 200),
    "secureScoreControlProfiles": (100, 100),  # no $top; the simulator pages at `profiles_page_size`
    "subscribedSkus": (1000, 1000),
    "users": (100, 999),
    "userRegistrationDetails": (100, 999),
}
SIGN_IN_MAX_TOP = 120

TOKEN_LIFETIME = 3599


@dataclass
class GraphTenant:
    """One client tenant: its names, its switches, and its data as Graph returns it."""

    tenant_id: str
    domain: str  # contoso.onmicrosoft.com; the token endpoint accepts it or the GUID
    consented: bool = True  # False: the MSP's app was never consented (AADSTS700016)
    premium: bool = True  # False: no Entra ID P1/P2, so sign-in activity and MFA details answer 403
    denied: set[str] = field(default_factory=set)  # endpoint names (or SIGN_IN) answering Authorization_RequestDenied
    secure_scores: list[dict] = field(default_factory=list)  # newest first, as Graph serves them
    control_profiles: list[dict] = field(default_factory=list)
    skus: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    registrations: list[dict] = field(default_factory=list)
    aadsts: int | None = None  # the token endpoint refuses this tenant with this AADSTS code (AADSTS_ERRORS)
    null_items: bool = False  # every page of every collection starts with a null item

    def deny_permission(self, permission: str) -> None:
        """Withdraw one application permission: every endpoint needing it answers 403."""
        self.denied |= {name for name, needed in PERMISSIONS.items() if needed == permission}

    def set_control_state(self, control_id: str, state: str, updated: str = "2026-10-15T09:30:00Z") -> None:
        """Add a `controlStateUpdates` entry (Ignored, ThirdParty, Reviewed, Default) to one control profile."""
        profile = next(profile for profile in self.control_profiles if profile.get("id") == control_id)
        profile.setdefault("controlStateUpdates", []).append(
            {"state": state, "updatedDateTime": updated, "comment": "", "updatedBy": "admin@" + self.domain,
             "assignedTo": ""})


@dataclass
class _Page:
    endpoint: str
    tenant_id: str
    query: list[tuple[str, str]]  # the original query, echoed in every nextLink
    items: list[dict]
    offset: int
    size: int


class GraphSimulator(LoopbackServer):
    """Login endpoint and Graph for the MSP's one multi-tenant app (`app_id`, `client_secret`)."""

    server_name = "Microsoft-IIS/10.0"

    def __init__(self, tenants: list[GraphTenant] | None = None, app_id: str = "11111111-2222-3333-4444-555555555555",
                 client_secret: str = "sim-graph-secret~0123456789", token_lifetime: int = TOKEN_LIFETIME,
                 profiles_page_size: int = 100, skus_page_size: int | None = None, next_link_base: str | None = None,
                 endless_next_link: bool = False, repeated_next_link: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.next_link_base = next_link_base  # nextLinks point here instead of at the simulator
        self.endless_next_link = endless_next_link  # every page has a nextLink, past the last item too
        self.repeated_next_link = repeated_next_link  # a page read from a nextLink links to itself again
        self.app_id = app_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.profiles_page_size = profiles_page_size
        self.skus_page_size = skus_page_size
        self.tenants: dict[str, GraphTenant] = {}
        for tenant in tenants or []:
            self.add_tenant(tenant)
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (tenant id, monotonic expiry)
        self._pages: dict[str, _Page] = {}
        self._faults: dict[str, deque[Reply]] = {}
        self._graph_lock = threading.Lock()
        self._by_tenant: dict[str, dict[str, int]] = {}
        self.tokens_issued = 0

    # ---- set-up and test helpers

    def add_tenant(self, tenant: GraphTenant) -> GraphTenant:
        self.tenants[tenant.tenant_id.lower()] = tenant
        self.tenants[tenant.domain.lower()] = tenant
        return tenant

    def tenant(self, name: str) -> GraphTenant:
        return self.tenants[name.lower()]

    def expire_tokens(self) -> None:
        """Every token issued so far answers 401 InvalidAuthenticationToken from now on."""
        with self._graph_lock:
            self._tokens = {token: (tenant, 0.0) for token, (tenant, _) in self._tokens.items()}

    def fail_endpoint(self, endpoint: str, count: int = 1, status: int = 429, retry_after: str | None = "1") -> None:
        """Answer the next `count` requests to `endpoint` ("token" or a Graph endpoint name) with `status`."""
        headers = [("Retry-After", retry_after)] if retry_after is not None else []
        code = {429: "TooManyRequests", 503: "ServiceUnavailable", 504: "GatewayTimeout"}.get(status, "InternalServerError")
        with self._graph_lock:
            queue = self._faults.setdefault(endpoint, deque())
            for _ in range(count):
                queue.append(Reply(status, _graph_error(code, f"Simulated HTTP {status}."), list(headers)))

    def tenant_counters(self) -> dict[str, dict[str, int]]:
        """{tenant id: {endpoint: requests}} for every request that named a known tenant."""
        with self._graph_lock:
            return copy.deepcopy(self._by_tenant)

    def reset_counters(self) -> None:
        super().reset_counters()
        with self._graph_lock:
            self._by_tenant = {}
            self.tokens_issued = 0

    def error_body(self, status: int) -> Any:
        return _graph_error("TooManyRequests" if status == 429 else "ServiceUnavailable", f"Simulated HTTP {status}.")

    # ---- routing

    def endpoint_of(self, request: Request) -> str:
        if request.path.endswith("/oauth2/v2.0/token"):
            return "token"
        if request.path.startswith(GRAPH_PREFIX):
            return ENDPOINTS.get(request.path[len(GRAPH_PREFIX):], request.path)
        return request.path

    def handle(self, request: Request) -> Reply:
        endpoint = self.endpoint_of(request)
        with self._graph_lock:
            queue = self._faults.get(endpoint)
            fault = queue.popleft() if queue else None
        if endpoint == "token":
            tenant_name = request.path.strip("/").split("/")[0]
            self._count_tenant(self.tenants.get(tenant_name.lower()), endpoint)
            return fault or self._token(request, tenant_name)
        if endpoint not in PAGE_SIZES:
            return Reply(404, _graph_error("Request_ResourceNotFound", f"Resource not found for the segment '{request.path}'."))
        tenant, problem = self._authenticate(request)
        if problem is not None:
            return problem
        assert tenant is not None
        self._count_tenant(tenant, endpoint)
        return fault or self._collection(request, tenant, endpoint)

    def _count_tenant(self, tenant: GraphTenant | None, endpoint: str) -> None:
        if tenant is None:
            return
        with self._graph_lock:
            counts = self._by_tenant.setdefault(tenant.tenant_id, {})
            counts[endpoint] = counts.get(endpoint, 0) + 1

    # ---- the token endpoint

    def _token(self, request: Request, tenant_name: str) -> Reply:
        if request.method != "POST":
            return Reply(405, {"error": "invalid_request", "error_description": "AADSTS900561: The endpoint only accepts POST requests."})
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        tenant = self.tenants.get(tenant_name.lower())
        if tenant is None:
            return _aad_error(400, "invalid_request", 90002, f"Tenant '{tenant_name}' not found. Check to make sure you have "
                              "the correct tenant ID and are signing into the correct cloud.")
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if form.get("scope") != "https://graph.microsoft.com/.default":
            return _aad_error(400, "invalid_scope", 1002012, f"The provided value for scope {form.get('scope')} is not "
                              "valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.")
        if tenant.aadsts is not None:
            status, error, sentence = AADSTS_ERRORS.get(tenant.aadsts, (400, "invalid_request", "Simulated sign-in refusal."))
            return _aad_error(status, error, tenant.aadsts, sentence.format(app=form.get("client_id"), tenant=tenant.tenant_id))
        if form.get("client_id") != self.app_id or not tenant.consented:
            return _aad_error(400, "unauthorized_client", 700016, f"Application with identifier '{form.get('client_id')}' "
                              f"was not found in the directory '{tenant.domain}'. This can happen if the application has "
                              "not been installed by the administrator of the tenant or consented to by any user in the tenant.")
        if form.get("client_secret") != self.client_secret:
            return _aad_error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent "
                              f"in the request is the client secret value, not the client secret ID, for a secret added to app '{self.app_id}'.")
        token = "sim." + secrets.token_urlsafe(24)
        with self._graph_lock:
            self._tokens[token] = (tenant.tenant_id, time.monotonic() + self.token_lifetime)
            self.tokens_issued += 1
        return Reply(200, {"token_type": "Bearer", "expires_in": self.token_lifetime,
                           "ext_expires_in": self.token_lifetime, "access_token": token})

    def _authenticate(self, request: Request) -> tuple[GraphTenant | None, Reply | None]:
        header = request.header("Authorization") or ""
        token = header[len("Bearer "):] if header.startswith("Bearer ") else ""
        with self._graph_lock:
            entry = self._tokens.get(token)
        if entry is None:
            return None, Reply(401, _graph_error("InvalidAuthenticationToken", "Access token is empty." if not token
                                                 else "IDX14100: JWT is not well formed."))
        tenant_id, expires = entry
        if time.monotonic() >= expires:
            return None, Reply(401, _graph_error("InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."))
        return self.tenants[tenant_id.lower()], None

    # ---- collections

    def _collection(self, request: Request, tenant: GraphTenant, endpoint: str) -> Reply:
        token = request.params.get("$skiptoken")
        if token is not None:
            return self._next_page(request, tenant, endpoint, token)
        select = [name.strip() for name in request.params.get("$select", "").split(",") if name.strip()]
        sign_in = endpoint == "users" and SIGN_IN in select
        if (endpoint == "userRegistrationDetails" or sign_in) and not tenant.premium:
            return Reply(403, _graph_error("Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                                           "Neither tenant is B2C or tenant doesn't have premium license"))
        if endpoint in tenant.denied or (sign_in and SIGN_IN in tenant.denied):
            return Reply(403, _graph_error("Authorization_RequestDenied", "Insufficient privileges to complete the operation."))
        default, largest = PAGE_SIZES[endpoint]
        if endpoint == "secureScoreControlProfiles":
            default = largest = self.profiles_page_size
        if endpoint == "subscribedSkus" and self.skus_page_size:
            default = largest = self.skus_page_size
        if sign_in:
            largest = SIGN_IN_MAX_TOP
        size = default
        if "$top" in request.params:
            try:
                size = int(request.params["$top"])
            except ValueError:
                size = 0
            if size < 1 or (sign_in and size > largest):
                return Reply(400, _graph_error("Request_UnsupportedQuery" if not sign_in else "BadRequest",
                                               f"Invalid page size specified: '{request.params['$top']}'. "
                                               f"Must be between 1 and {largest} inclusive."))
            size = min(size, largest)
        items = [_select(item, select) for item in self._items(tenant, endpoint)]
        page = _Page(endpoint, tenant.tenant_id, [(k, v) for k, v in request.pairs], items, 0, size)
        return self._serve_page(page, tenant)

    def _next_page(self, request: Request, tenant: GraphTenant, endpoint: str, token: str) -> Reply:
        with self._graph_lock:
            page = self._pages.get(token)
        others = [(k, v) for k, v in request.pairs if k != "$skiptoken"]
        # A nextLink must be followed exactly as given: a rebuilt one loses or changes its query.
        if page is None or page.endpoint != endpoint or page.tenant_id != tenant.tenant_id or others != page.query:
            return Reply(400, _graph_error("Request_UnsupportedQuery" if page is None else "BadRequest",
                                           "The specified page token value has expired or is not valid."))
        return self._serve_page(page, tenant, token)

    def _serve_page(self, page: _Page, tenant: GraphTenant, token_in: str | None = None) -> Reply:
        chunk: list[dict | None] = list(page.items[page.offset:page.offset + page.size])
        if tenant.null_items:
            chunk.insert(0, None)
        body: dict[str, Any] = {"@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{page.endpoint}", "value": chunk}
        following = page.offset + page.size
        if following < len(page.items) or self.endless_next_link:
            if self.repeated_next_link and token_in is not None:
                token = token_in
            else:
                token = secrets.token_urlsafe(24)
                with self._graph_lock:
                    self._pages[token] = _Page(page.endpoint, page.tenant_id, page.query, page.items, following, page.size)
            path = next(path for path, name in ENDPOINTS.items() if name == page.endpoint)
            query = urlencode(page.query, quote_via=quote, safe="$,") + ("&" if page.query else "") + f"$skiptoken={token}"
            body["@odata.nextLink"] = f"{self.next_link_base or self.url}{GRAPH_PREFIX}{path}?{query}"
        return Reply(200, body)

    def _items(self, tenant: GraphTenant, endpoint: str) -> list[dict]:
        return {"secureScores": tenant.secure_scores, "secureScoreControlProfiles": tenant.control_profiles,
                "subscribedSkus": tenant.skus, "users": tenant.users, "userRegistrationDetails": tenant.registrations}[endpoint]


def _select(item: dict, select: list[str]) -> dict:
    """What `$select` keeps: the named properties (plus id), or everything but sign-in activity."""
    if not select:
        return {key: value for key, value in item.items() if key != SIGN_IN}
    return {key: item.get(key) for key in ["id", *select] if key in item or key == SIGN_IN}


def _graph_error(code: str, message: str) -> dict:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return {"error": {"code": code, "message": message,
                      "innerError": {"date": now, "request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())}}}


def _aad_error(status: int, error: str, code: int, sentence: str) -> Reply:
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    description = f"AADSTS{code}: {sentence} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {stamp}"
    return Reply(status, {"error": error, "error_description": description, "error_codes": [code],
                          "timestamp": stamp, "trace_id": trace, "correlation_id": correlation,
                          "error_uri": "https://login.microsoftonline.com/error?code=" + str(code)})
