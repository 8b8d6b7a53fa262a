"""Every number of a client report, computed from one raw data file.

The definitions are those of `../shared/reference/report-metrics.md`; the keys of the dictionary
that `compute_metrics` returns are a contract (`build_report.py --json` writes it, other tools read
it). The template only displays what this module computes.

Cases the reference leaves open are settled here, each at the place it happens, and listed in
`SETTLED_CASES` so the report's footnote can say them in plain words.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from utils.attention import attention_items
from utils.errors import ConfigError, DataError
from utils.history import History, previous_figures, stored_trend_entry, trend_figures
from utils.period import Period
from utils.tickets import PRIORITY_LABELS, SOURCE_LABELS, STATUS_LABELS, parse_timestamp, resolved_time, time_entry_moment

SCHEMA_VERSION = 1
RECENT_TICKETS_LIMIT = 25
TOP_REQUESTERS_LIMIT = 5

ENV_BUSINESS_HOURS = "INTEGOREPORT_BUSINESS_HOURS"
ENV_PROACTIVE_TAGS = "INTEGOREPORT_PROACTIVE_TAGS"

PRIORITY_ORDER = ("Urgent", "High", "Medium", "Low")
# Conversation sources that are not replies: 3 status, 4 meta, 5 feedback (a different enum from tickets').
NON_REPLY_SOURCES = frozenset({3, 4, 5})

AGEING_BUCKETS = (  # (key, lower bound in days); each bucket includes its lower bound
    ("lt_1d", 0), ("1_3d", 1), ("3_7d", 3), ("7_30d", 7), ("30_90d", 30), ("ge_90d", 90),
)
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FALSE_WORDS = frozenset({"", "0", "false", "no", "n", "off", "none", "null"})
_WAITING_ON_CLIENT = re.compile(r"\b(customer|client|requester|user|you)\b", re.IGNORECASE)
_TIME_SPENT = re.compile(r"^\s*(\d+):([0-5]?\d)(?::\d{1,2})?\s*$")

# Cases report-metrics.md does not settle, as decided here; the report's footnote repeats them.
SETTLED_CASES = (
    "A ticket without its statistics (Freshservice did not send them) counts as created, but its "
    "response and resolution times are unknown: it is left out of response, resolution, SLA and "
    "first-contact figures, and counts as open only if its status says it is not resolved or closed.",
    "Times that run backwards in the data (a reply or resolution stamped before the ticket was "
    "created) are left out of the response and resolution times.",
    "A ticket resolved without any conversations and without an outbound count is taken as resolved "
    "at first contact.",
    "A satisfaction response with neither a usable score (a total above 0) nor a rating is not counted. "
    "A comment is a written answer to any survey question other than the rating question.",
    "A time entry without a billable flag counts as billable, Freshservice's default; time logged "
    "without an agent counts as 'Unknown agent'.",
    "When no time was logged on any ticket in the month, hours are shown as not available rather than 0.",
    "A 'proactive_case' field counts as true unless it is empty, 0, false, no or off.",
    "For the report month, the trend uses this report's own counts of created and resolved tickets.",
    "Earlier months in the trend use the figures stored when their own report was built, where there is one.",
)


# ---------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class MetricsSettings:
    """Business hours in the report time zone and the tags that mark proactive work."""

    business_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday is 0
    business_start: time = time(8, 0)
    business_end: time = time(18, 0)  # exclusive
    proactive_tags: tuple[str, ...] = ("proactive", "maintenance")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MetricsSettings:
        """Read INTEGOREPORT_BUSINESS_HOURS ("Mon-Fri 08:00-18:00") and INTEGOREPORT_PROACTIVE_TAGS ("proactive,maintenance")."""
        env = os.environ if env is None else env
        settings = cls()
        hours = env.get(ENV_BUSINESS_HOURS, "").strip()
        if hours:
            days, start, end = parse_business_hours(hours)
            settings = replace(settings, business_days=days, business_start=start, business_end=end)
        tags = env.get(ENV_PROACTIVE_TAGS, "").strip()
        if tags:
            settings = replace(settings, proactive_tags=tuple(tag.strip() for tag in tags.split(",") if tag.strip()))
        return settings

    def describe_hours(self) -> str:
        """Business hours in words, such as 'Monday to Friday, 08:00 to 18:00'."""
        names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        days = sorted(self.business_days)
        if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            day_text = f"{names[days[0]]} to {names[days[-1]]}"
        else:
            day_text = ", ".join(names[d] for d in days) or "no days"
        return f"{day_text}, {self.business_start:%H:%M} to {self.business_end:%H:%M}"


def parse_business_hours(text: str) -> tuple[frozenset[int], time, time]:
    """Parse 'Mon-Fri 08:00-18:00' or 'Mon,Tue,Sat 09:00-17:30' into days, start and end."""
    error = ConfigError(f"{ENV_BUSINESS_HOURS} must look like 'Mon-Fri 08:00-18:00', not {text!r}")
    parts = text.split()
    if len(parts) != 2:
        raise error
    day_part, hour_part = parts
    days: set[int] = set()
    for item in day_part.lower().split(","):
        ends = item.split("-")
        try:
            indexes = [_DAY_NAMES.index(name[:3]) for name in ends if name]
        except ValueError:
            raise error from None
        if len(indexes) == 1 and len(ends) == 1:
            days.add(indexes[0])
        elif len(indexes) == 2 and len(ends) == 2:
            first, last = indexes
            days.update(range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)])
        else:
            raise error
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", hour_part)
    if not match:
        raise error
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise error
    start = time(h1, m1)
    end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
    if end <= start:
        raise error
    return frozenset(days), start, end


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


def round_half_up(value: Fraction | int) -> int:
    """Round to a whole number, halves away from zero for positive values (2.5 -> 3)."""
    return int((Fraction(value) + Fraction(1, 2)) // 1)


def duration_summary(durations: list[int]) -> dict[str, int | None]:
    """count, median_s, mean_s and p90_s of durations given in microseconds; empty gives nulls."""
    n = len(durations)
    if not n:
        return {"count": 0, "median_s": None, "mean_s": None, "p90_s": None}
    values = sorted(durations)
    middle = n // 2
    median = Fraction(values[middle]) if n % 2 else Fraction(values[middle - 1] + values[middle], 2)
    # p90 is the nearest-rank value at ceil(9n/10), in integers: float ceil(0.9 * 70) would be 64, not 63.
    p90 = values[(9 * n + 9) // 10 - 1]
    return {
        "count": n,
        "median_s": round_half_up(median / 1_000_000),
        "mean_s": round_half_up(Fraction(sum(values), n * 1_000_000)),
        "p90_s": round_half_up(Fraction(p90, 1_000_000)),
    }


def median_seconds(durations: list[int]) -> int | None:
    """The median of microsecond durations, in whole seconds; None for none."""
    return duration_summary(durations)["median_s"]


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _label(value: Any, fallback: str) -> str:
    if value is None:
        return fallback
    text = str(value).strip()
    return text or fallback


def _coded_label(text: Any, code: Any, labels: Mapping[int, str], prefix: str) -> str:
    if isinstance(text, str) and text.strip():
        return text.strip()
    if isinstance(code, int) and not isinstance(code, bool):
        return labels.get(code, f"{prefix} {code}")
    return "Unspecified"


def _month_key(moment: date) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _sorted_counts(counter: Counter) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0].casefold(), item[0])))


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
    return Period(start=start, end=end, timezone=zone_name)


# ---------------------------------------------------------------------------------------------
# One ticket, read once


class _Ticket:
    """The parts of a ticket the metrics use, parsed once."""

    __slots__ = (
        "raw", "id", "created", "has_stats", "resolved", "resolved_unknown", "first_response",
        "reopened", "outbound", "due_by", "fr_due_by", "status_text", "priority_text",
    )

    def __init__(self, raw: dict):
        self.raw = raw
        self.id = raw.get("id")
        self.created = parse_timestamp(raw.get("created_at"))
        stats = raw.get("stats")
        self.has_stats = isinstance(stats, dict)
        stats = stats if self.has_stats else {}
        self.resolved = resolved_time(raw)
        # Settled: without stats we cannot date a resolution; the status as pulled says whether there was one.
        self.resolved_unknown = not self.has_stats and raw.get("status") in (4, 5)
        self.first_response = parse_timestamp(stats.get("first_responded_at"))
        self.reopened = stats.get("opened_at") is not None
        outbound = stats.get("outbound_count")
        self.outbound = outbound if isinstance(outbound, int) and not isinstance(outbound, bool) else 0
        self.due_by = parse_timestamp(raw.get("due_by"))
        self.fr_due_by = parse_timestamp(raw.get("fr_due_by"))
        self.status_text = _coded_label(raw.get("status_text"), raw.get("status"), STATUS_LABELS, "Status")
        self.priority_text = _coded_label(raw.get("priority_text"), raw.get("priority"), PRIORITY_LABELS, "Priority")

    def open_at(self, moment: datetime) -> bool:
        """Created before `moment` and not resolved before it (unknown resolutions are never open)."""
        if self.resolved_unknown or self.created is None or not self.created < moment:
            return False
        return self.resolved is None or not self.resolved < moment

    def agent_public_replies(self) -> int | None:
        """Agent public replies in the conversations; None when the ticket carries no conversations."""
        conversations = _as_list(self.raw.get("conversations"))
        if not conversations:
            return None
        return sum(
            1 for c in conversations
            if isinstance(c, dict) and not c.get("incoming") and not c.get("private") and c.get("source") not in NON_REPLY_SOURCES
        )


# ---------------------------------------------------------------------------------------------
# The computation


@dataclass
class MetricsResult:
    """The metrics JSON (`metrics`) and the extra figures only the report shows (`details`)."""

    metrics: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)


def compute_metrics(raw: dict, settings: MetricsSettings | None = None, history: History | None = None) -> dict[str, Any]:
    """The metrics JSON of report-metrics.md for one raw data file (keys are a contract)."""
    return compute_report_data(raw, settings, history=history).metrics


def compute_report_data(raw: dict, settings: MetricsSettings | None = None, csat_comment_text: bool = False,
                        history: History | None = None) -> MetricsResult:
    """The metrics JSON plus the report-only details (SLA pending, overdue, CSAT comments, data gaps).

    `history` holds earlier months' stored metrics ({"YYYY-MM": metrics JSON}, utils.history.load_history)
    for the trend and `previous`.
    """
    check_raw(raw)
    settings = settings or MetricsSettings()
    period = read_period(raw)
    start, end = period.start, period.end
    warnings: list[str] = [str(w) for w in _as_list(raw.get("warnings")) if w]
    agents = {str(k): str(v) for k, v in _as_dict(raw.get("agents")).items() if v}

    tickets: list[_Ticket] = []
    undated = 0
    for item in raw["tickets"]:
        if item.get("spam") or item.get("deleted"):
            continue
        ticket = _Ticket(item)
        if ticket.created is None:
            undated += 1
            continue
        tickets.append(ticket)
    if undated:
        warnings.append(f"{undated} ticket{'s' if undated != 1 else ''} without a readable creation time {'were' if undated != 1 else 'was'} left out")
    no_stats = sum(1 for t in tickets if not t.has_stats and (period.contains(t.created) or t.open_at(end)))
    if no_stats:
        warnings.append(f"{no_stats} ticket{'s' if no_stats != 1 else ''} came without statistics: {'their' if no_stats != 1 else 'its'} response and resolution times are unknown")

    created = [t for t in tickets if period.contains(t.created)]
    resolved = [t for t in tickets if period.contains(t.resolved)]
    open_end = [t for t in tickets if t.open_at(end)]
    volume = {
        "created": len(created),
        "resolved": len(resolved),
        "open_at_start": sum(1 for t in tickets if t.open_at(start)),
        "open_at_end": len(open_end),
    }

    breakdown = {
        "type": _sorted_counts(Counter(_label(t.raw.get("type"), "Unspecified") for t in created)),
        "priority": _sorted_counts(Counter(t.priority_text for t in created)),
        "source": _sorted_counts(Counter(_coded_label(t.raw.get("source_text"), t.raw.get("source"), SOURCE_LABELS, "Source") for t in created)),
        "category": _sorted_counts(Counter(_label(t.raw.get("category"), "Uncategorized") for t in created)),
        "status": _sorted_counts(Counter(t.status_text for t in created)),
    }

    # First response, as pulled: a reply after the period end still counts for a ticket created in it.
    fr_durations: list[int] = []
    awaiting = 0
    for t in created:
        if not t.has_stats:
            continue
        if t.first_response is None:
            if t.resolved is None:
                awaiting += 1
        elif t.first_response >= t.created:
            fr_durations.append(_micros(t.first_response - t.created))
    first_response = {**duration_summary(fr_durations), "awaiting": awaiting}

    res_durations: list[int] = []
    by_priority: dict[str, list[int]] = defaultdict(list)
    for t in resolved:
        if t.resolved >= t.created:
            micros = _micros(t.resolved - t.created)
            res_durations.append(micros)
            by_priority[t.priority_text].append(micros)
    resolution = duration_summary(res_durations)
    resolution["by_priority"] = {
        label: {"count": len(by_priority[label]), "median_s": median_seconds(by_priority[label])}
        for label in sorted(by_priority, key=priority_rank)
    }

    # SLA: first response over tickets created in the period that carry a target.
    fr_met = fr_breached = fr_pending = fr_no_reply_resolved = 0
    for t in created:
        if t.fr_due_by is None or not t.has_stats:
            continue
        if t.first_response is not None:
            if t.first_response <= t.fr_due_by:
                fr_met += 1
            else:
                fr_breached += 1
        elif t.resolved is not None:
            fr_no_reply_resolved += 1
        elif t.fr_due_by < end:
            fr_breached += 1
        else:
            fr_pending += 1
    res_met = res_late = 0
    for t in resolved:
        if t.due_by is not None:
            if t.resolved <= t.due_by:
                res_met += 1
            else:
                res_late += 1
    # An open ticket past its resolution target counts as breached every month until it is closed.
    overdue = sum(1 for t in open_end if t.due_by is not None and t.due_by < end)
    sla = {
        "first_response": {"met": fr_met, "breached": fr_breached, "rate": _rate(fr_met, fr_met + fr_breached)},
        "resolution": {"met": res_met, "breached": res_late + overdue, "rate": _rate(res_met, res_met + res_late + overdue)},
    }

    first_contact = 0
    for t in resolved:
        replies = t.agent_public_replies()
        if replies is None:
            replies = t.outbound  # no conversations at all: the outbound count stands in
        if replies <= 1 and not t.reopened:
            first_contact += 1
    fcr = {"resolved": len(resolved), "first_contact": first_contact, "rate": _rate(first_contact, len(resolved))}

    csat, csat_details = _csat(tickets, period, csat_comment_text, warnings)
    time_spent, time_details = _time_spent(tickets, period, agents, warnings)

    after_hours = sum(1 for t in created if not _in_business_hours(t.created.astimezone(period.zone), settings))
    proactive_tags = {tag.strip().casefold() for tag in settings.proactive_tags if tag.strip()}
    proactive = sum(1 for t in created if _is_proactive(t.raw, proactive_tags))

    ageing = {key: 0 for key, _ in AGEING_BUCKETS}
    for t in open_end:
        age_days = (end - t.created) / timedelta(days=1)
        bucket = AGEING_BUCKETS[0][0]
        for key, lower in AGEING_BUCKETS:
            if age_days >= lower:
                bucket = key
        ageing[bucket] += 1

    requester_counts: Counter = Counter()
    requester_names: dict[Any, str] = {}
    for t in created:
        requester = t.raw.get("requester")
        key = t.raw.get("requester_id")
        name = requester.get("name") if isinstance(requester, dict) else None
        if key is None and isinstance(requester, dict):
            key = requester.get("id")
        if isinstance(name, str) and name.strip():
            requester_names.setdefault(key, name.strip())
        requester_counts[key] += 1
    labelled = [
        {"name": requester_names.get(key) or (f"Requester {key}" if key is not None else "Unknown requester"), "tickets": n}
        for key, n in requester_counts.items()
    ]
    top_requesters = sorted(labelled, key=lambda r: (-r["tickets"], r["name"].casefold(), r["name"]))[:TOP_REQUESTERS_LIMIT]

    trend = _trend(raw, period, volume, warnings, history or {}, trend_figures({"first_response": first_response,
                                                                              "resolution": resolution, "sla": sla}))

    recent = sorted(created, key=lambda t: (t.created, _sort_id(t.id)), reverse=True)[:RECENT_TICKETS_LIMIT]
    recent_tickets = [
        {
            "id": t.id,
            "subject": _label(t.raw.get("subject"), "(no subject)"),
            "status_text": t.status_text,
            "priority_text": t.priority_text,
            "created_at": t.created.astimezone(period.zone).isoformat(),
            "resolved_at": t.resolved.astimezone(period.zone).isoformat() if t.resolved else None,
            "resolution_s": round_half_up(Fraction(_micros(t.resolved - t.created), 1_000_000)) if t.resolved and t.resolved >= t.created else None,
        }
        for t in recent
    ]

    client = _as_dict(raw.get("client"))
    metrics = {
        "schema_version": SCHEMA_VERSION,
        "client": {"id": client.get("id"), "name": _label(client.get("name"), f"Client {client.get('id')}")},
        "period": {
            "start": start.astimezone(period.zone).isoformat(),
            "end": end.astimezone(period.zone).isoformat(),
            "timezone": period.timezone,
            "label": period.label,
        },
        "volume": volume,
        "breakdown": breakdown,
        "first_response": first_response,
        "resolution": resolution,
        "sla": sla,
        "fcr": fcr,
        "csat": csat,
        "time": time_spent,
        "after_hours": {"created": after_hours},
        "proactive": {"created": proactive},
        "ageing": ageing,
        "top_requesters": top_requesters,
        "trend": trend,
        "previous": previous_figures(history or {}, _month_key(start.astimezone(period.zone))),
        "attention": [],  # filled below; utils.report fills it again once the other sources' sections are in
        "recent_tickets": recent_tickets,
        "warnings": list(dict.fromkeys(warnings)),
    }
    waiting_on_client = sum(
        1 for t in tickets
        if t.resolved is None and not t.resolved_unknown and t.open_at(end)
        and (t.raw.get("status") == 3 or _is_waiting_on_client(t.status_text))
    )
    metrics["attention"] = attention_items(metrics, waiting_on_client)
    requester_ids = [t.raw.get("requester_id") for t in created if t.raw.get("requester_id") is not None]
    details = {
        "sla_first_response_pending": fr_pending,
        "sla_first_response_resolved_without_reply": fr_no_reply_resolved,
        "sla_resolution_late": res_late,
        "sla_resolution_overdue_open": overdue,
        "waiting_on_client": waiting_on_client,
        "tickets_without_stats": no_stats,
        "requester_names_missing": bool(requester_ids) and not any(
            isinstance(t.raw.get("requester"), dict) and t.raw["requester"].get("name") for t in created
        ),
        "business_hours": settings.describe_hours(),
        "proactive_tags": list(settings.proactive_tags),
        "generated_at": _local_iso(raw.get("generated_at"), period.zone),
        "freshservice_url": raw.get("freshservice_url") if isinstance(raw.get("freshservice_url"), str) else None,
        "settled_cases": list(SETTLED_CASES),
        **csat_details,
        **time_details,
    }
    return MetricsResult(metrics=metrics, details=details)


def priority_rank(label: str) -> tuple[int, str]:
    """Sort key for priority labels: Urgent, High, Medium, Low, then any other label alphabetically."""
    return (PRIORITY_ORDER.index(label), "") if label in PRIORITY_ORDER else (len(PRIORITY_ORDER), label.casefold())


def _sort_id(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, (int, float)) else (1, str(value))


def _local_iso(value: Any, zone: ZoneInfo) -> str | None:
    moment = parse_timestamp(value)
    return moment.astimezone(zone).isoformat() if moment else None


def _is_waiting_on_client(status_text: str) -> bool:
    return "waiting" in status_text.lower() and _WAITING_ON_CLIENT.search(status_text) is not None


def _in_business_hours(local: datetime, settings: MetricsSettings) -> bool:
    return local.weekday() in settings.business_days and settings.business_start <= local.time() < settings.business_end


def _is_proactive(ticket: dict, proactive_tags: set[str]) -> bool:
    for tag in _as_list(ticket.get("tags")):
        if isinstance(tag, str) and tag.strip().casefold() in proactive_tags:
            return True
        if isinstance(tag, dict) and isinstance(tag.get("name"), str) and tag["name"].strip().casefold() in proactive_tags:
            return True
    return is_truthy(_as_dict(ticket.get("custom_fields")).get("proactive_case"))


def csat_share(response: Mapping[str, Any]) -> Fraction | None:
    """The score share p = acquired / total of a satisfaction response; None without a usable score."""
    score = response.get("score")
    if not isinstance(score, dict):
        return None
    acquired, total = score.get("acquired_score"), score.get("total_score")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (acquired, total)) or total <= 0:
        return None
    return Fraction(acquired) / Fraction(total)


def _csat(tickets: Iterable[_Ticket], period: Period, with_text: bool, warnings: list[str]) -> tuple[dict, dict]:
    positive = neutral = negative = unrated = comments = 0
    shares: list[Fraction] = []
    texts: list[str] = []
    for t in tickets:
        response = t.raw.get("csat")
        if not isinstance(response, dict) or not period.contains(parse_timestamp(response.get("created_at"))):
            continue
        share = csat_share(response)
        rating = response.get("overall_rating")
        if share is not None:
            shares.append(share)
            if share >= Fraction(3, 4):
                positive += 1
            elif share <= Fraction(1, 2):
                negative += 1
            else:
                neutral += 1
        elif isinstance(rating, (int, float)) and not isinstance(rating, bool):
            if rating >= 101:
                positive += 1
            elif rating == 100:
                neutral += 1
            else:
                negative += 1
        else:
            unrated += 1
            continue
        for text in csat_comments(response):
            comments += 1
            if with_text:
                texts.append(text)
    if unrated:
        warnings.append(f"{unrated} satisfaction response{'s' if unrated != 1 else ''} without a score or rating {'were' if unrated != 1 else 'was'} not counted")
    responses = positive + neutral + negative
    metrics = {
        "responses": responses,
        "positive": positive,
        "neutral": neutral,
        "negative": negative,
        "average_pct": float(sum(shares) / len(shares)) if shares else None,
    }
    return metrics, {"csat_comments": comments, "csat_comment_texts": texts}


def csat_comments(response: Mapping[str, Any]) -> list[str]:
    """Free-text answers of a satisfaction response: answers to questions other than the rating question."""
    primary = response.get("primary_question")
    found = []
    for index, item in enumerate(_as_list(response.get("questionnaire_responses"))):
        if not isinstance(item, dict):
            continue
        question = _as_dict(item.get("question")).get("question_text")
        # The rating question is the primary question; without one, the first question is taken as it.
        if (primary and question == primary) or (not primary and index == 0):
            continue
        for answer in _as_list(item.get("answers")):
            text = _as_dict(answer).get("answer_text")
            if isinstance(text, str) and text.strip() and text.strip() != response.get("overall_rating_text"):
                found.append(text.strip())
    return found


def _time_spent(tickets: Iterable[_Ticket], period: Period, agents: Mapping[str, str], warnings: list[str]) -> tuple[dict, dict]:
    total = billable = entries = unreadable = 0
    per_agent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t in tickets:
        for entry in _as_list(t.raw.get("time_entries")):
            if not isinstance(entry, dict):
                continue
            if not period.contains(time_entry_moment(entry)):
                continue
            minutes = parse_time_spent(entry.get("time_spent"))
            if minutes is None:
                unreadable += 1
                continue
            entries += 1
            is_billable = entry.get("billable") is not False and is_truthy(entry.get("billable", True))
            agent_id = entry.get("agent_id")
            label = agents.get(str(agent_id)) if agent_id is not None else None
            label = label or (f"Agent {agent_id}" if agent_id is not None else "Unknown agent")
            total += minutes
            per_agent[label][0] += minutes
            if is_billable:
                billable += minutes
                per_agent[label][1] += minutes
    if unreadable:
        warnings.append(f"{unreadable} time entr{'ies' if unreadable != 1 else 'y'} with an unreadable duration {'were' if unreadable != 1 else 'was'} left out")
    if not entries:
        metrics = {"total_minutes": None, "billable_minutes": None, "non_billable_minutes": None, "by_agent": {}}
    else:
        metrics = {
            "total_minutes": total,
            "billable_minutes": billable,
            "non_billable_minutes": total - billable,
            "by_agent": {
                label: {"total_minutes": m[0], "billable_minutes": m[1], "non_billable_minutes": m[0] - m[1]}
                for label, m in sorted(per_agent.items(), key=lambda item: (-item[1][0], item[0].casefold()))
            },
        }
    agent_names_missing = entries > 0 and not agents
    return metrics, {"time_entries": entries, "agent_names_missing": agent_names_missing}


def _trend(raw: Mapping[str, Any], period: Period, volume: Mapping[str, int], warnings: list[str], history: History,
           own_figures: Mapping[str, Any]) -> list[dict]:
    local_start = period.start.astimezone(period.zone)
    months = [_month_key(date(*_add_months(local_start.year, local_start.month, delta), 1)) for delta in range(-5, 1)]
    given: dict[str, dict] = {}
    for item in _as_list(raw.get("trend")):
        if isinstance(item, dict) and isinstance(item.get("month"), str):
            given[item["month"]] = item
    trend = []
    missing = 0
    for month in months[:-1]:
        if month in history:  # a month built before: its own stored counts, resolved included
            trend.append(stored_trend_entry(month, history[month]))
            continue
        item = given.get(month)
        created = item.get("created") if item else None
        resolved = item.get("resolved") if item else None
        if not isinstance(created, int) or isinstance(created, bool):
            created = None
            missing += 1
        if not isinstance(resolved, int) or isinstance(resolved, bool):
            resolved = None
        trend.append({"month": month, "created": created, "resolved": resolved, **trend_figures(None)})
    # The report month always shows this report's own figures (what its history file will hold), so the chart and the tiles agree.
    trend.append({"month": months[-1], "created": volume["created"], "resolved": volume["resolved"], **own_figures})
    if missing:
        warnings.append(f"the trend lacks ticket counts for {missing} of the five earlier months")
    return trend
