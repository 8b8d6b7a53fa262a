"""The view model: the metrics JSON worded and formatted for the templates, and nothing computed anew.

Every number comes finished from the metrics (utils.reporting.metrics); the sentences come from
utils.reporting.report_wording, the formats from utils.reporting.report_format. Colours are never
chosen here: a row carries its meaning (`tone`: positive, old, ...; `kind`: created, resolved) and
the templates colour it from templates/parts/palette.html.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from utils.core.settings import ReportSettings
from utils.reporting import report_wording as wording
from utils.reporting.attention import attention_view
from utils.reporting.branding import brand_context
from utils.reporting.history_view import sla_line
from utils.reporting.metrics import priority_rank
from utils.reporting.metrics_types import Metrics, ReportDetails, TrendEntry
from utils.reporting.report_format import (
    bar_widths,
    format_count,
    format_duration,
    format_hours,
    format_pct,
    month_name,
    parse_local,
    short_date,
    truncate,
)

BREAKDOWN_ROWS = 6  # bars per breakdown chart; the rest are summed into "Other"
SUBJECT_MAX = 70  # characters of a subject in the recent-tickets table
TIME_AGENT_ROWS = 8
CSAT_COMMENTS_SHOWN = 10


def is_empty_month(metrics: Metrics) -> bool:
    """Nothing happened: no tickets in or out, none open, no survey and no time logged."""
    volume = metrics["volume"]
    return (
        volume["created"] == 0 and volume["resolved"] == 0 and volume["open_at_start"] == 0 and volume["open_at_end"] == 0
        and metrics["csat"]["responses"] == 0 and not metrics["time"]["total_minutes"]
    )


def build_context(metrics: Metrics, details: ReportDetails, settings: ReportSettings,
                  palette: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the templates show, worded and formatted; templates add no logic of their own.

    `palette` is the template's parts/palette.html as read (utils.reporting.branding.read_palette); None: the stock one.
    """
    period = metrics["period"]
    empty = is_empty_month(metrics)
    brand = brand_context(settings.msp_name, settings.logo_url, settings.accent_color, settings.contact, palette)
    context: dict[str, Any] = {
        "brand": brand,
        "msp_name": settings.msp_name,
        "client_name": metrics["client"]["name"],
        "month": period["label"],
        "period_text": wording.period_text(period),
        "period_words": wording.period_words(period),  # "this month", "this quarter": templates/README.md lists them
        "empty": empty,
        "summary": wording.summary_paragraphs(metrics, details),
        "preheader": wording.preheader(metrics),
        "kpi_rows": wording.kpi_rows(metrics),
        "trend": _trend_chart(metrics["trend"]),
        "sla": _sla(metrics, details),
        "breakdowns": _breakdowns(metrics),
        "requesters": _requesters(metrics, details),
        "work_notes": wording.work_notes(metrics, details),
        "time": _time(metrics, details),
        "csat": _csat(metrics, details, settings),
        "backlog": _backlog(metrics, details),
        "recent": _recent(metrics),
        "attention": attention_view(metrics["attention"], period),
        # The other sources' sections and notes: build_outputs fills them from the sections it is handed.
        "source_sections": [],
        "source_notes": [],
        # An empty month keeps its footnote short: only what the month is and when the data was pulled.
        "definitions": wording.definitions(metrics, details, settings.show_csat_comments)[: 1 if empty else None],
        "warnings": metrics["warnings"],
        "pulled_at": wording.pulled_at(details.get("generated_at"), period["timezone"]),
    }
    return context


def _trend_chart(trend: list[TrendEntry]) -> dict:
    values = [v for item in trend for v in (item["created"], item["resolved"]) if v is not None]
    largest = max(values, default=0)
    height = 96
    columns = []
    for index, item in enumerate(trend):
        column: dict[str, Any] = {"label": month_name(item["month"], short=True), "current": index == len(trend) - 1, "bars": []}
        for value, kind in ((item["created"], "created"), (item["resolved"], "resolved")):  # the template colours each kind
            px = max(2, round(height * value / largest)) if value and largest else (2 if value == 0 else 0)
            column["bars"].append({"value": "–" if value is None else format_count(value), "px": px, "kind": kind, "known": value is not None, "pad": height - px})
        columns.append(column)
    has_resolved = any(item["resolved"] is not None for item in trend[:-1])
    return {
        "columns": columns,
        "height": height,
        "has_data": bool(largest),
        "resolved_partial": not has_resolved,
        "caption": wording.trend_caption(trend),
        "sla_line": sla_line(trend),  # months with a stored report carry their on-time rate (utils.reporting.history_view)
        "rows": [{"month": month_name(i["month"]), "created": format_count(i["created"]), "resolved": format_count(i["resolved"])} for i in trend],
    }


def _sla(metrics: Metrics, details: ReportDetails) -> list[dict]:
    rows = []
    sla = metrics["sla"]
    for key, name, figures in (("first_response", "First reply", sla["first_response"]), ("resolution", "Resolution", sla["resolution"])):
        # Measured means a rate: a resolution rate needs a ticket resolved against its target this month.
        measured = figures["met"] + figures["breached"] if figures["rate"] is not None else 0
        met_width = round(100 * figures["met"] / measured) if measured else 0
        rows.append({
            "name": name,
            "measured": measured,
            "met": format_count(figures["met"]),
            "breached": format_count(figures["breached"]),
            "rate": format_pct(figures["rate"]),
            "met_width": met_width,
            "breached_width": 100 - met_width,
            "note": wording.sla_note(key, details) if measured or key == "first_response" else "",
            "unmeasured": wording.sla_unmeasured(key, details),
        })
    return rows


