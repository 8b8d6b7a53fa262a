"""A local Freshservice API v2 server for tests, demos and benchmarks, serving one Account.

Behaviour follows Part 1 of the team's Freshservice reference: Basic auth with the API key as user
name, credit-based rate limiting in fixed windows with sub-limits, `link` header paging, the 30-day
default window of GET /tickets, the 10-page cap of /tickets/filter, and switchable faults (5xx,
dropped connections, 403 on names, garbage bodies). Switches for answers real accounts may give,
all off by default (`SimulatorSettings`):

- `refuse_department_filter`: a filter query naming `department_id` (not a documented filter
  field, section 3.3) answers 400 with the invalid-field body of section 3.8;
- `refuse_list_tags`: GET /tickets answers 400 `invalid_field` on `include` when it asks for tags;
- `csat_without_feedback`: an answered survey leaves no feedback conversation (`source: 5`) in the
  conversation list or the view's embed; the answer is only at /tickets/{id}/csat_response.

Between two pulls a test may change the account through the simulator (never by editing the
Account while it serves): `log_time(ticket_id, "0:30")` logs time on a ticket now, which moves its
`updated_at` as Freshservice does. `requested_paths()` lists every request's path and query since
the start or the last `reset_counters()`, however many (`last_requests` keeps the last 200).

Standard library only:

Editions (`SimulatorSettings.edition`): "classic" (the default) keeps clients as departments.
"msp" is Freshservice for MSPs, where every client is a workspace (Account.add_workspace, or
Account.departments_as_workspaces): /workspaces and /workspaces/{id} answer; ticket lists, ticket
filters and department lists answer for the primary workspace (2) when the call carries no
`workspace_id`, for client N with `workspace_id=N`, and for every workspace with `workspace_id=0`
(a department list refuses 0 and 1 with 400, as documented); `workspace_id:N` is a filter field;
ticket form fields follow the same rule (our choice where the docs are silent: global fields plus
the workspace's own; `workspace_id=0` gives the global ones only). Workspace 3 is the MSP's own.

    python -m simulators.freshservice --port 8089
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import hmac
import math
import random
import re
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from simulators.base import LoopbackServer, Reply
from simulators.demo_freshservice import build_demo_account
from simulators.freshservice_assets import filtered_assets
from simulators.freshservice_data import (
    _EMBED_ONLY_KEYS,
    API_PREFIX,
    DEFAULT_PER_PAGE,
    ENDPOINT_KEYS,
    ERROR_BODIES,
    FILTER_PAGE_SIZE,
    FILTER_TICKET_KEYS,
    LIST_DEFAULT_WINDOW,
    LIST_INCLUDES,
    LIST_TICKET_KEYS,
    MAX_PER_PAGE,
    PRIMARY_WORKSPACE_ID,
    UNLIMITED_TOTAL,
    VIEW_CONVERSATION_EMBED_LIMIT,
    VIEW_INCLUDES,
    Account,
    format_timestamp,
    to_utc,
)
from simulators.freshservice_query import QueryError, compile_filter_query
from utils.core.settings import SETTINGS_FILE, Settings
from utils.services.freshservice_client import FreshserviceClient
from utils.sources.freshservice import FRESHSERVICE, with_url
from utils.sources.source import Connected

# --------------------------------------------------------------------------- server

FEEDBACK_SOURCE = 5  # the conversation source a submitted survey leaves


@dataclass
class SimulatorSettings:
    """Knobs of a running simulator; tests change them while it serves through `Simulator.switch`."""

    api_key: str = "demo-key-not-secret"
    rate_limit_total: int | None = None  # credits per window; None: unlimited (headers still sent)
    rate_window_seconds: float = 60.0
    list_tickets_sublimit: int | None = None  # credits per window for GET /tickets
    view_ticket_sublimit: int | None = None  # credits per window for GET /tickets/{id}
    latency_seconds: float = 0.0
    error_rate: float = 0.0  # share of requests answered 500/502/503
    drop_rate: float = 0.0  # share of requests whose connection is closed without an answer
    fail_every: int | None = None  # every Nth request (counting all) is answered fail_every_status
    fail_every_status: int = 503
    endpoint_status: dict[str, int] = field(default_factory=dict)  # endpoint key -> status it always answers
    forbidden_requesters: bool = False  # /requesters* answer 403, and so does a ticket call with include=requester
    forbidden_agents: bool = False
    forbidden_form_fields: bool = False
    failing_department_ids: set[int] = field(default_factory=set)
    companies_endpoint: bool = False  # True: /companies serves the departments
    edition: str = "classic"  # "msp": Freshservice for MSPs, clients are workspaces (see the module docstring)
    filter_page_cap: int = 10
    refuse_department_filter: bool = False  # department_id in a filter query: 400, as for an unknown field
    refuse_list_tags: bool = False  # include=tags on GET /tickets: 400 invalid_field on include
    csat_without_feedback: bool = False  # surveys leave no source-5 conversation, only a csat_response
    garbage_response: str | None = None  # "html" or "badjson"
    repeated_link: bool = False  # a list's `Link` header from page 2 on points at page 2 again (a paging loop)
    deleted_ticket_ids: set[int] = field(default_factory=set)  # still listed, but /tickets/{id}* answers 404 (deleted mid-pull)
    extra_departments: list[dict] = field(default_factory=list)  # records served after the account's own (e.g. a hostile id)
    seed: int = 7


_Reply = Reply  # the base's reply, under the name this module has always used


def _validation_error(*errors: dict) -> _Reply:
    return _Reply(400, {"description": "Validation failed", "errors": list(errors)})


def _invalid(field_name: str, message: str, code: str = "invalid_value") -> _Reply:
    return _validation_error({"field": field_name, "message": message, "code": code})


def _includes(params: dict[str, str]) -> list[str]:
    raw = params.get("include", "")
    return list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


ALL_WORKSPACES = 0  # workspace_id=0: every workspace the key may see


def _workspace_scope(settings: SimulatorSettings, params: dict[str, str], lowest: int = 0) -> int | None | _Reply:
    """The workspace a list call answers for in the MSP edition: None (classic: no scoping), 2 when
    the call names none, the id it names, or a 400 for an id that is not a number of at least `lowest`."""
    if settings.edition != "msp":
        return None
    text = params.get("workspace_id")
    if text is None:
        return PRIMARY_WORKSPACE_ID
    if not text.isdigit() or int(text) < lowest:
        return _invalid("workspace_id", f"It should be a/an Positive Integer greater than or equal to {lowest}")
    return int(text)


def _deleted_ticket(path: str, deleted: set[int]) -> bool:
    """True for /tickets/{id} and its sub-resources when the ticket is one `deleted_ticket_ids` names."""
    prefix = API_PREFIX + "/tickets/"
    if not deleted or not path.startswith(prefix):
        return False
    ticket_id = path[len(prefix):].split("/", 1)[0]
    return ticket_id.isdigit() and int(ticket_id) in deleted


def _in_workspace(record: dict, scope: int | None) -> bool:
    return scope is None or scope == ALL_WORKSPACES or record.get("workspace_id", PRIMARY_WORKSPACE_ID) == scope


class Simulator(LoopbackServer):
    """A Freshservice API v2 server on a loopback port, serving one Account."""

    server_name = "FreshserviceSimulator/1.0"

    def __init__(self, account: Account, settings: SimulatorSettings | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare a simulator serving `account` (the demo's is simulators.demo_freshservice's)."""
        self.account = account
        self.settings = settings or SimulatorSettings()
        super().__init__(host, port)
        self._rng = random.Random(self.settings.seed)
        self._forced_status: deque[int] = deque()
        self._window_start: float | None = None
        self._window_used = 0
        self._window_sub_used: dict[str, int] = {}
        self._window_number = 0
        self._arrivals = 0
        self._counters = self._empty_counters()
        self._clock_offset = 0.0
        self._paths: list[str] = []

    def _clock(self) -> float:
        return time.monotonic() + self._clock_offset

    def switch(self, **changes: Any) -> None:
        """Turn knobs while serving: the settings are swapped at once, and a misspelt knob is a TypeError
        (setting `simulator.settings.<name>` by hand would add a new attribute that nothing reads)."""
        self.settings = replace(self.settings, **changes)

    def advance_clock(self, seconds: float) -> None:
        """Move the rate-limit clock forward, so a test sees a window reset without waiting for it."""
        with self._lock:
            self._clock_offset += seconds

    # ---- test helpers

    def fail_next(self, count: int, status: int = 503) -> None:  # type: ignore[override]  # Freshservice's own forced replies (no headers or body)
        """Answer the next `count` requests with `status` (0: drop the connection)."""
        with self._lock:
            self._forced_status.extend([status] * count)

    def log_time(self, ticket_id: int, time_spent: str, **fields: Any) -> dict:
        """Log time on a ticket while serving, as an agent would between two pulls: by default logged and
        executed at the account's now, so the ticket's updated_at moves there. Returns the time entry."""
        with self._lock:
            moment = fields.pop("created_at", None) or self.account.now
            return self.account.add_time_entry(ticket_id, time_spent, created_at=moment, **{"executed_at": moment, **fields})

    def requested_paths(self) -> list[str]:
        """Every request's path and query since the start or the last reset_counters(), oldest first."""
        with self._lock:
            return list(self._paths)

    @property
    def windows_started(self) -> int:
        """How many rate-limit windows have begun so far."""
        with self._lock:
            return self._window_number

    def counters(self) -> dict:
        """A snapshot of the request, credit and status counters."""
        with self._lock:
            return copy.deepcopy(self._counters)

    def reset_counters(self) -> None:
        """Zero the counters and forget the recorded requests (the rate budget is kept)."""
        with self._lock:
            self._counters = self._empty_counters()
            self._last_requests.clear()
            self._paths.clear()

    @staticmethod
    def _empty_counters() -> dict:
        return {"requests": 0, "credits": 0, "rate_limited": 0, "dropped": 0,
                "by_endpoint": {key: {"requests": 0, "credits": 0} for key in ENDPOINT_KEYS},
                "status": {}}

    # ---- request handling

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        method = handler.command
        with self._lock:
            self._last_requests.append((method, handler.path, dict(handler.headers.items())))
            self._paths.append(handler.path)
        split = urlsplit(handler.path)
        path = split.path.rstrip("/") or "/"
        pairs = parse_qsl(split.query, keep_blank_values=True)
        params: dict[str, str] = {}
        for key, value in pairs:
            params.setdefault(key, value)
        endpoint, action, path_args = self._route(path)
        settings = self.settings
        if settings.latency_seconds > 0:
            time.sleep(settings.latency_seconds)
        reply, cost = self._answer(handler, method, path, pairs, params, endpoint, action, path_args)
        self._send(handler, reply, endpoint, cost)

    def _answer(self, handler: BaseHTTPRequestHandler, method: str, path: str,
                pairs: list[tuple[str, str]], params: dict[str, str], endpoint: str,
                action: Callable[..., _Reply] | None, path_args: tuple[str, ...]) -> tuple[_Reply, int]:
        """Decide the reply and the credits it costs, in Freshservice's order of checks."""
        settings = self.settings
        if settings.garbage_response == "html":
            return _Reply(200, raw=b"<html><head><title>Freshservice</title></head><body>"
                                   b"<h1>We'll be back shortly</h1></body></html>",
                          content_type="text/html; charset=utf-8"), 0
        if settings.garbage_response == "badjson":
            return _Reply(200, raw=b'{"tickets": [{"id": 1, "subject": "Printer jam", "stat'), 0
        with self._lock:
            forced = self._forced_status.popleft() if self._forced_status else None
            self._arrivals += 1
            if forced is None and settings.fail_every and self._arrivals % settings.fail_every == 0:
                forced = settings.fail_every_status
        if forced is None:
            forced = settings.endpoint_status.get(endpoint)
        if forced is not None:
            return self._forced_reply(endpoint, forced)
        if not path.startswith(API_PREFIX + "/") and path != API_PREFIX:
            return _Reply(404, ERROR_BODIES[404]), 0
        if not self._authorised(handler.headers.get("Authorization")):
            return _Reply(401, ERROR_BODIES[401]), self._charge_if_possible(endpoint, 1)
        includes = _includes(params)
        nominal = 1
        if endpoint in ("tickets.list", "assets"):
            nominal += 2 * len(includes)
        elif endpoint == "tickets.view":
            nominal += len(includes)
        allowed, retry_after, window = self._reserve(endpoint, nominal)
        if not allowed:
            return _Reply(429, ERROR_BODIES[429], [("Retry-After", str(retry_after))]), 0
        with self._lock:
            drop = settings.drop_rate > 0 and self._rng.random() < settings.drop_rate
            error = None
            if not drop and settings.error_rate > 0 and self._rng.random() < settings.error_rate:
                error = self._rng.choice((500, 502, 503))
        if drop:
            reply = _Reply(0, drop=True)
        elif error is not None:
            reply = _Reply(error, ERROR_BODIES[error])
        elif method != "GET":
            reply = _Reply(405 if action is not None else 404,
                           ERROR_BODIES[405 if action is not None else 404])
        elif action is None or _deleted_ticket(path, settings.deleted_ticket_ids):
            reply = _Reply(404, ERROR_BODIES[404])
        else:
            reply = action(handler, path, pairs, params, includes, *path_args)
        cost = nominal
        if reply.status >= 400 or reply.drop:
            # Failed calls still cost one credit; refund what the includes would have cost.
            cost = 1
            self._refund(endpoint, nominal - 1, window)
        return reply, cost

    def _forced_reply(self, endpoint: str, status: int) -> tuple[_Reply, int]:
        if status == 0:
            return _Reply(0, drop=True), self._charge_if_possible(endpoint, 1)
        if status == 429:
            return _Reply(429, ERROR_BODIES[429], [("Retry-After", "1")]), 0
        body = ERROR_BODIES.get(status, {"code": "error", "message": f"HTTP {status}"})
        return _Reply(status, body), self._charge_if_possible(endpoint, 1)

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user = decoded.split(":", 1)[0]
        return hmac.compare_digest(user.encode(), self.settings.api_key.encode())

    # ---- budget

    def _roll_window(self, now: float) -> None:
        window = max(self.settings.rate_window_seconds, 0.001)
        if self._window_start is None or now >= self._window_start + window:
            self._window_start = now
            self._window_used = 0
            self._window_sub_used = {}
            self._window_number += 1

    def _sublimit(self, endpoint: str) -> int | None:
        if endpoint == "tickets.list":
            return self.settings.list_tickets_sublimit
        if endpoint == "tickets.view":
            return self.settings.view_ticket_sublimit
        return None

    def _reserve(self, endpoint: str, cost: int) -> tuple[bool, int, int]:
        """Take `cost` credits from the window; (allowed, retry_after seconds, window number)."""
        with self._lock:
            now = self._clock()
            self._roll_window(now)
            total = self.settings.rate_limit_total
            sublimit = self._sublimit(endpoint)
            over_total = total is not None and self._window_used + cost > total
            over_sub = sublimit is not None and self._window_sub_used.get(endpoint, 0) + cost > sublimit
            if over_total or over_sub:
                window_end = cast(float, self._window_start) + max(self.settings.rate_window_seconds, 0.001)  # set by _roll_window above
                return False, max(1, math.ceil(window_end - now)), self._window_number
            self._window_used += cost
            self._window_sub_used[endpoint] = self._window_sub_used.get(endpoint, 0) + cost
            return True, 0, self._window_number

    def _refund(self, endpoint: str, credits: int, window: int) -> None:
        if credits <= 0:
            return
        with self._lock:
            if window == self._window_number:
                self._window_used = max(0, self._window_used - credits)
                self._window_sub_used[endpoint] = max(0, self._window_sub_used.get(endpoint, 0) - credits)

    def _charge_if_possible(self, endpoint: str, credits: int) -> int:
        """Charge a failed call's credit when the budget has it (it is never refused for it)."""
        with self._lock:
            self._roll_window(self._clock())
            total = self.settings.rate_limit_total
            if total is not None and self._window_used + credits > total:
                return 0
            self._window_used += credits
            self._window_sub_used[endpoint] = self._window_sub_used.get(endpoint, 0) + credits
            return credits

    def _rate_headers(self, cost: int) -> list[tuple[str, str]]:
        with self._lock:
            self._roll_window(self._clock())
            total = self.settings.rate_limit_total
            total = UNLIMITED_TOTAL if total is None else total
            remaining = max(0, total - self._window_used)
        return [("X-Ratelimit-Total", str(total)), ("X-Ratelimit-Remaining", str(remaining)),
                ("X-Ratelimit-Used-CurrentRequest", str(cost))]

    # ---- sending

    def _send(self, handler: BaseHTTPRequestHandler, reply: _Reply, endpoint: str, cost: int) -> None:
        with self._lock:
            counters = self._counters
            counters["requests"] += 1
            counters["credits"] += cost
            counters["by_endpoint"][endpoint]["requests"] += 1
            counters["by_endpoint"][endpoint]["credits"] += cost
            if reply.drop:
                counters["dropped"] += 1
            else:
                counters["status"][reply.status] = counters["status"].get(reply.status, 0) + 1
                if reply.status == 429:
                    counters["rate_limited"] += 1
        self.send(handler, reply, [*self._rate_headers(cost), ("X-Freshservice-Api-Version", "latest=v2; requested=v2")])

    # ---- routing

    def _route(self, path: str) -> tuple[str, Callable[..., _Reply] | None, tuple[str, ...]]:
        for pattern, endpoint, method_name in _ROUTES:
            match = pattern.match(path)
            if match:
                return endpoint, getattr(self, method_name), match.groups()
        if path.startswith(f"{API_PREFIX}/tickets"):
            return "other", None, ()
        for prefix, endpoint in (("departments", "departments"), ("companies", "companies"),
                                 ("agents", "agents"), ("requesters", "requesters")):
            if path.startswith(f"{API_PREFIX}/{prefix}/"):
                return endpoint, None, ()
        return "other", None, ()

    def _page_params(self, params: dict[str, str]) -> tuple[int, int] | _Reply:
        per_page_text = params.get("per_page", str(DEFAULT_PER_PAGE))
        page_text = params.get("page", "1")
        if not per_page_text.isdigit() or not 1 <= int(per_page_text) <= MAX_PER_PAGE:
            return _invalid("per_page", "It should be a/an Positive Integer less than or equal to 100")
        if not page_text.isdigit() or int(page_text) < 1:
            return _invalid("page", "It should be a/an Positive Integer")
        return int(page_text), int(per_page_text)

    def _paged(self, handler: BaseHTTPRequestHandler, path: str, pairs: list[tuple[str, str]],
               params: dict[str, str], wrapper: str, items: list[Any],
               shape: Callable[[Any], dict] = lambda item: item) -> _Reply:
        paging = self._page_params(params)
        if isinstance(paging, _Reply):
            return paging
        page, per_page = paging
        start = (page - 1) * per_page
        chunk = items[start:start + per_page]
        headers = []
        if start + per_page < len(items):
            following = 2 if self.settings.repeated_link else page + 1
            headers.append(("Link", f'<{self._page_url(handler, path, pairs, following)}>; rel="next"'))
        return _Reply(200, {wrapper: [shape(item) for item in chunk]}, headers)

    def _page_url(self, handler: BaseHTTPRequestHandler, path: str,
                  pairs: list[tuple[str, str]], page: int) -> str:
        # The link must point at the host:port the client used, not the bind address.
        host = handler.headers.get("Host") or f"{self.host}:{self.port}"
        kept = [(key, value) for key, value in pairs if key != "page"]
        kept.append(("page", str(page)))
        return f"http://{host}{path}?{urlencode(kept)}"

    # ---- departments, companies, people, form fields

    def _list_departments(self, handler, path, pairs, params, includes) -> _Reply:
        workspace = _workspace_scope(self.settings, params, lowest=2)  # the docs: a given workspace_id must be > 1
        if isinstance(workspace, _Reply):
            return workspace
        departments = sorted((item for item in self.account.departments.values() if _in_workspace(item, workspace)),
                             key=lambda item: item["id"])
        return self._paged(handler, path, pairs, params, "departments", [*departments, *self.settings.extra_departments])

    def _view_department(self, handler, path, pairs, params, includes, department_id) -> _Reply:
        department = self.account.departments.get(int(department_id))
        if department is None:
            return _Reply(404, ERROR_BODIES[404])
        return _Reply(200, {"department": department})

    def _list_companies(self, handler, path, pairs, params, includes) -> _Reply:
        if not self.settings.companies_endpoint:
            return _Reply(404, ERROR_BODIES[404])
        departments = sorted(self.account.departments.values(), key=lambda item: item["id"])
        return self._paged(handler, path, pairs, params, "companies", departments)

    def _view_company(self, handler, path, pairs, params, includes, company_id) -> _Reply:
        department = self.account.departments.get(int(company_id))
        if not self.settings.companies_endpoint or department is None:
            return _Reply(404, ERROR_BODIES[404])
        return _Reply(200, {"company": department})

    def _list_agents(self, handler, path, pairs, params, includes) -> _Reply:
        if self.settings.forbidden_agents:
            return _Reply(403, ERROR_BODIES[403])
        # Documented order: by first name.
        agents = sorted(self.account.agents.values(),
                        key=lambda item: (item["first_name"], item["last_name"] or "", item["id"]))
        return self._paged(handler, path, pairs, params, "agents", agents)

    def _view_agent(self, handler, path, pairs, params, includes, agent_id) -> _Reply:
        if self.settings.forbidden_agents:
            return _Reply(403, ERROR_BODIES[403])
        agent = self.account.agents.get(int(agent_id))
        return _Reply(200, {"agent": agent}) if agent else _Reply(404, ERROR_BODIES[404])

    def _list_requesters(self, handler, path, pairs, params, includes) -> _Reply:
        if self.settings.forbidden_requesters:
            return _Reply(403, ERROR_BODIES[403])
        requesters = sorted(self.account.requesters.values(),
                            key=lambda item: (item["first_name"], item["last_name"] or "", item["id"]))
        return self._paged(handler, path, pairs, params, "requesters", requesters)

    def _view_requester(self, handler, path, pairs, params, includes, requester_id) -> _Reply:
        if self.settings.forbidden_requesters:
            return _Reply(403, ERROR_BODIES[403])
        requester = self.account.requesters.get(int(requester_id))
        return _Reply(200, {"requester": requester}) if requester else _Reply(404, ERROR_BODIES[404])

    def _ticket_form_fields(self, handler, path, pairs, params, includes) -> _Reply:
        if self.settings.forbidden_form_fields:
            return _Reply(403, ERROR_BODIES[403])
        workspace = _workspace_scope(self.settings, params)
        if isinstance(workspace, _Reply):
            return workspace
        fields = [item for item in self.account.ticket_form_fields
                  if item.get("workspace_id") is None or (workspace != ALL_WORKSPACES and _in_workspace(item, workspace))]
        return _Reply(200, {"ticket_fields": fields})

    def _list_workspaces(self, handler, path, pairs, params, includes) -> _Reply:
        if self.settings.edition != "msp":
            return _Reply(404, ERROR_BODIES[404])
        return self._paged(handler, path, pairs, params, "workspaces",
                           [self.account.workspaces[key] for key in sorted(self.account.workspaces)])

    def _view_workspace(self, handler, path, pairs, params, includes, workspace_id) -> _Reply:
        workspace = self.account.workspaces.get(int(workspace_id))
        if self.settings.edition != "msp" or workspace is None:
            return _Reply(404, ERROR_BODIES[404])
        return _Reply(200, {"workspace": workspace})

    # ---- tickets

    def _shape_ticket(self, ticket: dict, keys: tuple[str, ...] | None, includes: list[str]) -> dict:
        if keys is None:
            shaped = {key: value for key, value in ticket.items() if key not in _EMBED_ONLY_KEYS}
        else:
            shaped = {key: ticket.get(key) for key in keys}
        for include in includes:
            if include == "stats":
                shaped["stats"] = dict(ticket["stats"])
            elif include == "tags":
                shaped["tags"] = list(ticket["tags"])
            elif include == "requester":
                shaped["requester"] = self.account.requester_embed(ticket["requester_id"])
            elif include == "conversations":
                shaped["conversations"] = self._conversations(ticket["id"])[:VIEW_CONVERSATION_EMBED_LIMIT]
        return shaped

    def _list_tickets(self, handler, path, pairs, params, includes) -> _Reply:
        allowed = LIST_INCLUDES - {"tags"} if self.settings.refuse_list_tags else LIST_INCLUDES
        unknown = [include for include in includes if include not in allowed]
        if unknown:
            return _invalid("include", "Unexpected/invalid field in request", "invalid_field")
        if "requester" in includes and self.settings.forbidden_requesters:
            # Our choice where the docs are silent: a role that may not view requesters may not embed them.
            return _Reply(403, ERROR_BODIES[403])
        view = params.get("filter")
        if view is not None and view not in ("new_and_my_open", "watching", "spam", "deleted"):
            return _invalid("filter", "It should be one of these values: "
                                      "'new_and_my_open,watching,spam,deleted'")
        order_type = params.get("order_type", "desc")
        if order_type not in ("asc", "desc"):
            return _invalid("order_type", "It should be one of these values: 'asc,desc'")
        order_by = params.get("order_by", "created_at")
        if order_by not in ("created_at", "updated_at"):
            return _invalid("order_by", "It should be one of these values: 'created_at,updated_at'")
        workspace = _workspace_scope(self.settings, params)
        if isinstance(workspace, _Reply):
            return workspace
        if "updated_since" in params:
            try:
                since = format_timestamp(params["updated_since"])
            except ValueError:
                return _invalid("updated_since", "It should be in the 'valid date' format")
            window_key, window_start = "updated_at", since
        else:
            # Without updated_since Freshservice only returns tickets created in the last 30 days.
            window_key, window_start = "created_at", format_timestamp(self.account.now - LIST_DEFAULT_WINDOW)
        tickets = []
        for ticket in self.account.tickets_newest_first():
            if view == "spam":
                visible = ticket["spam"] and not ticket["deleted"]
            elif view == "deleted":
                visible = ticket["deleted"]
            elif view == "watching":
                visible = False
            else:
                visible = not ticket["spam"] and not ticket["deleted"]
                if view == "new_and_my_open":
                    visible = visible and ticket["status"] == 2
            if not visible or ticket[window_key] < window_start or not _in_workspace(ticket, workspace):
                continue
            if "requester_id" in params and str(ticket["requester_id"]) != params["requester_id"]:
                continue
            if "type" in params and ticket["type"] != params["type"]:
                continue
            tickets.append(ticket)
        if order_by == "updated_at":
            tickets.sort(key=lambda ticket: (ticket["updated_at"], ticket["id"]), reverse=True)
        if order_type == "asc":
            tickets.reverse()
        return self._paged(handler, path, pairs, params, "tickets", tickets,
                           lambda ticket: self._shape_ticket(ticket, LIST_TICKET_KEYS, includes))

    def _filter_tickets(self, handler, path, pairs, params, includes) -> _Reply:
        if "include" in params:
            return _invalid("include", "Unexpected/invalid field in request", "invalid_field")
        if "query" not in params:
            return _invalid("query", "It should be a/an String", "missing_field")
        workspace = _workspace_scope(self.settings, params)
        if isinstance(workspace, _Reply):
            return workspace
        try:
            refused = frozenset({"department_id"}) if self.settings.refuse_department_filter else frozenset()
            query = compile_filter_query(params["query"], refused, workspace_field=self.settings.edition == "msp")
        except QueryError as problem:
            return _validation_error(problem.error)
        page_text = params.get("page", "1")
        cap = self.settings.filter_page_cap
        if not page_text.isdigit() or int(page_text) < 1:
            return _invalid("page", "It should be a/an Positive Integer")
        page = int(page_text)
        if page > cap:
            return _invalid("page", f"It should be a/an Positive Integer less than or equal to {cap}")
        if query.named_departments & self.settings.failing_department_ids:
            return _Reply(500, ERROR_BODIES[500])
        scope = sorted(query.department_scope) if query.department_scope is not None else None
        matches = [ticket for ticket in self.account.tickets_newest_first(scope)
                   if not ticket["spam"] and not ticket["deleted"] and _in_workspace(ticket, workspace) and query.predicate(ticket)]
        # 30 a page whatever per_page says, and no link header (section 3.7).
        chunk = matches[(page - 1) * FILTER_PAGE_SIZE:page * FILTER_PAGE_SIZE]
        return _Reply(200, {"tickets": [self._shape_ticket(ticket, FILTER_TICKET_KEYS, [])
                                        for ticket in chunk], "total": len(matches)})

    # ---- assets (issue 19; simulators/freshservice_assets.py)

    def _list_assets(self, handler, path, pairs, params, includes) -> _Reply:
        chunk, refused = filtered_assets(self.account.assets, params)
        if refused is not None:
            return _invalid(refused, "Unexpected/invalid field in request", "invalid_field")
        return _Reply(200, {"assets": chunk})

    def _list_asset_types(self, handler, path, pairs, params, includes) -> _Reply:
        return self._paged(handler, path, pairs, params, "asset_types", sorted(self.account.assets.types.values(), key=lambda item: item["id"]))

    def _visible_ticket(self, ticket_id: str) -> dict | _Reply:
        ticket = self.account.tickets.get(int(ticket_id))
        if ticket is None or ticket["deleted"]:
            return _Reply(404, ERROR_BODIES[404])
        if ticket["department_id"] in self.settings.failing_department_ids:
            return _Reply(500, ERROR_BODIES[500])
        return ticket

    def _view_ticket(self, handler, path, pairs, params, includes, ticket_id) -> _Reply:
        unknown = [include for include in includes if include not in VIEW_INCLUDES]
        if unknown:
            return _invalid("include", "Unexpected/invalid field in request", "invalid_field")
        if "requester" in includes and self.settings.forbidden_requesters:
            return _Reply(403, ERROR_BODIES[403])
        ticket = self._visible_ticket(ticket_id)
        if isinstance(ticket, _Reply):
            return ticket
        return _Reply(200, {"ticket": self._shape_ticket(ticket, None, includes)})

    def _ticket_conversations(self, handler, path, pairs, params, includes, ticket_id) -> _Reply:
        ticket = self._visible_ticket(ticket_id)
        if isinstance(ticket, _Reply):
            return ticket
        return self._paged(handler, path, pairs, params, "conversations", self._conversations(ticket["id"]))

    def _conversations(self, ticket_id: int) -> list[dict]:
        conversations = self.account.conversations.get(ticket_id, [])
        if self.settings.csat_without_feedback:
            return [conversation for conversation in conversations if conversation.get("source") != FEEDBACK_SOURCE]
        return conversations

    def _ticket_time_entries(self, handler, path, pairs, params, includes, ticket_id) -> _Reply:
        ticket = self._visible_ticket(ticket_id)
        if isinstance(ticket, _Reply):
            return ticket
        return self._paged(handler, path, pairs, params, "time_entries",
                           self.account.time_entries.get(ticket["id"], []))

    def _ticket_csat(self, handler, path, pairs, params, includes, ticket_id) -> _Reply:
        ticket = self._visible_ticket(ticket_id)
        if isinstance(ticket, _Reply):
            return ticket
        response = self.account.csat.get(ticket["id"])
        if response is None:
            return _Reply(404, ERROR_BODIES[404])
        return _Reply(200, {"csat_response": response})


