"""What the metrics read: their settings, the raw data file (checked), and each ticket parsed once.

A raw file that does not fit (a wrong type where the metrics read a value, a time that cannot be
placed in the report's zone) is a one-line DataError naming the field, raised here before any
number is computed; `utils.report.load_raw` adds the file's name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from utils.core.errors import DataError
from utils.core.period import Period, period_kind
from utils.core.settings import MetricsSettings  # noqa: F401  (re-exported: the metrics' settings, read by utils.core.settings)
from utils.core.settings_values import parse_business_hours  # noqa: F401  (re-exported)
from utils.services.tickets import PRIORITY_LABELS, STATUS_LABELS, parse_timestamp, resolved_time

SCHEMA_VERSION = 1

# Conversation sources that are not replies: 3 status, 4 meta, 5 feedback (a different enum from tickets').
NON_REPLY_SOURCES = frozenset({3, 4, 5})

_FALSE_WORDS = frozenset({"", "0", "false", "no", "n", "off", "none", "null"})
_TIME_SPENT = re.compile(r"^\s*(\d{1,7}):([0-5]?\d)(?::\d{1,2})?\s*$")  # more hours than 7 digits is not a duration

# Times a raw file may hold. Freshservice began in 2011; a time outside these years is a broken value
# (and one within hours of year 1 or 9999 cannot be moved into every time zone).
EARLIEST_YEAR = 1970
LATEST_YEAR = 2999


# ---------------------------------------------------------------------------------------------
# Small parsers


def parse_time_spent(value: Any) -> int | None:
    """Minutes from 'H:MM' with any number of hours ('105:30' is 6330); None if unreadable."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)  # a tool that already converted to minutes
    if not isinstance(value, str):
        return None
    match = _TIME_SPENT.match(value)
    if not match:
        return None
    return int(match.group(1)) * 60 + int(match.group(2))


