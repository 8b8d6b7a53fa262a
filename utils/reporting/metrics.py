"""Every number of a client report, computed from one raw data file.

The definitions are those of `docs/metrics.md`; the dictionary `compute_metrics` returns is typed
in `utils.reporting.metrics_types` and is a contract (`build_report.py --json` writes it, other tools read
it). The templates only display what this module computes. `compute_report_data` calls one
function per section of the metrics JSON; each reads the tickets parsed once (`utils.reporting.metrics_input`).

Cases the definitions leave open are settled here, each at the place it happens, and listed in
`SETTLED_CASES` (docs/metrics.md repeats them for the engineer; the client's footnote stays plain).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from utils.core.period import Period
from utils.reporting.attention import attention_items
from utils.reporting.history import History, previous_figures, stored_trend_entry, trend_figures
from utils.reporting.metrics_csat import csat_comments, csat_section, csat_share  # noqa: F401  (csat_comments, csat_share re-exported)
from utils.reporting.metrics_input import (  # noqa: F401  (re-exported: the settings and the raw-file checks are imported from here)
    SCHEMA_VERSION,
    MetricsSettings,
    Ticket,
    as_dict,
    as_list,
    check_raw,
    coded_label,
    is_truthy,
    label,
    parse_business_hours,
    parse_time_spent,
    read_period,
    read_tickets,
)
from utils.reporting.metrics_time import time_section
from utils.reporting.metrics_types import (
    Ageing,
    Breakdown,
    ClientInfo,
    DurationSummary,
    FirstContact,
    FirstResponse,
    Metrics,
    PeriodInfo,
    PriorityDuration,
    RecentTicket,
    ReportDetails,
    Requester,
    Resolution,
    Sla,
    SlaDetails,
    TrendEntry,
    Volume,
)
from utils.services.tickets import SOURCE_LABELS, parse_timestamp

RECENT_TICKETS_LIMIT = 25
TOP_REQUESTERS_LIMIT = 5

PRIORITY_ORDER = ("Urgent", "High", "Medium", "Low")

AGEING_BUCKETS = (  # (key, lower bound in days); each bucket includes its lower bound
    ("lt_1d", 0), ("1_3d", 1), ("3_7d", 3), ("7_30d", 7), ("30_90d", 30), ("ge_90d", 90),
)
_WAITING_ON_CLIENT = re.compile(r"\b(customer|client|requester|user|you)\b", re.IGNORECASE)

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
# Arithmetic


def round_half_up(value: Fraction | int) -> int:
    """Round to a whole number, halves away from zero for positive values (2.5 -> 3)."""
    return int((Fraction(value) + Fraction(1, 2)) // 1)


def duration_summary(durations: list[int]) -> DurationSummary:
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


def _seconds(delta: timedelta) -> int:
    return round_half_up(Fraction(_micros(delta), 1_000_000))


def _month_key(moment: date) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _sorted_counts(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0].casefold(), item[0])))


# ---------------------------------------------------------------------------------------------
# The computation


@dataclass
class MetricsResult:
    """The metrics JSON (`metrics`) and the extra figures only the report shows (`details`)."""

    metrics: Metrics
    details: ReportDetails


@dataclass(frozen=True)
class TicketSets:
    """The month's tickets as the sections count them (each list over tickets parsed once)."""

    period: Period
    all: list[Ticket]  # spam, deleted and undated tickets left out
    created: list[Ticket]  # created in the period
    resolved: list[tuple[Ticket, datetime]]  # resolved in the period, with the resolved time
    open_end: list[Ticket]  # open at the period end


