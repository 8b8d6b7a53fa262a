"""Freshservice: finding one client (its department, company or workspace record) and its tickets.

The tickets that may touch the period come from the ticket filter (or the run's shared sweep when
that is cheaper, or the account-wide lists where the filter refuses department_id); the six-month
trend from the filter's `total`.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from utils.core.errors import APIError, DataError, NotFoundError, ValidationFailed
from utils.core.files import is_valid_id
from utils.core.period import Period
from utils.services.freshservice_account import (
    FILTER_EPOCH,
    VIEW_COST,
    AccountContext,
    fetch_filtered,
    filter_time,
    range_query,
    sweep_page_cost,
)
from utils.services.freshservice_client import FILTER_PAGE_SIZE, FreshserviceClient
from utils.services.tickets import parse_timestamp, resolved_time, time_entry_moment

log = logging.getLogger(__name__)

TREND_MONTHS = 6
MSP_WORKSPACE_ID = "3"  # the MSP's own workspace, never a client
MSP_WORKSPACE_REFUSED = "workspace 3 is the MSP's own workspace, not a client (see companies_list.json)"


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
