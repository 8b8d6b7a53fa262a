"""Pull one client's month from Freshservice into raw_data/freshservice_CLIENT_ID.json.

    python data_pullers/freshservice.py CLIENT_ID [--type department|company|workspace] [--month YYYY-MM] [--tz ZONE] [--workers N]

Two editions: on a classic account a client is a department (or company) and its tickets are
found by `department_id`; on Freshservice for MSPs a client is a workspace, and every ticket list,
filter and form-field call names the workspace it is about (`workspace_id`; 0 for the whole
account), since a call without it answers for the primary workspace only.

How it stays cheap (Freshservice credits are shared by every integration of the account):
- the client's tickets are found with /tickets/filter (30 tickets for one credit): those updated
  since the day before the period, plus those open now (an old ticket open at the period's end may
  not have been touched since);
- stats, requester and tags come from one account-wide list sweep (`include=stats,requester,tags`,
  7 credits for 100 tickets) when that is cheaper than asking ticket by ticket (4 credits each);
- per ticket: one conversations call and one time-entries call (100 a page); the CSAT call only
  for tickets with a feedback conversation, since every other ticket would answer 404 (but see
  `fetch_unhinted_csat` for accounts whose surveys leave no such conversation);
- the six-month trend comes from the filter's `total`, one credit a month.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from utils.core import clock
from utils.core.cli import build_parser, clean_text, run_main
from utils.core.config import COMPANIES_FILE, RAW_DIR, ensure_writable_dir
from utils.core.errors import EXIT_OK, APIError, ConfigError, DataError, ForbiddenError, NotFoundError, ValidationFailed
from utils.core.files import is_valid_id, read_json, safe_child, write_json_atomic
from utils.core.period import Period, report_period, resolve_timezone
from utils.core.settings import load_settings
from utils.services.freshservice_client import FILTER_PAGE_CAP, FILTER_PAGE_SIZE, LIST_PAGE_SIZE, FreshserviceClient, client_from_settings
from utils.services.tickets import PRIORITY_LABELS, SOURCE_LABELS, STATUS_LABELS, parse_timestamp, resolved_time, time_entry_moment

log = logging.getLogger("freshservice")
T = TypeVar("T")

SCHEMA_VERSION = 1
DEFAULT_WORKERS = 4
TREND_MONTHS = 6

RESOLVED_STATUSES = {4, 5}
FEEDBACK_SOURCE = 5  # conversation source of a submitted satisfaction survey
CSAT_PROBES = 3  # resolved tickets asked for a survey before a month without feedback conversations counts as surveyless

# Credit prices (freshservice-api.md Part 1): a list call costs 1 + 2 per include, a view 1 + 1 per include.
SWEEP_INCLUDES = ("stats", "requester", "tags")
VIEW_INCLUDES = ("stats", "requester", "tags", "conversations")
EMBEDDED_CONVERSATIONS_MAX = 10  # include=conversations embeds at most the first ten
VIEW_COST = 1 + len(SWEEP_INCLUDES)  # stats, requester and tags for one ticket by view

FILTER_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # lower bound when splitting an open-ended window

ENTITY_TYPES = ("department", "company", "workspace")
CLASSIC, MSP = "classic", "msp"  # Freshservice editions: clients are departments, or workspaces (Freshservice for MSPs)
ALL_WORKSPACES = {"workspace_id": 0}  # Freshservice for MSPs: an account-wide call must say so
MSP_WORKSPACE_ID = "3"  # the MSP's own workspace, never a client
MSP_WORKSPACE_REFUSED = "workspace 3 is the MSP's own workspace, not a client (see companies_list.json)"


# -- the period --------------------------------------------------------------------------------

# -- small helpers on ticket data --------------------------------------------------------------

def filter_time(moment: datetime) -> str:
    """A datetime as the filter query wants it: quoted later, UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def core_reason(ticket: dict, period: Period) -> bool:
    """Created in the period, resolved in it, or open at its end: decidable from the ticket and its stats."""
    created = parse_timestamp(ticket.get("created_at"))
    if created is None or created >= period.end:
        return False
    resolved = resolved_time(ticket)
    return period.contains(created) or period.contains(resolved) or not (resolved is not None and resolved < period.end)


def touches_period(ticket: dict, period: Period) -> bool:
    """Whether the raw data must hold this ticket (report-metrics.md, 'Which tickets the raw data must hold')."""
    if core_reason(ticket, period):
        return True
    if any(period.contains(time_entry_moment(entry)) for entry in ticket.get("time_entries") or []):
        return True
    csat = ticket.get("csat")
    return isinstance(csat, dict) and period.contains(parse_timestamp(csat.get("created_at")))


# -- what one run shares between clients -------------------------------------------------------