def compute_metrics(raw: dict, settings: MetricsSettings | None = None, history: History | None = None) -> Metrics:
    """The metrics JSON of docs/metrics.md for one raw data file (keys are a contract)."""
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
    history = history or {}
    warnings: list[str] = [str(w) for w in as_list(raw.get("warnings")) if w]
    agents = {str(k): str(v) for k, v in as_dict(raw.get("agents")).items() if v}
    sets = ticket_sets(raw, period, warnings)

    volume = volume_section(sets)
    first_response = first_response_section(sets)
    resolution = resolution_section(sets)
    sla, sla_details = sla_section(sets)
    csat, csat_details = csat_section(sets.all, period, csat_comment_text, warnings)
    time_spent, time_details = time_section(sets.all, period, agents, warnings)
    own_figures = trend_figures({"first_response": first_response, "resolution": resolution, "sla": sla})
    metrics: Metrics = {
        "schema_version": SCHEMA_VERSION,
        "client": client_section(raw),
        "period": period_section(period),
        "volume": volume,
        "breakdown": breakdown_section(sets),
        "first_response": first_response,
        "resolution": resolution,
        "sla": sla,
        "fcr": first_contact_section(sets),
        "csat": csat,
        "time": time_spent,
        "after_hours": {"created": after_hours_count(sets, settings)},
        "proactive": {"created": proactive_count(sets, settings)},
        "ageing": ageing_section(sets),
        "top_requesters": top_requesters_section(sets),
        "trend": trend_section(raw, period, volume, warnings, history, own_figures),
        "previous": previous_figures(history, _month_key(period.start.astimezone(period.zone))),
        "attention": [],  # filled below; utils.reporting.report fills it again once the other sources' sections are in
        "recent_tickets": recent_tickets_section(sets),
        "warnings": list(dict.fromkeys(warnings)),
    }
    waiting = waiting_on_client_count(sets)
    metrics["attention"] = attention_items(metrics, waiting)
    details: ReportDetails = {
        **sla_details,
        "waiting_on_client": waiting,
        "tickets_without_stats": sum(1 for t in sets.all if not t.has_stats and (period.contains(t.created) or t.open_at(period.end))),
        "requester_names_missing": requester_names_missing(sets),
        "business_hours": settings.describe_hours(),
        "proactive_tags": list(settings.proactive_tags),
        "generated_at": _local_iso(raw.get("generated_at"), period.zone),
        "freshservice_url": raw.get("freshservice_url") if isinstance(raw.get("freshservice_url"), str) else None,
        **csat_details,
        **time_details,
    }
    return MetricsResult(metrics=metrics, details=details)


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


def client_section(raw: Mapping[str, Any]) -> ClientInfo:
    client = as_dict(raw.get("client"))
    return {"id": client.get("id"), "name": label(client.get("name"), f"Client {client.get('id')}")}


def period_section(period: Period) -> PeriodInfo:
    return {
        "start": period.start.astimezone(period.zone).isoformat(),
        "end": period.end.astimezone(period.zone).isoformat(),
        "timezone": period.timezone,
        "label": period.label,
    }


def volume_section(sets: TicketSets) -> Volume:
    return {
        "created": len(sets.created),
        "resolved": len(sets.resolved),
        "open_at_start": sum(1 for t in sets.all if t.open_at(sets.period.start)),
        "open_at_end": len(sets.open_end),
    }


def breakdown_section(sets: TicketSets) -> Breakdown:
    created = sets.created
    return {
        "type": _sorted_counts(Counter(label(t.raw.get("type"), "Unspecified") for t in created)),
        "priority": _sorted_counts(Counter(t.priority_text for t in created)),
        "source": _sorted_counts(Counter(coded_label(t.raw.get("source_text"), t.raw.get("source"), SOURCE_LABELS, "Source") for t in created)),
        "category": _sorted_counts(Counter(label(t.raw.get("category"), "Uncategorized") for t in created)),
        "status": _sorted_counts(Counter(t.status_text for t in created)),
    }


def first_response_section(sets: TicketSets) -> FirstResponse:
    """First response, as pulled: a reply after the period end still counts for a ticket created in it."""
    durations: list[int] = []
    awaiting = 0
    for t in sets.created:
        if not t.has_stats:
            continue
        if t.first_response is None:
            if t.resolved is None:
                awaiting += 1
        elif t.first_response >= t.created:
            durations.append(_micros(t.first_response - t.created))
    return {**duration_summary(durations), "awaiting": awaiting}


