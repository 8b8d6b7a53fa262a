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
from datetime import datetime
from pathlib import Path

from utils.core import clock
from utils.core.errors import ConfigError, DataError
from utils.core.files import read_json, write_json_atomic
from utils.core.home import COMPANIES_FILE, RAW_DIR, ensure_writable_dir
from utils.core.period import Period
from utils.services import raw_file
from utils.services.freshservice_account import CLASSIC, MSP, AccountContext
from utils.services.freshservice_assets import fetch_devices
from utils.services.freshservice_client import FreshserviceClient
from utils.services.freshservice_details import CONVERSATION_KEYS, CSAT_PROBES, fetch_all_details, fetch_unhinted_csat
from utils.services.freshservice_discovery import (
    MSP_WORKSPACE_ID,
    MSP_WORKSPACE_REFUSED,
    describe_client,
    fetch_client_record,
    find_tickets,
    touches_period,
    trend_for,
)
from utils.services.tickets import parse_timestamp

# The names callers import from this module since before the split (the batch, the backfill, tests).
__all__ = ["CONVERSATION_KEYS", "CSAT_PROBES", "DEFAULT_WORKERS", "ENTITY_TYPES", "AccountContext", "edition_of",
           "positive_int", "pull_client_month", "pull_into_raw_file", "raw_data_path"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DEFAULT_WORKERS = 4
ENTITY_TYPES = ("department", "company", "workspace")


def pull_client_month(context: AccountContext, client_id: str, period: Period, entity_type: str = "department",
                      workers: int = DEFAULT_WORKERS, now: datetime | None = None, progress_level: int = logging.INFO,
                      keep_conversation_text: bool = False) -> dict:
    """Everything about one client's tickets for `period`, as the raw-data document.

    Progress shows as a live line on a terminal, else as log lines at `progress_level`. The
    document keeps no conversation or description text; `keep_conversation_text` keeps that of
    public conversations (never of private notes). Its `usage` and `api_usage` are what this pull
    cost (`AccountContext.usage_since_last_pull`), not the run's running totals.
    """
    context.start_pull()
    try:
        document = _pull_document(context, client_id, period, entity_type, workers, now or clock.now(), progress_level,
                                  keep_conversation_text)
    finally:
        spent = context.usage_since_last_pull()  # a failed pull's cost goes in no file
    document["api_usage"] = spent.as_dict()  # the older block, kept for its readers; `usage` is the shared shape
    document["usage"] = spent.usage()
    return document


def _pull_document(context: AccountContext, client_id: str, period: Period, entity_type: str, workers: int,
                   now: datetime, progress_level: int, keep_conversation_text: bool) -> dict:
    client = context.client
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
    # A period's review shows the client's devices; a month's report does not, so a month spends no credits on them.
    devices = fetch_devices(client, client_record["id"], warnings) if not period.is_month and entity_type == "department" else None
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
        **({"devices": devices} if devices else {}),  # none kept, or an empty list: the review shows nothing
    }


def raw_data_path(home: Path, client_id: str) -> Path:
    """raw_data/freshservice_<ID>.json; a DataError for an id that is not all digits (it names a file)."""
    return raw_file.raw_data_path(home, "freshservice", client_id)


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


def pull_into_raw_file(client: FreshserviceClient, home: Path, client_id: str, period: Period, entity_type: str | None = None,
                       workers: int = DEFAULT_WORKERS, keep_conversation_text: bool = False) -> Path:
    """One client's month by hand (data_pullers/freshservice.py): pulled into raw_data/freshservice_<ID>.json, with
    one line of what it cost and its warnings. `entity_type`: as companies_list.json says when None."""
    ensure_writable_dir(home / RAW_DIR, private=True)
    entity_type = entity_type or listed_entity_type(home, client_id)
    if entity_type == "workspace" and client_id == MSP_WORKSPACE_ID:
        raise ConfigError(MSP_WORKSPACE_REFUSED)
    context = AccountContext(client, edition=MSP if entity_type == "workspace" else CLASSIC)
    document = pull_client_month(context, client_id, period, entity_type, workers, keep_conversation_text=keep_conversation_text)
    path = write_json_atomic(raw_data_path(home, client_id), document, private=True)
    usage = document["api_usage"]
    count = len(document["tickets"])
    log.info("%s, %s: %d ticket%s, %d credits in %d requests, %.1f s; wrote %s", document["client"]["name"], period.label,
             count, "" if count == 1 else "s", usage["credits"], usage["requests"], usage["seconds_total"], path)
    for warning in document["warnings"]:
        log.warning(warning)
    return path