_ROUTES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(rf"^{API_PREFIX}/tickets/filter$"), "tickets.filter", "_filter_tickets"),
    (re.compile(rf"^{API_PREFIX}/tickets$"), "tickets.list", "_list_tickets"),
    (re.compile(rf"^{API_PREFIX}/tickets/(\d+)$"), "tickets.view", "_view_ticket"),
    (re.compile(rf"^{API_PREFIX}/tickets/(\d+)/conversations$"), "tickets.conversations",
     "_ticket_conversations"),
    (re.compile(rf"^{API_PREFIX}/tickets/(\d+)/time_entries$"), "tickets.time_entries",
     "_ticket_time_entries"),
    (re.compile(rf"^{API_PREFIX}/tickets/(\d+)/csat_response$"), "tickets.csat_response",
     "_ticket_csat"),
    (re.compile(rf"^{API_PREFIX}/departments$"), "departments", "_list_departments"),
    (re.compile(rf"^{API_PREFIX}/departments/(\d+)$"), "departments", "_view_department"),
    (re.compile(rf"^{API_PREFIX}/companies$"), "companies", "_list_companies"),
    (re.compile(rf"^{API_PREFIX}/companies/(\d+)$"), "companies", "_view_company"),
    (re.compile(rf"^{API_PREFIX}/agents$"), "agents", "_list_agents"),
    (re.compile(rf"^{API_PREFIX}/agents/(\d+)$"), "agents", "_view_agent"),
    (re.compile(rf"^{API_PREFIX}/requesters$"), "requesters", "_list_requesters"),
    (re.compile(rf"^{API_PREFIX}/requesters/(\d+)$"), "requesters", "_view_requester"),
    (re.compile(rf"^{API_PREFIX}/ticket_form_fields$"), "ticket_form_fields", "_ticket_form_fields"),
    (re.compile(rf"^{API_PREFIX}/workspaces$"), "workspaces", "_list_workspaces"),
    (re.compile(rf"^{API_PREFIX}/assets$"), "assets", "_list_assets"),
    (re.compile(rf"^{API_PREFIX}/asset_types$"), "asset_types", "_list_asset_types"),
    (re.compile(rf"^{API_PREFIX}/workspaces/(\d+)$"), "workspaces", "_view_workspace"),
]