def resolution_section(sets: TicketSets) -> Resolution:
    durations: list[int] = []
    by_priority: dict[str, list[int]] = defaultdict(list)
    for t, resolved in sets.resolved:
        if resolved >= t.created:
            micros = _micros(resolved - t.created)
            durations.append(micros)
            by_priority[t.priority_text].append(micros)
    priorities: dict[str, PriorityDuration] = {
        name: {"count": len(by_priority[name]), "median_s": median_seconds(by_priority[name])}
        for name in sorted(by_priority, key=priority_rank)
    }
    return {**duration_summary(durations), "by_priority": priorities}


def sla_section(sets: TicketSets) -> tuple[Sla, SlaDetails]:
    """First-response and resolution targets met and breached, and what the report notes beside them."""
    end = sets.period.end
    # First response: over tickets created in the period that carry a target.
    fr_met = fr_breached = fr_pending = fr_no_reply_resolved = 0
    for t in sets.created:
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
    for t, resolved in sets.resolved:
        if t.due_by is not None:
            if resolved <= t.due_by:
                res_met += 1
            else:
                res_late += 1
    # An open ticket past its resolution target counts as breached every month until it is closed.
    overdue = sum(1 for t in sets.open_end if t.due_by is not None and t.due_by < end)
    sla: Sla = {
        "first_response": {"met": fr_met, "breached": fr_breached, "rate": _rate(fr_met, fr_met + fr_breached)},
        "resolution": {"met": res_met, "breached": res_late + overdue, "rate": _rate(res_met, res_met + res_late + overdue)},
    }
    details: SlaDetails = {
        "sla_first_response_pending": fr_pending,
        "sla_first_response_resolved_without_reply": fr_no_reply_resolved,
        "sla_resolution_late": res_late,
        "sla_resolution_overdue_open": overdue,
    }
    return sla, details


def first_contact_section(sets: TicketSets) -> FirstContact:
    first_contact = 0
    for t, _ in sets.resolved:
        replies = t.agent_public_replies()
        if replies is None:
            replies = t.outbound  # no conversations at all: the outbound count stands in
        if replies <= 1 and not t.reopened:
            first_contact += 1
    return {"resolved": len(sets.resolved), "first_contact": first_contact, "rate": _rate(first_contact, len(sets.resolved))}


def after_hours_count(sets: TicketSets, settings: MetricsSettings) -> int:
    return sum(1 for t in sets.created if not _in_business_hours(t.created.astimezone(sets.period.zone), settings))


def proactive_count(sets: TicketSets, settings: MetricsSettings) -> int:
    tags = {tag.strip().casefold() for tag in settings.proactive_tags if tag.strip()}
    return sum(1 for t in sets.created if _is_proactive(t.raw, tags))


def ageing_section(sets: TicketSets) -> Ageing:
    ageing: dict[str, int] = {key: 0 for key, _ in AGEING_BUCKETS}
    for t in sets.open_end:
        age_days = (sets.period.end - t.created) / timedelta(days=1)
        bucket = AGEING_BUCKETS[0][0]
        for key, lower in AGEING_BUCKETS:
            if age_days >= lower:
                bucket = key
        ageing[bucket] += 1
    return {"lt_1d": ageing["lt_1d"], "1_3d": ageing["1_3d"], "3_7d": ageing["3_7d"], "7_30d": ageing["7_30d"],
            "30_90d": ageing["30_90d"], "ge_90d": ageing["ge_90d"]}


def top_requesters_section(sets: TicketSets) -> list[Requester]:
    counts: Counter[Any] = Counter()
    names: dict[Any, str] = {}
    for t in sets.created:
        requester = t.raw.get("requester")
        key = t.raw.get("requester_id")
        name = requester.get("name") if isinstance(requester, dict) else None
        if key is None and isinstance(requester, dict):
            key = requester.get("id")
        if isinstance(name, str) and name.strip():
            names.setdefault(key, name.strip())
        counts[key] += 1
    labelled: list[Requester] = [
        {"name": names.get(key) or (f"Requester {key}" if key is not None else "Unknown requester"), "tickets": n}
        for key, n in counts.items()
    ]
    return sorted(labelled, key=lambda r: (-r["tickets"], r["name"].casefold(), r["name"]))[:TOP_REQUESTERS_LIMIT]


