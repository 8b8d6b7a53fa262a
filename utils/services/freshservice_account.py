"""Freshservice: what one run shares between the clients it pulls (account context and the ticket sweep).

Reference data (status and source labels, agents' names), the account-wide ticket sweep and the
open tickets are read once a run and shared by every client; the ticket filter's query helpers
(`range_query`, `fetch_filtered`, which splits a window past the filter's 10-page cap) live here
because the sweep and the discovery both use them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from utils.core.errors import APIError, ForbiddenError, ValidationFailed
from utils.core.period import Period
from utils.services.freshservice_client import FILTER_PAGE_CAP, FILTER_PAGE_SIZE, LIST_PAGE_SIZE, FreshserviceClient, UsageCounters
from utils.services.freshservice_memo import TicketMemo
from utils.services.tickets import SOURCE_LABELS, STATUS_LABELS, parse_timestamp

log = logging.getLogger(__name__)
T = TypeVar("T")

RESOLVED_STATUSES = {4, 5}
# Credit prices (freshservice-api.md Part 1): a list call costs 1 + 2 per include, a view 1 + 1 per include.
SWEEP_INCLUDES = ("stats", "requester", "tags")
VIEW_COST = 1 + len(SWEEP_INCLUDES)  # stats, requester and tags for one ticket by view
FILTER_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # lower bound when splitting an open-ended window

CLASSIC, MSP = "classic", "msp"  # Freshservice editions: clients are departments, or workspaces (Freshservice for MSPs)
ALL_WORKSPACES = {"workspace_id": 0}  # Freshservice for MSPs: an account-wide call must say so


def filter_time(moment: datetime) -> str:
    """A datetime as the filter query wants it: quoted later, UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    _usage_mark: UsageCounters = field(init=False, repr=False)  # the client's counters when this context's last pull ended
    _usage_of: UsageCounters = field(init=False, repr=False)  # the counters object that copy was taken of
    _pull_started: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._usage_mark, self._usage_of = self.client.counters_now(), self.client.counters
        self._pull_started = time.monotonic()

    @property
    def details(self) -> TicketMemo:
        """What the run has read of each ticket version (utils/services/freshservice_memo.py). The run's client holds
        it: a run makes one context per batch (the backfill, the quarter, the month) but one client."""
        return self.client.ticket_memo

    def start_pull(self) -> None:
        """A pull begins: its usage's `seconds_total` counts from now."""
        self._pull_started = time.monotonic()

    def usage_since_last_pull(self) -> UsageCounters:
        """What the client spent since this context's previous pull ended, or since the context was made for the
        first pull: so a batch's shared step (reference data, the sweep, the open tickets) is counted in its first
        client's file, and a sweep made during a pull in that pull's. Timed from `start_pull`; starts the next count."""
        now, counters = self.client.counters_now(), self.client.counters
        # pull_info.py's demo gives the client fresh counters between its parts: then all of them count.
        earlier = self._usage_mark if self._usage_of is counters else UsageCounters()
        self._usage_mark, self._usage_of = now, counters
        spent = now.minus(earlier)
        spent.started = self._pull_started  # seconds_total: the pull's own wall time, not the shared step's
        return spent

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