# --------------------------------------------------------------------------- command line


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.freshservice",
        description="Serve a simulated Freshservice API v2 with the demo account on a local port.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port (default 8089; 0 picks a free one)")
    parser.add_argument("--key", default=SimulatorSettings.api_key, help="API key the simulator accepts")
    parser.add_argument("--rate-limit", type=int, default=None, metavar="N",
                        help="credits per window (default: unlimited)")
    parser.add_argument("--window", type=float, default=60.0, metavar="S",
                        help="rate-limit window in seconds (default 60)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="S",
                        help="seconds added to every response")
    parser.add_argument("--now", default=None,
                        help="the demo account's current time, e.g. 2026-11-26T12:00:00Z (default: now)")
    parser.add_argument("--seed", type=int, default=2026, help="demo account seed (default 2026)")
    parser.add_argument("--edition", choices=("classic", "msp"), default="classic",
                        help="classic (clients are departments, the default) or msp (Freshservice for MSPs: "
                             "each demo client becomes a workspace)")
    return parser.parse_args(argv)


DEMO_KEY = "demo-key-not-secret"
# The demo's account budget (credits a minute). Its backfill of five months plus the month costs about
# 8,600 credits; under the simulator's default 5,000 the run paced itself one request at a time for
# half a minute once 90% was spent. The pacing has its own tests; the demo shows the reports.
DEMO_CREDITS_PER_MINUTE = 20_000