def recent_tickets_section(sets: TicketSets) -> list[RecentTicket]:
    zone = sets.period.zone
    recent = sorted(sets.created, key=lambda t: (t.created, _sort_id(t.id)), reverse=True)[:RECENT_TICKETS_LIMIT]
    return [
        {
            "id": t.id,
            "subject": label(t.raw.get("subject"), "(no subject)"),
            "status_text": t.status_text,
            "priority_text": t.priority_text,
            "created_at": t.created.astimezone(zone).isoformat(),
            "resolved_at": t.resolved.astimezone(zone).isoformat() if t.resolved else None,
            "resolution_s": _seconds(t.resolved - t.created) if t.resolved and t.resolved >= t.created else None,
        }
        for t in recent
    ]


def waiting_on_client_count(sets: TicketSets) -> int:
    """Tickets open at the period end, not resolved as pulled, whose status is Pending or waits on the customer."""
    return sum(
        1 for t in sets.all
        if t.resolved is None and not t.resolved_unknown and t.open_at(sets.period.end)
        and (t.raw.get("status") == 3 or _is_waiting_on_client(t.status_text))
    )


def requester_names_missing(sets: TicketSets) -> bool:
    """The month's tickets name requesters by id only (the API key may not read them)."""
    has_ids = any(t.raw.get("requester_id") is not None for t in sets.created)
    return has_ids and not any(isinstance(t.raw.get("requester"), dict) and t.raw["requester"].get("name") for t in sets.created)


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
    for tag in as_list(ticket.get("tags")):
        if isinstance(tag, str) and tag.strip().casefold() in proactive_tags:
            return True
        if isinstance(tag, dict) and isinstance(tag.get("name"), str) and tag["name"].strip().casefold() in proactive_tags:
            return True
    return is_truthy(as_dict(ticket.get("custom_fields")).get("proactive_case"))


def _trend_entry(entry: Mapping[str, Any]) -> TrendEntry:
    """A trend entry with exactly the keys of the contract, from utils.reporting.history's plain dicts."""
    return {
        "month": entry["month"],
        "created": entry["created"],
        "resolved": entry["resolved"],
        "first_response_median_s": entry["first_response_median_s"],
        "resolution_median_s": entry["resolution_median_s"],
        "sla_resolution_rate": entry["sla_resolution_rate"],
    }


def trend_section(raw: Mapping[str, Any], period: Period, volume: Volume, warnings: list[str], history: History,
                  own_figures: Mapping[str, Any]) -> list[TrendEntry]:
    """The six months ending with the report month, oldest first: stored history, else the puller's counts."""
    local_start = period.start.astimezone(period.zone)
    months = [_month_key(date(*_add_months(local_start.year, local_start.month, delta), 1)) for delta in range(-5, 1)]
    given: dict[str, dict] = {}
    for item in as_list(raw.get("trend")):
        if isinstance(item, dict) and isinstance(item.get("month"), str):
            given[item["month"]] = item
    trend: list[TrendEntry] = []
    missing = 0
    for month in months[:-1]:
        if month in history:  # a month built before: its own stored counts, resolved included
            trend.append(_trend_entry(stored_trend_entry(month, history[month])))
            continue
        item = given.get(month)
        created = item.get("created") if item else None
        resolved = item.get("resolved") if item else None
        if not isinstance(created, int) or isinstance(created, bool):
            created = None
            missing += 1
        if not isinstance(resolved, int) or isinstance(resolved, bool):
            resolved = None
        trend.append(_trend_entry({"month": month, "created": created, "resolved": resolved, **trend_figures(None)}))
    # The report month always shows this report's own figures (what its history file will hold), so the chart and the tiles agree.
    trend.append(_trend_entry({"month": months[-1], "created": volume["created"], "resolved": volume["resolved"], **own_figures}))
    if missing:
        warnings.append(f"the trend lacks ticket counts for {missing} of the five earlier months")
    return trend
