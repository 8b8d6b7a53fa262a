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
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from utils.core.period import Period
from utils.reporting.history import History, previous_figures, trend_figures
from utils.reporting.metrics_csat import csat_comments, csat_section, csat_share  # noqa: F401  (csat_comments, csat_share re-exported)
from utils.reporting.metrics_input import (  # noqa: F401  (re-exported: the settings and the raw-file checks are imported from here)
    SCHEMA_VERSION,
    MetricsSettings,
    Ticket,
    TicketSets,
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
    ticket_sets,
)
from utils.reporting.metrics_sla import (  # noqa: F401  (re-exported: duration_summary, priority_rank and the rounding are imported from here)
    PRIORITY_ORDER,
    duration_summary,
    first_contact_section,
    first_response_section,
    median_seconds,
    priority_rank,
    resolution_section,
    round_half_up,
    seconds,
    sla_section,
)
from utils.reporting.metrics_time import time_section
from utils.reporting.metrics_trend import month_key, trend_section
from utils.reporting.metrics_types import (
    Ageing,
    Backlog,
    Breakdown,
    ClientInfo,
    Metrics,
    PeriodInfo,
    RecentTicket,
    ReportDetails,
    Requester,
    Volume,
)
from utils.reporting.section import AttentionRule, ReportSection, attention_items, compute_sections
from utils.services.tickets import SOURCE_LABELS, parse_timestamp

RECENT_TICKETS_LIMIT = 25
TOP_REQUESTERS_LIMIT = 5

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


def _sorted_counts(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0].casefold(), item[0])))


# ---------------------------------------------------------------------------------------------
# The computation


@dataclass
class MetricsResult:
    """The metrics JSON (`metrics`) and the extra figures only the report shows (`details`)."""

    metrics: Metrics
    details: ReportDetails


def compute_metrics(raw: dict, settings: MetricsSettings | None = None, history: History | None = None) -> Metrics:
    """The metrics JSON of docs/metrics.md for one raw data file (keys are a contract)."""
    return compute_report_data(raw, settings, history=history).metrics


def compute_report_data(raw: dict, settings: MetricsSettings | None = None, csat_comment_text: bool = False,
                        history: History | None = None, *, extra_raw: Mapping[str, dict] | None = None,
                        sections: Sequence[ReportSection] = (), attention: Sequence[AttentionRule] = ()) -> MetricsResult:
    """The metrics JSON (every number the report shows) plus the report-only details (SLA pending, CSAT comments, data gaps).

    `history` holds earlier months' stored metrics ({"YYYY-MM": metrics JSON}, utils.reporting.history.load_history)
    for the trend and `previous`. `extra_raw` holds the other sources' raw files ({section name: raw});
    each of `sections` found there adds its key, and the `attention` rules then make the attention
    list, once, from the whole JSON (the callers pass the declared sources', utils.sources).
    """
    metrics, details = freshservice_metrics(raw, settings or MetricsSettings(), csat_comment_text, history or {})
    # The sources' keys (m365, s1) are optional keys of Metrics; the sections hand them over as a plain dict.
    cast(dict[str, Any], metrics).update(compute_sections(sections, extra_raw or {}))
    metrics["attention"] = attention_items(attention, metrics)
    return MetricsResult(metrics=metrics, details=details)


def freshservice_metrics(raw: dict, settings: MetricsSettings, csat_comment_text: bool,
                         history: History) -> tuple[Metrics, ReportDetails]:
    """The metrics JSON's Freshservice keys (attention left empty) and the report-only details."""
    check_raw(raw)
    period = read_period(raw)
    warnings: list[str] = [str(w) for w in as_list(raw.get("warnings")) if w]
    agents = {str(k): str(v) for k, v in as_dict(raw.get("agents")).items() if v}
    sets = ticket_sets(raw, period, warnings)

    volume = volume_section(sets)
    first_response = first_response_section(sets)
    resolution = resolution_section(sets)
    sla, sla_details = sla_section(sets)
    csat, csat_details = csat_section(sets.all, period, csat_comment_text, warnings)
    time_spent, time_details = time_section(sets.all, period, agents, warnings)
    ageing = ageing_section(sets)
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
        "ageing": ageing,
        "backlog": backlog_section(sets, ageing),
        "top_requesters": top_requesters_section(sets),
        "trend": trend_section(raw, period, volume, warnings, history, own_figures),
        # A quarter's `previous` is the quarter before (the review's own view); never the month before it.
        "previous": previous_figures(history, month_key(period.start.astimezone(period.zone))) if period.is_month else None,
        "attention": [],  # compute_report_data fills it once every source's key is in
        "recent_tickets": recent_tickets_section(sets),
        "warnings": list(dict.fromkeys(warnings)),
    }
    details: ReportDetails = {
        **sla_details,
        "tickets_without_stats": sum(1 for t in sets.all if not t.has_stats and (period.contains(t.created) or t.open_at(period.end))),
        "requester_names_missing": requester_names_missing(sets),
        "business_hours": settings.describe_hours(),
        "proactive_tags": list(settings.proactive_tags),
        "generated_at": _local_iso(raw.get("generated_at"), period.zone),
        "freshservice_url": raw.get("freshservice_url") if isinstance(raw.get("freshservice_url"), str) else None,
        **csat_details,
        **time_details,
    }
    return metrics, details


def client_section(raw: Mapping[str, Any]) -> ClientInfo:
    client = as_dict(raw.get("client"))
    return {"id": client.get("id"), "name": label(client.get("name"), f"Client {client.get('id')}")}


def period_section(period: Period) -> PeriodInfo:
    return {
        "kind": period.kind,
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


def backlog_section(sets: TicketSets, ageing: Ageing) -> Backlog:
    """What the open tickets at the period end ask of the client: waiting for its reply, open 30 days or more."""
    # The ageing buckets split the tickets open at the period end by age; 30 days or more is these two.
    return {"waiting_on_client": waiting_on_client_count(sets), "ge_30d": ageing["30_90d"] + ageing["ge_90d"]}


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
            "resolution_s": seconds(t.resolved - t.created) if t.resolved and t.resolved >= t.created else None,
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