def start_demo_source(home: Path) -> tuple[Simulator, Connected]:
    """For `pull_info.py --demo` (Freshservice's `demo`): the demo account served on 127.0.0.1 and the source reading it."""
    simulator = Simulator(account=build_demo_account(), settings=SimulatorSettings(api_key=DEMO_KEY, rate_limit_total=DEMO_CREDITS_PER_MINUTE))
    url = simulator.start()
    client = FreshserviceClient(url, DEMO_KEY)
    return simulator, Connected(FRESHSERVICE, with_url(Settings(home=home, path=home / SETTINGS_FILE), url), client)


def main(argv: list[str] | None = None) -> int:
    """Run the simulator with the demo account until Ctrl-C."""
    args = _parse_args(argv)

    try:
        now = to_utc(args.now) if args.now else None
    except ValueError:
        print(f"error: --now {args.now!r} is not an ISO 8601 date or datetime", file=sys.stderr)
        return 2
    account = build_demo_account(now=now, seed=args.seed)
    if args.edition == "msp":
        account.departments_as_workspaces()
    settings = SimulatorSettings(api_key=args.key, rate_limit_total=args.rate_limit,
                                 rate_window_seconds=args.window, latency_seconds=args.latency, edition=args.edition)
    simulator = Simulator(account, settings, host=args.host, port=args.port)
    try:
        url = simulator.start()
    except OSError as problem:
        print(f"error: cannot listen on {args.host}:{args.port}: {problem.strerror or problem}",
              file=sys.stderr)
        return 1
    return simulator.serve_until_stopped(
        f"Freshservice simulator serving {url}/api/v2 ({len(account.departments)} departments, {len(account.tickets)} tickets, "
        f"now {format_timestamp(account.now)})\nAPI key: {settings.api_key}\nPress Ctrl-C to stop.")

if __name__ == "__main__":
    sys.exit(main())