def is_truthy(value: Any) -> bool:
    """A custom-field flag: true unless empty, 0, false, no or off (strings compared case-insensitively)."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_WORDS
    return bool(value)


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def label(value: Any, fallback: str) -> str:
    if value is None:
        return fallback
    text = str(value).strip()
    return text or fallback


def coded_label(text: Any, code: Any, labels: Mapping[int, str], prefix: str) -> str:
    if isinstance(text, str) and text.strip():
        return text.strip()
    if isinstance(code, int) and not isinstance(code, bool):
        return labels.get(code, f"{prefix} {code}")
    return "Unspecified"


# ---------------------------------------------------------------------------------------------
# The raw file


def check_raw(raw: Any) -> None:
    """Raise DataError (without a file name) when `raw` is not a raw data file this version can read."""
    if not isinstance(raw, dict):
        raise DataError("not an IntegoReport raw data file (expected a JSON object)")
    version = raw.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DataError("not an IntegoReport raw data file (no valid schema_version)")
    if version > SCHEMA_VERSION:
        raise DataError(f"schema_version {version} is newer than this IntegoReport reads ({SCHEMA_VERSION}): update IntegoReport")
    if not isinstance(raw.get("tickets"), list):
        raise DataError("wrong shape: 'tickets' must be a list")
    if not all(isinstance(ticket, dict) for ticket in raw["tickets"]):
        raise DataError("wrong shape: every ticket must be a JSON object")
    if not isinstance(raw.get("client"), dict):
        raise DataError("wrong shape: 'client' must be an object")
    for key, kind in (("trend", list), ("agents", dict), ("warnings", list)):
        if raw.get(key) is not None and not isinstance(raw[key], kind):
            raise DataError(f"wrong shape: '{key}' must be a {'list' if kind is list else 'object'}")
    read_period(raw)
    check_values(raw)


def check_values(raw: Mapping[str, Any]) -> None:
    """Raise DataError naming the ticket and the field when a value the metrics read has the wrong kind.

    Absent or unreadable times stay what they always were (missing, and the report says so); a time
    that reads but lies outside EARLIEST_YEAR..LATEST_YEAR, an id that is an object, or a score
    that is not a finite number is a broken file.
    """
    _check_time(raw.get("generated_at"), "'generated_at'")
    _check_id(as_dict(raw.get("client")).get("id"), "'client.id'")
    for index, ticket in enumerate(raw["tickets"]):
        ticket_id = ticket.get("id")
        name = f"ticket {ticket_id}" if _is_id(ticket_id) and ticket_id is not None else f"ticket #{index + 1} in the file"
        _check_id(ticket_id, f"{name}: 'id'")
        _check_id(ticket.get("requester_id"), f"{name}: 'requester_id'")
        if isinstance(ticket.get("requester"), dict):
            _check_id(ticket["requester"].get("id"), f"{name}: 'requester.id'")
        for key in ("created_at", "due_by", "fr_due_by"):
            _check_time(ticket.get(key), f"{name}: '{key}'")
        stats = as_dict(ticket.get("stats"))
        for key in ("first_responded_at", "resolved_at", "closed_at"):
            _check_time(stats.get(key), f"{name}: 'stats.{key}'")
        for entry_index, entry in enumerate(as_list(ticket.get("time_entries"))):
            where = f"{name}: 'time_entries[{entry_index}]"
            for key in ("executed_at", "start_time", "created_at"):
                _check_time(as_dict(entry).get(key), f"{where}.{key}'")
            _check_id(as_dict(entry).get("agent_id"), f"{where}.agent_id'")
            _check_finite(as_dict(entry).get("time_spent"), f"{where}.time_spent'")
        response = ticket.get("csat")
        if isinstance(response, dict):
            _check_time(response.get("created_at"), f"{name}: 'csat.created_at'")
            _check_finite(response.get("overall_rating"), f"{name}: 'csat.overall_rating'")
            for key in ("acquired_score", "total_score"):
                _check_finite(as_dict(response.get("score")).get(key), f"{name}: 'csat.score.{key}'")


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    return f"{type(value).__name__} {value!r}"


def _is_id(value: Any) -> bool:
    return value is None or (isinstance(value, (int, str)) and not isinstance(value, bool))


def _check_id(value: Any, where: str) -> None:
    if not _is_id(value):
        raise DataError(f"{where} must be a number or text, not {_kind(value)}")


def _check_finite(value: Any, where: str) -> None:
    # json.loads reads NaN and Infinity; no count or score can be one.
    if isinstance(value, float) and not math.isfinite(value):
        raise DataError(f"{where} must be a finite number, not {value!r}")


def _check_time(value: Any, where: str) -> None:
    moment = parse_timestamp(value)
    if moment is None:
        return
    try:
        year = moment.astimezone(UTC).year
    except OverflowError:  # within hours of year 1 or 9999: it cannot even be moved into UTC
        year = 0
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise DataError(f"{where} is out of range: {str(value)[:40]!r} (expected a time between {EARLIEST_YEAR} and {LATEST_YEAR})")


def read_period(raw: Mapping[str, Any]) -> Period:
    """The period of a raw file, checked: aware start < end and a known IANA zone."""
    period = raw.get("period")
    if not isinstance(period, dict):
        raise DataError("wrong shape: 'period' must be an object")
    zone_name = period.get("timezone")
    if not isinstance(zone_name, str) or not zone_name:
        raise DataError("wrong shape: 'period.timezone' is missing")
    try:
        ZoneInfo(zone_name)  # an unknown zone is a wrong-shape file, said here rather than deep in the metrics
    except (ZoneInfoNotFoundError, ValueError):
        raise DataError(f"wrong shape: unknown time zone {zone_name!r} in 'period.timezone'") from None
    start = parse_timestamp(period.get("start"))
    end = parse_timestamp(period.get("end"))
    if start is None or end is None or not end > start:
        raise DataError("wrong shape: 'period.start' and 'period.end' must be ISO 8601 times, start before end")
    _check_time(period.get("start"), "'period.start'")
    _check_time(period.get("end"), "'period.end'")
    return Period(start=start, end=end, timezone=zone_name, kind=period_kind(period))


# ---------------------------------------------------------------------------------------------
# One ticket, read once


class Ticket:
    """The parts of a ticket the metrics use, parsed once."""

    __slots__ = (
        "raw", "id", "created", "has_stats", "resolved", "resolved_unknown", "first_response",
        "reopened", "outbound", "due_by", "fr_due_by", "status_text", "priority_text",
    )

    def __init__(self, raw: dict, created: datetime):
        self.raw = raw
        self.id = raw.get("id")
        self.created = created
        stats = raw.get("stats")
        self.has_stats = isinstance(stats, dict)
        stats = stats if isinstance(stats, dict) else {}
        self.resolved = resolved_time(raw)
        # Settled: without stats we cannot date a resolution; the status as pulled says whether there was one.
        self.resolved_unknown = not self.has_stats and raw.get("status") in (4, 5)
        self.first_response = parse_timestamp(stats.get("first_responded_at"))
        self.reopened = stats.get("opened_at") is not None
        outbound = stats.get("outbound_count")
        self.outbound = outbound if isinstance(outbound, int) and not isinstance(outbound, bool) else 0
        self.due_by = parse_timestamp(raw.get("due_by"))
        self.fr_due_by = parse_timestamp(raw.get("fr_due_by"))
        self.status_text = coded_label(raw.get("status_text"), raw.get("status"), STATUS_LABELS, "Status")
        self.priority_text = coded_label(raw.get("priority_text"), raw.get("priority"), PRIORITY_LABELS, "Priority")

    def open_at(self, moment: datetime) -> bool:
        """Created before `moment` and not resolved before it (unknown resolutions are never open)."""
        if self.resolved_unknown or not self.created < moment:
            return False
        return self.resolved is None or not self.resolved < moment

    def agent_public_replies(self) -> int | None:
        """Agent public replies in the conversations; None when the ticket carries no conversations."""
        conversations = as_list(self.raw.get("conversations"))
        if not conversations:
            return None
        return sum(
            1 for c in conversations
            if isinstance(c, dict) and not c.get("incoming") and not c.get("private") and c.get("source") not in NON_REPLY_SOURCES
        )


def read_tickets(raw: Mapping[str, Any]) -> tuple[list[Ticket], int]:
    """The tickets the metrics count (spam and deleted left out), and how many had no readable creation time."""
    tickets: list[Ticket] = []
    undated = 0
    for item in raw["tickets"]:
        if item.get("spam") or item.get("deleted"):
            continue
        created = parse_timestamp(item.get("created_at"))
        if created is None:
            undated += 1
            continue
        tickets.append(Ticket(item, created))
    return tickets, undated


@dataclass(frozen=True)
class TicketSets:
    """The month's tickets as the sections count them (each list over tickets parsed once)."""

    period: Period
    all: list[Ticket]  # spam, deleted and undated tickets left out
    created: list[Ticket]  # created in the period
    resolved: list[tuple[Ticket, datetime]]  # resolved in the period, with the resolved time
    open_end: list[Ticket]  # open at the period end


def ticket_sets(raw: Mapping[str, Any], period: Period, warnings: list[str]) -> TicketSets:
    """Parse the tickets once and sort them into the sets the sections count; warn about what is left out."""
    tickets, undated = read_tickets(raw)
    if undated:
        warnings.append(f"{undated} ticket{'s' if undated != 1 else ''} without a readable creation time {'were' if undated != 1 else 'was'} left out")
    no_stats = sum(1 for t in tickets if not t.has_stats and (period.contains(t.created) or t.open_at(period.end)))
    if no_stats:
        warnings.append(f"{no_stats} ticket{'s' if no_stats != 1 else ''} came without statistics: {'their' if no_stats != 1 else 'its'} response and resolution times are unknown")
    return TicketSets(
        period=period,
        all=tickets,
        created=[t for t in tickets if period.contains(t.created)],
        resolved=[(t, t.resolved) for t in tickets if t.resolved is not None and period.contains(t.resolved)],
        open_end=[t for t in tickets if t.open_at(period.end)],
    )