def _bar_rows(counts: Mapping[str, int], limit: int = BREAKDOWN_ROWS) -> list[dict]:
    items = list(counts.items())
    if len(items) > limit:
        other = sum(n for _, n in items[limit - 1:])
        items = items[: limit - 1] + [(wording.other_label(len(counts) - limit + 1), other)]
    largest = max((n for _, n in items), default=0)
    return [{"label": truncate(label, 40), "value": format_count(n), **bar_widths(n, largest)} for label, n in items]


def _breakdowns(metrics: Metrics) -> list[dict]:
    breakdown = metrics["breakdown"]
    priority = dict(sorted(breakdown["priority"].items(), key=lambda item: priority_rank(item[0])))
    charts = [
        {"title": "Category", "rows": _bar_rows(breakdown["category"])},
        {"title": "Priority", "rows": _bar_rows(priority)},
        {"title": "Type", "rows": _bar_rows(breakdown["type"])},
        {"title": "Channel", "rows": _bar_rows(breakdown["source"])},
    ]
    return [chart for chart in charts if chart["rows"]]  # no table without rows: a quiet month says so once


def _requesters(metrics: Metrics, details: ReportDetails) -> dict:
    rows = metrics["top_requesters"]
    largest = max((r["tickets"] for r in rows), default=0)
    return {
        "rows": [{"name": truncate(r["name"], 40), "value": format_count(r["tickets"]), **bar_widths(r["tickets"], largest)} for r in rows],
        "reason": wording.requesters_reason(rows, details["requester_names_missing"]),
    }


def _time(metrics: Metrics, details: ReportDetails) -> dict:
    time_spent = metrics["time"]
    if time_spent["total_minutes"] is None:
        return {"available": False, "reason": wording.NO_TIME}
    by_agent = time_spent["by_agent"]
    largest = max((v["total_minutes"] for v in by_agent.values()), default=0)
    rows = [
        {"name": truncate(name, 32), "total": format_hours(v["total_minutes"]), "billable": format_hours(v["billable_minutes"]),
         **bar_widths(v["total_minutes"], largest)}
        for name, v in list(by_agent.items())[:TIME_AGENT_ROWS]
    ]
    return {
        "available": True,
        **wording.time_lead(metrics, details),
        "rows": rows,
        "more": wording.more_agents(len(by_agent) - len(rows)),
        "reason": wording.AGENT_NAMES_MISSING if details["agent_names_missing"] else "",
    }


def _csat(metrics: Metrics, details: ReportDetails, settings: ReportSettings) -> dict:
    csat = metrics["csat"]
    if not csat["responses"]:
        return {"available": False, "reason": wording.NO_CSAT}
    largest = max(csat["positive"], csat["neutral"], csat["negative"])
    rows = [
        {"label": label, "value": format_count(value), "tone": label.lower(), **bar_widths(value, largest)}
        for value, label in ((csat["positive"], "Positive"), (csat["neutral"], "Neutral"), (csat["negative"], "Negative"))
    ]
    texts = details["csat_comment_texts"][:CSAT_COMMENTS_SHOWN] if settings.show_csat_comments else []
    return {
        "available": True,
        "lead": wording.csat_lead(metrics, details),
        "rows": rows,
        "comment_texts": [truncate(text, 300) for text in texts],
    }


def _backlog(metrics: Metrics, details: ReportDetails) -> dict:
    ageing = metrics["ageing"]
    buckets = ((ageing["lt_1d"], "Under 1 day", False), (ageing["1_3d"], "1–3 days", False), (ageing["3_7d"], "3–7 days", False),
               (ageing["7_30d"], "1–4 weeks", False), (ageing["30_90d"], "1–3 months", True), (ageing["ge_90d"], "Over 3 months", True))
    largest = max(value for value, _, _ in buckets)
    rows = [{"label": label, "value": format_count(value), "tone": "old" if old else "recent", **bar_widths(value, largest)}
            for value, label, old in buckets]
    return {
        "total": metrics["volume"]["open_at_end"],
        "next_month": f"{parse_local(metrics['period']['end']):%B}",
        "lead": wording.backlog_lead(metrics, details),
        "rows": rows,
    }


def _recent(metrics: Metrics) -> dict:
    rows = []
    for item in metrics["recent_tickets"]:
        rows.append({
            "id": item["id"],
            "subject": truncate(item["subject"], SUBJECT_MAX),
            "status": truncate(item["status_text"], 24),
            "priority": item["priority_text"],
            "opened": short_date(item["created_at"]),
            "resolved": short_date(item["resolved_at"]),
            "time": format_duration(item["resolution_s"]) if item["resolution_s"] is not None else "—",
        })
    return {"rows": rows, "more": wording.recent_more(metrics["volume"]["created"] - len(rows))}