@dataclass
class AccountContext:
    """Reference data and the ticket sweep, fetched once per run and shared by every client pulled in it."""

    client: FreshserviceClient
    status_labels: dict[int, str] = field(default_factory=lambda: dict(STATUS_LABELS))
    source_labels: dict[int, str] = field(default_factory=lambda: dict(SOURCE_LABELS))
    agents: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    requesters_forbidden: bool = False
    sweep_since: datetime | None = None
    sweep_created_before: datetime | None = None
    sweep: dict[int, dict] = field(default_factory=dict)
    open_tickets_until: datetime | None = None
    open_tickets: dict[int, dict] = field(default_factory=dict)
    departments: dict[str, dict] = field(default_factory=dict)
    sweep_failed: bool = False  # the batch's shared sweep failed: each client uses its own filter queries
    department_filter_refused: bool = False  # the ticket filter answered 400 for department_id (not a documented field)
    list_tags_refused: bool = False  # GET /tickets answered 400 for include=tags: swept tickets come without tags
    surveys_leave_feedback: bool | None = None  # None: not known yet; False: a survey was found with no feedback conversation
    created_list_window: tuple[datetime, datetime] | None = None
    created_list: list[dict] = field(default_factory=list)
    edition: str = CLASSIC  # MSP: clients are workspaces (Freshservice for MSPs)
    workspaces: dict[str, dict] = field(default_factory=dict)
    _loaded: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load_reference_data(self) -> None:
        """Ticket form fields (custom status and source labels) and agents' names, once."""
        if self._loaded:
            return
        self._loaded = True
        try:
            body = self.client.get_json("ticket_form_fields", self.account_params or None)
            for form_field in body.get("ticket_fields", []) if isinstance(body, dict) else []:
                labels = {"status": self.status_labels, "source": self.source_labels}.get(form_field.get("name"))
                if labels is None:
                    continue
                for choice in form_field.get("choices") or []:
                    if isinstance(choice, dict) and isinstance(choice.get("id"), int) and choice.get("value"):
                        labels[choice["id"]] = str(choice["value"])
        except ForbiddenError:
            self.warnings.append("custom status labels are not available: the API key may not read ticket form fields (403)")
        try:
            for agent in self.client.paginate("agents", "agents"):
                name = " ".join(str(part) for part in (agent.get("first_name"), agent.get("last_name")) if part)
                if agent.get("id") is not None:
                    self.agents[str(agent["id"])] = name or str(agent.get("email") or f"Agent {agent['id']}")
        except ForbiddenError:
            self.warnings.append("agent names are not available: the API key may not read agents (403)")

    @property
    def account_params(self) -> dict[str, int]:
        """What an account-wide list or filter call carries: on Freshservice for MSPs, all workspaces."""
        return dict(ALL_WORKSPACES) if self.edition == MSP else {}

    @property
    def account_client(self) -> FreshserviceClient:
        """The client for account-wide ticket filters."""
        return self.client.in_workspace(ALL_WORKSPACES["workspace_id"]) if self.edition == MSP else self.client

    @property
    def client_field(self) -> str:
        """The ticket field naming the client: its workspace on Freshservice for MSPs, else its department."""
        return "workspace_id" if self.edition == MSP else "department_id"

    def client_scoped(self, client_id: int) -> FreshserviceClient:
        """The client for one client's ticket filters (on Freshservice for MSPs, in its workspace)."""
        return self.client.in_workspace(client_id) if self.edition == MSP else self.client

    def open_status_ids(self, seen: set[int]) -> list[int]:
        """Every status that is not resolved or closed: the built-in two plus custom ones."""
        ids = set(self.status_labels) | seen | {2, 3}
        return sorted(status for status in ids if status not in RESOLVED_STATUSES)

    def sweep_embeds(self) -> tuple[str, ...]:
        """What the account-wide list embeds: without tags where the account refuses them there."""
        return tuple(name for name in SWEEP_INCLUDES if not (name == "tags" and self.list_tags_refused))

    def includes(self, wanted: tuple[str, ...]) -> str:
        return ",".join(name for name in wanted if not (name == "requester" and self.requesters_forbidden))

    def with_includes(self, wanted: tuple[str, ...], call: Callable[[str], T]) -> T:
        """`call(include)` with the embeds we may read; when a 403 refuses the requester embed,
        say so once in the warnings and call again without it."""
        while True:
            include = self.includes(wanted)
            try:
                return call(include)
            except ForbiddenError:
                if "requester" not in include.split(","):
                    raise
                with self._lock:
                    if not self.requesters_forbidden:
                        self.requesters_forbidden = True
                        self.warnings.append("requester names are not available: the API key may not read requesters (403)")

    def refuses_department_filter(self, error: ValidationFailed) -> bool:
        """Whether `error` is this account's ticket filter refusing department_id, which is not in its
        documented field list (freshservice-api.md section 3.3); from then on every client's tickets
        come from the account-wide lists, grouped locally. Said once a run."""
        if "department_id" not in error.fields:
            return False
        if not self.department_filter_refused:
            self.department_filter_refused = True
            log.warning("this helpdesk refuses department_id in ticket filters (400); clients' tickets are taken "
                        "from the account-wide ticket list instead (same tickets, more credits)")
        return True

    def tickets_created_between(self, low: datetime, high: datetime) -> list[dict]:
        """Every ticket of the account created in [low, high), for trends where the filter refuses
        department_id: from the sweep when it covers them, else one list without embeds (a credit a hundred)."""
        if self.sweep_covers(low, high):
            source: Iterable[dict] = self.sweep.values()
        else:
            window = self.created_list_window
            if window is None or window[0] > low or window[1] < high:
                params = {**self.account_params, "updated_since": filter_time(low), "order_type": "asc"}  # created in the window: updated since its start
                self.created_list = list(self.client.paginate("tickets", "tickets", params, stop=OrderedStop(high)))
                self.created_list_window = (low, high)
            source = self.created_list
        return [t for t in source if low <= (parse_timestamp(t.get("created_at")) or high) < high]

    def sweep_covers(self, since: datetime, created_before: datetime) -> bool:
        return (self.sweep_since is not None and self.sweep_since <= since
                and self.sweep_created_before is not None and self.sweep_created_before >= created_before)

    def ensure_sweep(self, since: datetime, created_before: datetime) -> None:
        """One account-wide list of the tickets updated since `since` and created before `created_before`,
        with stats, requester and tags."""
        if self.sweep_covers(since, created_before):
            return

        def sweep(include: str) -> list[dict]:
            params = {**self.account_params, "updated_since": filter_time(since), "include": include, "order_type": "asc"}
            return list(self.client.paginate("tickets", "tickets", params, expected_cost=sweep_page_cost(include),
                                             stop=OrderedStop(created_before)))

        try:
            tickets = self.with_includes(self.sweep_embeds(), sweep)
        except ValidationFailed as error:
            if "include" not in error.fields or self.list_tags_refused:
                raise
            # include=tags is not in the 2025 docs' list of embeds for GET /tickets (section 4): an
            # account may refuse it. Ask again without; tickets viewed one by one still get theirs.
            self.list_tags_refused = True
            log.warning("this helpdesk refuses include=tags on the ticket list (400); tickets read from that list come without tags")
            tickets = self.with_includes(self.sweep_embeds(), sweep)
        self.sweep = {ticket["id"]: ticket for ticket in tickets if isinstance(ticket, dict) and "id" in ticket}
        self.sweep_since, self.sweep_created_before = since, created_before
        log.debug("sweep: %d tickets updated since %s", len(self.sweep), filter_time(since))

    def ensure_open_tickets(self, until: datetime) -> None:
        """Every ticket of the account open now and created before `until`, for all clients at once."""
        if self.open_tickets_until is not None and self.open_tickets_until >= until:
            return
        seen: set[int] = {t["status"] for t in self.sweep.values() if isinstance(t.get("status"), int)}
        base = "(" + " OR ".join(f"status:{status}" for status in self.open_status_ids(seen)) + ")"
        self.open_tickets = {t["id"]: t for t in fetch_filtered(self.account_client, base, "created_at", FILTER_EPOCH, until)}
        self.open_tickets_until = until

    def prepare_batch(self, period: Period) -> None:
        """Fetch once what every client of a batch needs: reference data, the department records,
        the sweep, the open tickets.

        Each client's record and candidates then come from these, with no call per client.
        """
        self.load_reference_data()
        if self.edition == MSP:
            self.workspaces = {str(w["id"]): w for w in self.client.paginate("workspaces", "workspaces") if isinstance(w, dict) and "id" in w}
        else:
            self.departments = {str(d["id"]): d for d in self.client.paginate("departments", "departments") if isinstance(d, dict) and "id" in d}
        self.ensure_sweep(period.start - timedelta(days=1), period.end + timedelta(days=1))
        self.ensure_open_tickets(period.end + timedelta(days=1))

    def sweep_cost(self, since: datetime, created_before: datetime) -> int:
        """What a sweep would cost at most, for one credit: the account's tickets updated since `since`
        and created before `created_before`, a hundred a page."""
        total = self.account_client.filter_total(f"updated_at:>'{filter_time(since)}' AND created_at:<'{filter_time(created_before)}'")
        return max(1, -(-total // LIST_PAGE_SIZE)) * sweep_page_cost(self.includes(self.sweep_embeds()))


def sweep_page_cost(include: str) -> int:
    """A list call costs one credit plus two per include."""
    return 1 + 2 * len([name for name in include.split(",") if name])


class OrderedStop:
    """Stops the sweep once it reaches tickets created after the window, if (and only if) the pages
    really come oldest-created first; the order of GET /tickets is not documented, so it is checked."""

    def __init__(self, created_before: datetime):
        self.created_before = created_before
        self.last: datetime | None = None
        self.in_order = True

    def __call__(self, page: list[dict]) -> bool:
        for ticket in page:
            created = parse_timestamp(ticket.get("created_at"))
            if created is None or (self.last is not None and created < self.last):
                self.in_order = False
            self.last = created or self.last
        return self.in_order and self.last is not None and self.last >= self.created_before


# -- finding the client and its tickets --------------------------------------------------------

def fetch_client_record(client: FreshserviceClient, client_id: str, entity_type: str = "department") -> tuple[dict, str]:
    """The department (or company) record, trying the other kind when the first answers 404."""
    if not is_valid_id(client_id):
        raise NotFoundError(f"client id must be a number, not {client_id!r} (see companies_list.json)")
    if entity_type == "workspace":
        return fetch_workspace_record(client, client_id), entity_type
    kinds = [entity_type, "company" if entity_type == "department" else "department"]
    for kind in kinds:
        resource = "companies" if kind == "company" else "departments"
        try:
            body = client.get_json(f"{resource}/{client_id}")
        except NotFoundError:
            continue
        record = body.get(kind) if isinstance(body, dict) else None
        if isinstance(record, dict):
            return record, kind
    raise NotFoundError(f"no department or company with id {client_id} in this helpdesk (see companies_list.json; "
                        "a Freshservice for MSPs client is --type workspace)")


def fetch_workspace_record(client: FreshserviceClient, client_id: str) -> dict:
    """A client workspace of Freshservice for MSPs (never workspace 3, the MSP itself)."""
    if client_id == MSP_WORKSPACE_ID:
        raise DataError(MSP_WORKSPACE_REFUSED)
    try:
        body = client.get_json(f"workspaces/{client_id}")
    except NotFoundError:
        raise NotFoundError(f"no workspace with id {client_id} in this helpdesk (see companies_list.json)") from None
    record = body.get("workspace") if isinstance(body, dict) else None
    if not isinstance(record, dict):
        raise APIError(f"unexpected answer for workspace {client_id}: no 'workspace' object", path=f"/api/v2/workspaces/{client_id}")
    return record


def describe_client(record: dict, entity_type: str) -> dict:
    """The client as the raw file carries it: the record plus the names the report uses."""
    # A workspace keeps its custom fields under `metadata`.
    custom = record.get("custom_fields") or (record.get("metadata") or {}).get("custom_fields") or {}
    client_type = next((custom[key] for key in ("type_of_client", "client_type", "type") if custom.get(key)), None)
    return {**record, "entity_type": entity_type, "client_type": client_type,
            "prime_user_name": record.get("prime_user_name"), "head_name": record.get("head_name")}


def range_query(base: str, field_name: str, low: datetime, high: datetime) -> str:
    """`base` narrowed to `low <= field_name <= high` (the filter's :> and :< are inclusive)."""
    return f"{base} AND {field_name}:>'{filter_time(low)}' AND {field_name}:<'{filter_time(high)}'"


def fetch_filtered(client: FreshserviceClient, base: str, field_name: str, low: datetime, high: datetime,
                   first: tuple[list[dict], int] | None = None) -> list[dict]:
    """Every ticket matching `range_query(...)`, splitting the window past the page cap.

    `first` is page 1 of that same query when the caller already has it.
    """
    query = range_query(base, field_name, low, high)
    page_tickets, total = first if first is not None else client.filter_page(query, 1)
    if total > FILTER_PAGE_CAP * FILTER_PAGE_SIZE:
        if high - low <= timedelta(seconds=1):
            raise APIError(f"more than {FILTER_PAGE_CAP * FILTER_PAGE_SIZE} tickets share one second of {field_name}; cannot page through them")
        # The filter returns at most 10 pages: halve the window until each half fits.
        middle = (low + (high - low) / 2).replace(microsecond=0)
        return (fetch_filtered(client, base, field_name, low, middle)
                + fetch_filtered(client, base, field_name, middle + timedelta(seconds=1), high))
    for attempt in range(2):
        tickets, total = client.filter_tickets(query, first=(page_tickets, total) if attempt == 0 else None)
        if len(tickets) >= total:
            return tickets
        # Results are newest first, so a ticket created while we paged shifts the pages: read them again.
        log.debug("filter total moved while paging (%d of %d); reading again", len(tickets), total)
    raise APIError(f"the filter counted {total} tickets but its pages held {len(tickets)}; stopping rather than writing an incomplete file")


def discover_tickets(context: AccountContext, client_record: dict, period: Period, now: datetime) -> dict[int, dict]:
    """Every ticket of the client that may touch the period, keyed by id (filter or sweep records).

    That is every ticket updated since the day before the period (creating, resolving, logging
    time and rating all update a ticket), plus every ticket open now, which may not have been
    touched since before the period yet was open at its end.
    """
    client = context.client_scoped(client_record["id"])
    department = f"{context.client_field}:{client_record['id']}"
    since, until = period.start - timedelta(days=1), period.end + timedelta(days=1)
    recent_base = f"{department} AND created_at:<'{filter_time(until)}'"
    if context.sweep_covers(since, until):
        # A sweep shared by several months starts earlier than this one: keep what this month's own query would find.
        found = {ticket_id: t for ticket_id, t in context.sweep.items() if t.get(context.client_field) == client_record["id"]
                 and (parse_timestamp(t.get("updated_at")) or until) >= since}
    else:
        first = client.filter_page(range_query(recent_base, "updated_at", since, now + timedelta(days=1)), 1)
        client_total = first[1]
        # Stats, requester and tags cost 4 credits a ticket by view; a sweep of the whole account's
        # recent tickets costs 7 credits a hundred. Ask what the sweep would cost only when it could win.
        if not context.sweep_failed and VIEW_COST * client_total > sweep_page_cost(context.includes(context.sweep_embeds())) \
                and context.sweep_cost(since, until) < VIEW_COST * client_total:
            context.ensure_sweep(since, until)
            found = {ticket_id: t for ticket_id, t in context.sweep.items() if t.get(context.client_field) == client_record["id"]}
        else:
            found = {t["id"]: t for t in fetch_filtered(client, recent_base, "updated_at", since, now + timedelta(days=1), first)}
    if context.open_tickets_until is not None and context.open_tickets_until >= until:
        open_now = [t for t in context.open_tickets.values() if t.get(context.client_field) == client_record["id"]]
    else:
        seen_statuses: set[int] = {t["status"] for t in found.values() if isinstance(t.get("status"), int)}
        statuses = " OR ".join(f"status:{status}" for status in context.open_status_ids(seen_statuses))
        open_now = fetch_filtered(client, f"{department} AND ({statuses})", "created_at", FILTER_EPOCH, until)
    for ticket in open_now:
        found.setdefault(ticket["id"], ticket)
    return {
        ticket_id: ticket for ticket_id, ticket in found.items()
        if ticket.get(context.client_field) == client_record["id"]  # never another client's ticket
        and not ticket.get("spam") and not ticket.get("deleted")
        and (parse_timestamp(ticket.get("created_at")) or period.end) < period.end
    }


def find_tickets(context: AccountContext, client_record: dict, period: Period, now: datetime) -> dict[int, dict]:
    """`discover_tickets`, or where the ticket filter refuses department_id (not a documented filter
    field, freshservice-api.md section 3.3), the same tickets from the account-wide lists."""
    if not context.department_filter_refused:
        try:
            return discover_tickets(context, client_record, period, now)
        except ValidationFailed as error:
            if not context.refuses_department_filter(error):
                raise
    since, until = period.start - timedelta(days=1), period.end + timedelta(days=1)
    context.ensure_sweep(since, until)
    context.ensure_open_tickets(until)
    # What discover_tickets keeps, grouped locally by the client's field.
    found = {ticket_id: t for ticket_id, t in context.sweep.items() if (parse_timestamp(t.get("updated_at")) or until) >= since}
    found.update({ticket_id: t for ticket_id, t in context.open_tickets.items() if ticket_id not in found})
    return {
        ticket_id: ticket for ticket_id, ticket in found.items()
        if ticket.get(context.client_field) == client_record["id"]
        and not ticket.get("spam") and not ticket.get("deleted")
        and (parse_timestamp(ticket.get("created_at")) or period.end) < period.end
    }


# -- per-ticket detail ---------------------------------------------------------------------------

def fetch_ticket_view(context: AccountContext, ticket_id: int) -> dict:
    """One ticket with stats, requester, tags and its first ten conversations, in one call."""
    body = context.with_includes(VIEW_INCLUDES, lambda include: context.client.get_json(
        f"tickets/{ticket_id}", {"include": include}, expected_cost=1 + len(include.split(","))))
    ticket = body.get("ticket") if isinstance(body, dict) else None
    if not isinstance(ticket, dict):
        raise APIError(f"unexpected answer for ticket {ticket_id}: no 'ticket' object", path=f"/api/v2/tickets/{ticket_id}")
    return ticket


def has_feedback(ticket: dict) -> bool:
    """Whether the ticket has a feedback conversation, the cheap hint that a survey was answered."""
    return any(isinstance(c, dict) and c.get("source") == FEEDBACK_SOURCE for c in ticket.get("conversations") or [])


def fetch_csat(client: FreshserviceClient, ticket_id: int, probe: bool = False) -> dict | None:
    """The ticket's survey answer, or None when it has none (Freshservice answers 404: a credit all the same)."""
    client.count(csat_requests=1, csat_probes=int(probe))
    try:
        body = client.get_json(f"tickets/{ticket_id}/csat_response")
    except NotFoundError:
        return None
    return body.get("csat_response") if isinstance(body, dict) else None


def fetch_unhinted_csat(context: AccountContext, tickets: list[dict], period: Period, workers: int) -> None:
    """Survey answers that left no feedback conversation, into the tickets' `csat`.

    The docs never promise that an answered survey leaves a `source: 5` conversation
    (freshservice-api.md Part 1). So when none of the client's tickets has one yet some were
    resolved in the period, up to CSAT_PROBES of those are asked (a credit each); if one answers,
    the account's surveys leave no hint and every resolved ticket is asked, for this client and the
    run's later ones. Once a feedback conversation has been seen, the hint is trusted.
    """
    if context.surveys_leave_feedback is None and any(has_feedback(ticket) for ticket in tickets):
        context.surveys_leave_feedback = True
    if context.surveys_leave_feedback:
        return
    unanswered = [ticket for ticket in tickets if ticket.get("csat") is None and
                  (resolved_time(ticket) is not None or ticket.get("status") in RESOLVED_STATUSES)]
    asked: set[int] = set()
    if context.surveys_leave_feedback is None:
        # The earliest resolved first: their requesters have had the longest to answer.
        resolved_in_period = sorted((t for t in unanswered if period.contains(resolved_time(t))), key=lambda t: resolved_time(t) or period.end)
        for ticket in resolved_in_period[:CSAT_PROBES]:
            asked.add(ticket["id"])
            ticket["csat"] = fetch_csat(context.client, ticket["id"], probe=True)
            if ticket["csat"] is not None:
                log.info("survey answers leave no feedback conversation on this helpdesk; asking every resolved ticket")
                context.surveys_leave_feedback = False
                break
    if context.surveys_leave_feedback is not False:
        return
    rest = [ticket for ticket in unanswered if ticket["id"] not in asked]
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="csat") as pool:
        for ticket, csat in zip(rest, pool.map(lambda t: fetch_csat(context.client, t["id"]), rest), strict=True):
            ticket["csat"] = csat


def fetch_time_entries(client: FreshserviceClient, ticket_id: int) -> list[dict]:
    return sorted(client.paginate(f"tickets/{ticket_id}/time_entries", "time_entries"),
                  key=lambda e: (e.get("executed_at") or e.get("created_at") or "", e.get("id") or 0))


class TicketGone(NotFoundError):
    """A ticket found by the discovery answered 404 when its details were read: deleted meanwhile."""

    def __init__(self, ticket_id: Any):
        super().__init__(f"ticket {ticket_id} was deleted while the month was being read (404); it is left out",
                         404, f"/api/v2/tickets/{ticket_id}")
        self.ticket_id = ticket_id


# What a raw file keeps of a conversation: who, when, and what kind (the metrics read incoming,
# private and source). The text stays in Freshservice: raw files are archived month after month.
CONVERSATION_KEYS = ("id", "incoming", "private", "source", "user_id", "created_at", "updated_at")
CONVERSATION_TEXT_KEYS = ("body", "body_text")
TICKET_TEXT_KEYS = ("description", "description_text")


def conversation_metadata(conversation: dict, keep_public_text: bool = False) -> dict:
    """A conversation without its text (with it, when asked, for a public one; never a private note's)."""
    kept = {key: conversation.get(key) for key in CONVERSATION_KEYS if key in conversation}
    if keep_public_text and conversation.get("private") is False:
        kept.update({key: conversation[key] for key in CONVERSATION_TEXT_KEYS if key in conversation})
    return kept


def fetch_ticket_details(context: AccountContext, ticket: dict, side_pool: ThreadPoolExecutor | None = None,
                         keep_conversation_text: bool = False) -> dict:
    """Complete one ticket: stats/requester/tags (from the sweep or a view), conversations, time entries, CSAT.

    The time entries do not depend on anything else, so they are fetched on `side_pool` meanwhile.
    Raises TicketGone when the ticket answers 404 (deleted since it was found).
    """
    try:
        return _fetch_ticket_details(context, ticket, side_pool, keep_conversation_text)
    except TicketGone:
        raise
    except NotFoundError:
        raise TicketGone(ticket["id"]) from None


def _fetch_ticket_details(context: AccountContext, ticket: dict, side_pool: ThreadPoolExecutor | None,
                          keep_conversation_text: bool) -> dict:
    client = context.client
    ticket_id = ticket["id"]
    time_entries = side_pool.submit(fetch_time_entries, client, ticket_id) if side_pool else None
    swept = context.sweep.get(ticket_id)
    embedded: list[dict] | None = None
    if swept is not None:
        record = {**ticket, **swept}
    else:
        viewed = fetch_ticket_view(context, ticket_id)
        embedded = viewed.pop("conversations", None)
        record = {**ticket, **viewed}
    if embedded is not None and len(embedded) < EMBEDDED_CONVERSATIONS_MAX:
        conversations = embedded  # the embed held them all: no conversations call needed
    else:
        conversations = list(client.paginate(f"tickets/{ticket_id}/conversations", "conversations"))
    record["conversations"] = [conversation_metadata(c, keep_conversation_text)
                                for c in sorted(conversations, key=lambda c: (c.get("created_at") or "", c.get("id") or 0))
                                if isinstance(c, dict)]
    for key in TICKET_TEXT_KEYS:
        record.pop(key, None)
    record["time_entries"] = time_entries.result() if time_entries else fetch_time_entries(client, ticket_id)
    record["csat"] = fetch_csat(client, ticket_id) if has_feedback(record) else None
    record.setdefault("stats", None)
    # A swept ticket has no tags where the account refuses include=tags on the list: unknown, not none.
    record.setdefault("tags", None if swept is not None and context.list_tags_refused else [])
    requester = record.get("requester")
    record["requester"] = ({"id": requester.get("id"), "name": requester.get("name"), "email": requester.get("email")}
                           if isinstance(requester, dict) else None)
    record["status_text"] = _coded(context.status_labels, record.get("status"), "Status")
    record["priority_text"] = _coded(PRIORITY_LABELS, record.get("priority"), "Priority")
    record["source_text"] = _coded(context.source_labels, record.get("source"), "Source")
    return record


class Progress:
    """A live line on a terminal; a few plain log lines otherwise."""

    def __init__(self, total: int, client: FreshserviceClient, label: str, log_level: int = logging.INFO):
        self.total, self.client, self.label, self.log_level = total, client, clean_text(label), log_level  # a server's name, raw to a tty
        self.credits_before = client.counters.credits
        self.done = 0
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty() and log.isEnabledFor(logging.INFO)
        self._lock = threading.Lock()
        self._next_log = 0.25

    def step(self) -> None:
        with self._lock:
            self.done += 1
            elapsed = time.monotonic() - self.started
            left = elapsed / self.done * (self.total - self.done)
            credits = self.client.counters.credits - self.credits_before
            line = f"{self.label}: {self.done}/{self.total} tickets, {credits} credits, ~{left:.0f} s left"
            if self.tty:
                sys.stderr.write("\r" + line + " " * 8)
                if self.done == self.total:
                    sys.stderr.write("\n")
                sys.stderr.flush()
            elif self.total and self.done / self.total >= self._next_log:
                self._next_log += 0.25
                log.log(self.log_level, line)



def _coded(labels: Mapping[int, str], code: Any, prefix: str) -> str:
    """The label of a numeric code, or 'Status 7' for a code the labels do not know."""
    return labels.get(code, f"{prefix} {code}") if isinstance(code, int) else f"{prefix} {code}"

def fetch_all_details(context: AccountContext, tickets: list[dict], workers: int, label: str,
                      progress_level: int = logging.INFO, warnings: list[str] | None = None,
                      keep_conversation_text: bool = False) -> list[dict]:
    """Complete every ticket with bounded worker threads; the first failure stops the lot.

    A ticket deleted since it was found is left out with a line in `warnings`.
    """
    progress = Progress(len(tickets), context.client, label, progress_level)
    results: list[dict] = []
    if not tickets:
        return results
    # `workers` tickets at a time; each also fetches its time entries on the side pool, so up to
    # twice as many requests are in flight. All of them share the client's rate-limit pacing.
    # With one worker, everything goes one request at a time.
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ticket")
    side_pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ticket-side") if workers > 1 else None
    try:
        futures = [pool.submit(fetch_ticket_details, context, ticket, side_pool, keep_conversation_text) for ticket in tickets]
        gone: list[TicketGone] = []
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            for future in finished:
                error = future.exception()
                if isinstance(error, TicketGone):
                    gone.append(error)
                elif error is not None:
                    raise APIError(f"ticket details could not be fetched, so no file was written: {error}") from error
                progress.step()
        if gone and len(gone) == len(tickets) > 1:
            # Every ticket gone at once is not deletions but an endpoint this account lacks.
            raise APIError(f"ticket details could not be fetched, so no file was written: every ticket answered 404 ({gone[0]})")
        results = [future.result() for future in futures if not isinstance(future.exception(), TicketGone)]
        for error in sorted(gone, key=lambda e: str(e.ticket_id)):
            log.warning("%s: %s", clean_text(label), error)
            if warnings is not None:
                warnings.append(str(error))
    finally:
        # On an error or Ctrl-C, drop the queued work instead of finishing it.
        pool.shutdown(wait=True, cancel_futures=True)
        if side_pool is not None:
            side_pool.shutdown(wait=True, cancel_futures=True)
    return results


# -- the whole pull --------------------------------------------------------------------------

def fetch_trend(client: FreshserviceClient, client_record: dict, period: Period, created_this_month: int,
                client_field: str = "department_id") -> list[dict]:
    """Tickets created in each of the six months ending with the report month.

    One filter query over the five earlier months; when they hold few tickets, reading those pages
    and counting locally is cheapest, otherwise each month's `total` costs one credit.
    """
    zone = ZoneInfo(period.timezone)
    starts = [(period.start.replace(tzinfo=None) - relativedelta(months=back)).replace(tzinfo=zone) for back in range(TREND_MONTHS - 1, -1, -1)]
    months = [f"{start.year:04d}-{start.month:02d}" for start in starts]
    base = f"{client_field}:{client_record['id']}"
    last_second = timedelta(seconds=1)
    first = client.filter_page(range_query(base, "created_at", starts[0], period.start - last_second), 1)
    counts: dict[str, int] = dict.fromkeys(months[:-1], 0)
    if -(-first[1] // FILTER_PAGE_SIZE) <= TREND_MONTHS - 2:
        for ticket in fetch_filtered(client, base, "created_at", starts[0], period.start - last_second, first):
            created = parse_timestamp(ticket.get("created_at"))
            if created is not None:
                local = created.astimezone(zone)
                counts[f"{local.year:04d}-{local.month:02d}"] = counts.get(f"{local.year:04d}-{local.month:02d}", 0) + 1
    else:
        for month, start, end in zip(months[:-1], starts[:-1], starts[1:], strict=True):
            counts[month] = client.filter_total(range_query(base, "created_at", start, end - last_second))
    trend = [{"month": month, "created": counts.get(month, 0), "resolved": None} for month in months[:-1]]
    # The report month's count comes from the tickets themselves, so it matches the report exactly.
    trend.append({"month": period.month, "created": created_this_month, "resolved": None})
    return trend


def trend_for(context: AccountContext, client_record: dict, period: Period, created_this_month: int) -> list[dict]:
    """`fetch_trend`, or where the ticket filter refuses department_id, the same counts from the
    account's tickets of those months, grouped locally."""
    if not context.department_filter_refused:
        try:
            return fetch_trend(context.client_scoped(client_record["id"]), client_record, period, created_this_month,
                               context.client_field)
        except ValidationFailed as error:
            if not context.refuses_department_filter(error):
                raise
    zone = ZoneInfo(period.timezone)
    first = (period.start.replace(tzinfo=None) - relativedelta(months=TREND_MONTHS - 1)).replace(tzinfo=zone)
    counts: Counter[str] = Counter()
    for ticket in context.tickets_created_between(first, period.start):
        created = parse_timestamp(ticket.get("created_at"))
        if created is not None and ticket.get(context.client_field) == client_record["id"]:
            counts[created.astimezone(zone).strftime("%Y-%m")] += 1
    months = [(first.replace(tzinfo=None) + relativedelta(months=n)).strftime("%Y-%m") for n in range(TREND_MONTHS - 1)]
    return [*({"month": month, "created": counts[month], "resolved": None} for month in months),
            {"month": period.month, "created": created_this_month, "resolved": None}]


def pull_client_month(context: AccountContext, client_id: str, period: Period, entity_type: str = "department",
                      workers: int = DEFAULT_WORKERS, now: datetime | None = None, progress_level: int = logging.INFO,
                      keep_conversation_text: bool = False) -> dict:
    """Everything about one client's tickets for `period`, as the raw-data document.

    Progress shows as a live line on a terminal, else as log lines at `progress_level`. The
    document keeps no conversation or description text; `keep_conversation_text` keeps that of
    public conversations (never of private notes).
    """
    client = context.client
    now = now or clock.now()
    if (entity_type == "workspace") != (context.edition == MSP):
        raise DataError(f"client {client_id} is a {entity_type}, but this run reads a "
                          f"{'Freshservice for MSPs' if context.edition == MSP else 'classic'} account (see companies_list.json)")
    cached = context.workspaces if entity_type == "workspace" else context.departments if entity_type == "department" else {}
    if str(client_id) in cached:
        client_record = cached[str(client_id)]
    else:
        client_record, entity_type = fetch_client_record(client, client_id, entity_type)
    name = client_record.get("name") or f"Client {client_id}"
    context.load_reference_data()
    candidates = find_tickets(context, client_record, period, now)
    log.debug("%s: %d candidate tickets for %s", name, len(candidates), period.label)
    skipped: list[str] = []
    detailed = fetch_all_details(context, sorted(candidates.values(), key=lambda t: t["id"]), workers, name, progress_level,
                                 skipped, keep_conversation_text)
    fetch_unhinted_csat(context, detailed, period, workers)
    tickets = [ticket for ticket in detailed if touches_period(ticket, period)]
    created = sum(1 for ticket in tickets if period.contains(parse_timestamp(ticket.get("created_at"))))
    trend = trend_for(context, client_record, period, created)
    warnings = [*context.warnings, *skipped]
    untagged = sum(1 for ticket in tickets if ticket.get("tags") is None)
    if untagged:
        warnings.append(f"the tags of {untagged} ticket{'s' if untagged != 1 else ''} are not available: this helpdesk refuses "
                        "include=tags on the ticket list (400), so proactive tickets may be undercounted")
    return {
        "schema_version": SCHEMA_VERSION,
        "source": "freshservice",
        "generated_at": clock.now().isoformat(timespec="seconds"),
        "freshservice_url": client.base_url,
        "client": describe_client(client_record, entity_type),
        "entity_type": entity_type,
        "period": period.as_dict(),
        "tickets": tickets,
        "trend": trend,
        "agents": dict(sorted(context.agents.items())),
        "warnings": warnings,
        "api_usage": client.counters.as_dict(),
    }


def raw_data_path(home: Path, client_id: str) -> Path:
    """raw_data/freshservice_<ID>.json; a DataError for an id that is not all digits (it names a file)."""
    if not is_valid_id(client_id):
        raise DataError(f"refusing client id {client_id!r} as a file name: ids are digits only")
    return safe_child(home / RAW_DIR, f"freshservice_{client_id}.json")


def listed_entity_type(home: Path, client_id: str) -> str:
    """What companies_list.json says the id names; "department" when the list is missing, unreadable or silent."""
    path = home / COMPANIES_FILE
    try:
        clients = read_json(path, "client list") if path.exists() else []
    except DataError as exc:
        log.warning("%s could not be read (%s); taking client %s as a department", path, exc, client_id)
        return "department"
    for entry in clients if isinstance(clients, list) else []:
        if isinstance(entry, dict) and str(entry.get("id")) == client_id and entry.get("entity_type") in ENTITY_TYPES:
            return str(entry["entity_type"])
    return "department"


def edition_of(clients: list[dict]) -> str:
    """The Freshservice edition a client list (companies_list.json) was read from."""
    return MSP if any(entry.get("entity_type") == "workspace" for entry in clients) else CLASSIC


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    period = report_period(args.month, resolve_timezone(args.tz, settings.timezone))
    if not is_valid_id(args.client_id):
        raise ConfigError(f"client id must be a number, not {args.client_id!r} (see companies_list.json)")
    if args.url:
        settings = settings.with_freshservice_url(args.url)
    client = client_from_settings(settings)
    ensure_writable_dir(settings.home / RAW_DIR, private=True)
    entity_type = args.type or listed_entity_type(settings.home, args.client_id)
    if entity_type == "workspace" and args.client_id == MSP_WORKSPACE_ID:
        raise ConfigError(MSP_WORKSPACE_REFUSED)
    context = AccountContext(client, edition=MSP if entity_type == "workspace" else CLASSIC)
    document = pull_client_month(context, args.client_id, period, entity_type, args.workers,
                                 keep_conversation_text=args.keep_conversation_text)
    path = write_json_atomic(raw_data_path(settings.home, args.client_id), document, private=True)
    usage = document["api_usage"]
    count = len(document["tickets"])
    log.info("%s, %s: %d ticket%s, %d credits in %d requests, %.1f s; wrote %s", document["client"]["name"], period.label,
             count, "" if count == 1 else "s", usage["credits"], usage["requests"], usage["seconds_total"], path)
    for warning in document["warnings"]:
        log.warning(warning)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("Pull one client's month of Freshservice tickets into raw_data/freshservice_CLIENT_ID.json.")
    parser.add_argument("client_id", metavar="CLIENT_ID", help="the department, company or workspace id, from companies_list.json")
    parser.add_argument("--type", choices=ENTITY_TYPES,
                        help="what the id names (default: as companies_list.json says, else department); "
                             "workspace: a client of the Freshservice for MSPs edition")
    parser.add_argument("--month", help="the month to pull, YYYY-MM (default: the previous full month)")
    parser.add_argument("--tz", help="the report time zone, an IANA name (default: [report] timezone or $REPORT_TIMEZONE, else the machine's zone)")
    parser.add_argument("--workers", type=positive_int, default=DEFAULT_WORKERS,
                        help=f"tickets fetched at once (default {DEFAULT_WORKERS}); 1 sends one request at a time")
    parser.add_argument("--keep-conversation-text", action="store_true",
                        help="keep the text of public conversations in the raw file (never of private notes); "
                             "by default raw files keep only who wrote when")
    return run_main(parser, run, argv)

