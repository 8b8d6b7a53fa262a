"""Turning a month's metrics into the client's email: HTML (inlined for email) and plain text.

`build_outputs(raw)` is the whole job for one raw data file; `build_report.py` and the monthly
batch both call it. The numbers come from `utils.metrics`; this module only words and formats them.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2

from utils.attention import attention_items, attention_view
from utils.errors import ConfigError, DataError
from utils.files import read_json
from utils.history import History
from utils.metrics import MetricsSettings, check_raw, compute_report_data, priority_rank
from utils.sources import compute_sections, section_views

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_TEMPLATE = "email_report_template.html"
TEXT_TEMPLATE = "email_report_template.txt"
INDEX_TEMPLATE = "index_template.html"

ENV_MSP_NAME = "INTEGOREPORT_MSP_NAME"
ENV_CSAT_COMMENTS = "INTEGOREPORT_SHOW_CSAT_COMMENTS"
DEFAULT_MSP_NAME = "Your IT team"

BREAKDOWN_ROWS = 6  # bars per breakdown chart; the rest are summed into "Other"
SUBJECT_MAX = 70
NBSP = "\u00a0"  # keeps a number and its unit on one line  # characters of a subject in the recent-tickets table

log = logging.getLogger(__name__)
_INDENT = re.compile(r"\n[ \t]+")


@dataclass(frozen=True)
class ReportSettings:
    """What the report says about who sends it and what it may show; plus the metrics settings."""

    msp_name: str = DEFAULT_MSP_NAME
    show_csat_comments: bool = False
    metrics: MetricsSettings = field(default_factory=MetricsSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReportSettings:
        """Read INTEGOREPORT_MSP_NAME, INTEGOREPORT_SHOW_CSAT_COMMENTS and the metrics variables."""
        env = os.environ if env is None else env
        name = env.get(ENV_MSP_NAME, "").strip() or DEFAULT_MSP_NAME
        flag = env.get(ENV_CSAT_COMMENTS, "").strip().lower()
        if flag not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
            raise ConfigError(f"{ENV_CSAT_COMMENTS} must be 1 or 0 (yes/no), not {flag!r}")
        return cls(msp_name=name, show_csat_comments=flag in ("1", "true", "yes", "on"), metrics=MetricsSettings.from_env(env))


# ---------------------------------------------------------------------------------------------
# Formatting


def format_count(n: int | None) -> str:
    """1234 -> '1,234'; None -> 'n/a'."""
    return "n/a" if n is None else f"{n:,}"


def format_pct(rate: float | None) -> str:
    """A rate as a whole percentage that never claims 100% or 0% when it is not exactly so."""
    if rate is None:
        return "n/a"
    pct = int(rate * 100 + 0.5)
    if pct == 100 and rate < 1:
        pct = 99
    if pct == 0 and rate > 0:
        pct = 1
    return f"{pct}%"


def format_duration(seconds: int | None) -> str:
    """Seconds in words a client reads at a glance: '45 sec', '42 min', '6.5 h', '3.2 days'."""
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds}{NBSP}sec"
    if seconds < 3600:
        return f"{int(seconds / 60 + 0.5)}{NBSP}min"
    if seconds < 48 * 3600:
        return f"{_one_decimal(seconds / 3600)}{NBSP}h"
    return f"{_one_decimal(seconds / 86400)}{NBSP}days"


def format_hours(minutes: int | None) -> str:
    """Minutes as hours: 90 -> '1.5 h', 6330 -> '105.5 h'."""
    if minutes is None:
        return "n/a"
    if minutes < 60:
        return f"{minutes}{NBSP}min"
    return f"{_one_decimal(minutes / 60, thousands=True)}{NBSP}h"


def _one_decimal(value: float, thousands: bool = False) -> str:
    text = f"{value:,.1f}" if thousands else f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{format_count(n)} {one if n == 1 else (many or one + 's')}"


def _local(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def _short_date(iso: str | None) -> str:
    moment = _local(iso)
    return f"{moment:%b}{NBSP}{moment.day}" if moment else "—"


def _month_name(month_key: str | None, short: bool = False) -> str:
    if not month_key:
        return ""
    moment = datetime.strptime(month_key + "-01", "%Y-%m-%d")
    return f"{moment:%b}" if short else f"{moment:%B}"


def zone_label(zone: str) -> str:
    """A time zone as people write it: 'America/New_York' -> 'America/New York', 'Etc/UTC' -> 'UTC'."""
    if zone in ("UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"):
        return "UTC"
    return zone.replace("_", " ")


def _truncate(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _bar(value: int, largest: int) -> dict[str, int]:
    """Widths (percent) of a bar and its track, the bar at least 1% when the value is not 0."""
    width = round(100 * value / largest) if largest else 0
    if value and not width:
        width = 1
    return {"bar": width, "rest": 100 - width}


# ---------------------------------------------------------------------------------------------
# What the report says


def build_context(metrics: dict, details: dict, settings: ReportSettings) -> dict[str, Any]:
    """Everything the templates show, worded and formatted; templates add no logic of their own."""
    period = metrics["period"]
    start = _local(period["start"])
    end = _local(period["end"])
    last_day = end - timedelta(days=1)
    month = period["label"]
    next_month = f"{end:%B}"
    trend = metrics["trend"]
    previous = trend[-2] if len(trend) >= 2 else None
    previous_name = _month_name(previous["month"]) if previous else ""
    volume = metrics["volume"]

    empty = (
        volume["created"] == 0 and volume["resolved"] == 0 and volume["open_at_start"] == 0 and volume["open_at_end"] == 0
        and metrics["csat"]["responses"] == 0 and not metrics["time"]["total_minutes"]
    )
    context: dict[str, Any] = {
        "msp_name": settings.msp_name,
        "client_name": metrics["client"]["name"],
        "month": month,
        "period_text": f"{start:%B} {start.day} to {last_day:%B} {last_day.day}, {last_day.year} ({zone_label(period['timezone'])} time)",
        "empty": empty,
        "summary": summary_paragraphs(metrics, details),
        "preheader": preheader(metrics),
        "kpi_rows": _kpi_rows(metrics, details, previous, previous_name),
        "trend": _trend_chart(trend),
        "sla": _sla(metrics, details),
        "breakdowns": _breakdowns(metrics),
        "requesters": _requesters(metrics, details),
        "work_notes": _work_notes(metrics, details),
        "time": _time(metrics, details),
        "csat": _csat(metrics, details, settings),
        "backlog": _backlog(metrics, details, next_month),
        "recent": _recent(metrics),
        # An empty month keeps its footnote short: only what the month is and when the data was pulled.
        "definitions": _definitions(metrics, details, settings.show_csat_comments)[: 1 if empty else None],
        "settled_cases": [] if empty else details["settled_cases"],
        "warnings": metrics["warnings"],
        "pulled_at": _pulled_at(details.get("generated_at"), period["timezone"]),
    }
    return context


def _change(current: int | None, before: int | None, month_name: str) -> dict | None:
    if current is None or before is None:
        return None
    diff = current - before
    if diff == 0:
        return {"arrow": "=", "text": f"same as {month_name[:3]}"}
    return {"arrow": "▲" if diff > 0 else "▼", "text": f"{abs(diff):,} vs {month_name[:3]} ({before:,})"}


def summary_paragraphs(metrics: dict, details: dict) -> list[str]:
    """The executive summary: plain sentences from the numbers, none for a number that is null."""
    volume = metrics["volume"]
    label = metrics["period"]["label"]
    trend = metrics["trend"]
    previous = trend[-2] if len(trend) >= 2 else None
    previous_name = _month_name(previous["month"]) if previous else ""
    end = _local(metrics["period"]["end"])
    paragraphs: list[list[str]] = [[], [], []]

    created, resolved = volume["created"], volume["resolved"]
    if created == 0 and resolved == 0:
        if volume["open_at_end"] == 0:
            paragraphs[0].append(f"It was a quiet month: no tickets were raised or resolved in {label}, and nothing is waiting.")
            paragraphs[0].append("If anything comes up, just get in touch.")
        else:
            paragraphs[0].append(f"No tickets were raised or resolved in {label}.")
    elif created == 0:
        paragraphs[0].append(f"No new tickets came in during {label}; we resolved {_plural(resolved, 'ticket')} that were already open.")
    else:
        paragraphs[0].append(f"In {label} your team raised {_plural(created, 'ticket')} and we resolved {format_count(resolved)}.")
        if previous and previous["created"] is not None:
            diff = created - previous["created"]
            if diff == 0:
                paragraphs[0].append(f"That is the same number of new tickets as in {previous_name}.")
            else:
                paragraphs[0].append(
                    f"That is {format_count(abs(diff))} {'more' if diff > 0 else 'fewer'} new tickets than in {previous_name} ({format_count(previous['created'])})."
                )

    fr, res = metrics["first_response"], metrics["resolution"]
    if fr["median_s"] is not None and res["median_s"] is not None:
        paragraphs[0].append(
            f"Half of the new tickets had a first reply within {format_duration(fr['median_s'])}, "
            f"and half of the resolved tickets were fixed within {format_duration(res['median_s'])}."
        )
    elif fr["median_s"] is not None:
        paragraphs[0].append(f"Half of the new tickets had a first reply within {format_duration(fr['median_s'])}.")
    elif res["median_s"] is not None:
        paragraphs[0].append(f"Half of the resolved tickets were fixed within {format_duration(res['median_s'])}.")

    sla = metrics["sla"]
    fr_rate, res_rate = sla["first_response"]["rate"], sla["resolution"]["rate"]
    if fr_rate is not None and res_rate is not None:
        paragraphs[0].append(f"{format_pct(fr_rate)} of first replies and {format_pct(res_rate)} of resolutions met their agreed target.")
    elif fr_rate is not None:
        paragraphs[0].append(f"{format_pct(fr_rate)} of first replies met their agreed target.")
    elif res_rate is not None:
        paragraphs[0].append(f"{format_pct(res_rate)} of resolutions met their agreed target.")
    if metrics["fcr"]["rate"] is not None and resolved >= 5:
        paragraphs[0].append(f"{format_pct(metrics['fcr']['rate'])} of resolved tickets were fixed at first contact.")

    open_end = volume["open_at_end"]
    ageing = metrics["ageing"]
    old = ageing["30_90d"] + ageing["ge_90d"]
    if open_end and (created or resolved):
        sentence = f"{_plural(open_end, 'ticket')} {'is' if open_end == 1 else 'are'} carried into {end:%B}"
        sentence += f", {format_count(old)} of them older than 30 days." if old else "."
        paragraphs[1].append(sentence)
    elif open_end:
        paragraphs[1].append(f"{_plural(open_end, 'ticket')} {'is' if open_end == 1 else 'are'} still open going into {end:%B}.")
    elif created or resolved:
        paragraphs[1].append(f"Nothing was left open at the end of {label.split()[0]}.")
    waiting = details["waiting_on_client"]
    if waiting:
        paragraphs[1].append(
            f"{_plural(waiting, 'ticket')} {'is' if waiting == 1 else 'are'} waiting for a reply from your side: "
            "answering {} helps us close {}.".format("it" if waiting == 1 else "them", "it" if waiting == 1 else "them")
        )
    overdue = details["sla_resolution_overdue_open"]
    if overdue:
        paragraphs[1].append(f"{_plural(overdue, 'open ticket')} {'is' if overdue == 1 else 'are'} past {'its' if overdue == 1 else 'their'} resolution target.")
    if metrics["first_response"]["awaiting"]:
        n = metrics["first_response"]["awaiting"]
        paragraphs[1].append(f"{_plural(n, 'new ticket')} {'is' if n == 1 else 'are'} still waiting for our first reply.")

    csat = metrics["csat"]
    if csat["responses"]:
        paragraphs[2].append(
            f"{format_count(csat['positive'])} of {_plural(csat['responses'], 'satisfaction survey response')} "
            f"{'was' if csat['positive'] == 1 else 'were'} positive."
        )
    time_spent = metrics["time"]
    if time_spent["total_minutes"] is not None:
        sentence = f"We logged {format_hours(time_spent['total_minutes'])} of work"
        if time_spent["billable_minutes"] != time_spent["total_minutes"]:
            sentence += f", {format_hours(time_spent['billable_minutes'])} of it billable"
        paragraphs[2].append(sentence + ".")
    proactive = metrics["proactive"]["created"]
    if proactive:
        paragraphs[2].append(
            f"{_plural(proactive, 'ticket')} {'was' if proactive == 1 else 'were'} proactive work we started ourselves, such as maintenance."
        )
    after = metrics["after_hours"]["created"]
    if after:
        paragraphs[2].append(f"{_plural(after, 'ticket')} came in outside business hours.")
    return [" ".join(p) for p in paragraphs if p]


def preheader(metrics: dict) -> str:
    """The inbox preview line: the month's headline numbers first."""
    volume = metrics["volume"]
    parts = [f"{format_count(volume['created'])} new", f"{format_count(volume['resolved'])} resolved"]
    rate = metrics["sla"]["resolution"]["rate"]
    if rate is not None:
        parts.append(f"{format_pct(rate)} resolved on time")
    elif metrics["sla"]["first_response"]["rate"] is not None:
        parts.append(f"{format_pct(metrics['sla']['first_response']['rate'])} first replies on time")
    if metrics["first_response"]["median_s"] is not None:
        parts.append(f"first reply in {format_duration(metrics['first_response']['median_s'])} (median)")
    parts.append(f"{format_count(volume['open_at_end'])} still open")
    return f"{metrics['period']['label']}: " + ", ".join(parts) + f". Your IT report for {metrics['client']['name']}."


def _tile(label: str, value: str | None, note: str, change: dict | None = None) -> dict:
    return {"label": label, "value": value if value is not None else "Not available", "available": value is not None, "note": note, "change": change}


def _kpi_rows(metrics: dict, details: dict, previous: dict | None, previous_name: str) -> list[list[dict]]:
    volume = metrics["volume"]
    fr, res = metrics["first_response"], metrics["resolution"]
    sla = metrics["sla"]
    csat = metrics["csat"]
    time_spent = metrics["time"]
    ageing = metrics["ageing"]

    new = _tile("New tickets", format_count(volume["created"]), "raised this month",
                _change(volume["created"], previous["created"] if previous else None, previous_name))
    resolved = _tile("Resolved", format_count(volume["resolved"]), "closed this month",
                     _change(volume["resolved"], previous["resolved"] if previous else None, previous_name))
    old = ageing["30_90d"] + ageing["ge_90d"]
    open_end = _tile("Open at month end", format_count(volume["open_at_end"]),
                     f"{format_count(old)} older than 30 days" if old else "none older than 30 days" if volume["open_at_end"] else "nothing waiting")
    if time_spent["total_minutes"] is None:
        hours = _tile("Hours of work", None, "no time was logged this month")
    else:
        hours = _tile("Hours of work", format_hours(time_spent["total_minutes"]), f"{format_hours(time_spent['billable_minutes'])} billable")

    if fr["median_s"] is None:
        first = _tile("First reply", None, "no replies to new tickets yet" if volume["created"] else "no new tickets")
    else:
        first = _tile("First reply", format_duration(fr["median_s"]), f"median; 90% within {format_duration(fr['p90_s'])}")
    if res["median_s"] is None:
        fix = _tile("Time to resolve", None, "no tickets resolved")
    else:
        fix = _tile("Time to resolve", format_duration(res["median_s"]), f"median; 90% within {format_duration(res['p90_s'])}")
    res_rate, fr_rate = sla["resolution"]["rate"], sla["first_response"]["rate"]
    if res_rate is not None:
        note = f"first replies {format_pct(fr_rate)}" if fr_rate is not None else f"{format_count(sla['resolution']['met'])} of {format_count(sla['resolution']['met'] + sla['resolution']['breached'])} on time"
        sla_tile = _tile("Resolved on time", format_pct(res_rate), note)
    elif fr_rate is not None:
        sla_tile = _tile("First reply on time", format_pct(fr_rate), f"{format_count(sla['first_response']['met'])} of {format_count(sla['first_response']['met'] + sla['first_response']['breached'])} tickets")
    else:
        sla_tile = _tile("SLA met", None, "no tickets with a target due")
    if csat["responses"]:
        sat = _tile("Positive ratings", format_pct(csat["positive"] / csat["responses"]), f"{format_count(csat['positive'])} of {_plural(csat['responses'], 'response')}")
    else:
        sat = _tile("Positive ratings", None, "no survey responses this month")
    return [[new, resolved, open_end, hours], [first, fix, sla_tile, sat]]


def _trend_chart(trend: list[dict]) -> dict:
    values = [v for item in trend for v in (item["created"], item["resolved"]) if v is not None]
    largest = max(values, default=0)
    height = 96
    columns = []
    for index, item in enumerate(trend):
        column = {"label": _month_name(item["month"], short=True), "current": index == len(trend) - 1, "bars": []}
        for key, colour in (("created", "#2b6cb0"), ("resolved", "#0f766e")):
            value = item[key]
            px = max(2, round(height * value / largest)) if value and largest else (2 if value == 0 else 0)
            column["bars"].append({"value": "–" if value is None else format_count(value), "px": px, "colour": colour, "known": value is not None, "pad": height - px})
        columns.append(column)
    has_resolved = any(item["resolved"] is not None for item in trend[:-1])
    known = [item for item in trend if item["created"] is not None]
    busiest = max(known, key=lambda item: item["created"]) if known else None
    caption = ""
    if busiest and busiest["created"]:
        caption = f"Busiest month for new tickets: {_month_name(busiest['month'])} ({format_count(busiest['created'])})."
    return {
        "columns": columns,
        "height": height,
        "has_data": bool(largest),
        "resolved_partial": not has_resolved,
        "caption": caption,
        "rows": [{"month": _month_name(i["month"]), "created": format_count(i["created"]), "resolved": format_count(i["resolved"])} for i in trend],
    }


def _sla(metrics: dict, details: dict) -> list[dict]:
    rows = []
    for key, name in (("first_response", "First reply"), ("resolution", "Resolution")):
        figures = metrics["sla"][key]
        measured = figures["met"] + figures["breached"]
        notes = []
        if key == "first_response":
            if details["sla_first_response_pending"]:
                notes.append(f"{_plural(details['sla_first_response_pending'], 'ticket')} still inside {'its' if details['sla_first_response_pending'] == 1 else 'their'} target at month end (not counted)")
            if details["sla_first_response_resolved_without_reply"]:
                notes.append(f"{format_count(details['sla_first_response_resolved_without_reply'])} resolved without a reply (not counted)")
        elif details["sla_resolution_overdue_open"]:
            notes.append(f"missed includes {_plural(details['sla_resolution_overdue_open'], 'open ticket')} past {'its' if details['sla_resolution_overdue_open'] == 1 else 'their'} target")
        met_width = round(100 * figures["met"] / measured) if measured else 0
        rows.append({
            "name": name,
            "measured": measured,
            "met": format_count(figures["met"]),
            "breached": format_count(figures["breached"]),
            "rate": format_pct(figures["rate"]),
            "met_width": met_width,
            "breached_width": 100 - met_width,
            "note": "; ".join(notes),
        })
    return rows


def _bar_rows(counts: Mapping[str, int], limit: int = BREAKDOWN_ROWS) -> list[dict]:
    items = list(counts.items())
    if len(items) > limit:
        other = sum(n for _, n in items[limit - 1:])
        items = items[: limit - 1] + [(f"Other ({len(counts) - limit + 1})", other)]
    largest = max((n for _, n in items), default=0)
    return [{"label": _truncate(label, 40), "value": format_count(n), **_bar(n, largest)} for label, n in items]


def _breakdowns(metrics: dict) -> list[dict]:
    breakdown = metrics["breakdown"]
    priority = dict(sorted(breakdown["priority"].items(), key=lambda item: priority_rank(item[0])))
    return [
        {"title": "Category", "rows": _bar_rows(breakdown["category"])},
        {"title": "Priority", "rows": _bar_rows(priority)},
        {"title": "Type", "rows": _bar_rows(breakdown["type"])},
        {"title": "Channel", "rows": _bar_rows(breakdown["source"])},
    ]


def _requesters(metrics: dict, details: dict) -> dict:
    rows = metrics["top_requesters"]
    largest = max((r["tickets"] for r in rows), default=0)
    reason = ""
    if details["requester_names_missing"]:
        reason = "Names not available: the Freshservice API key may not read requesters, so people are shown by their id."
    elif any(r["name"].startswith("Requester ") for r in rows):
        reason = "Some names are not in the data, so those people are shown by their id."
    return {"rows": [{"name": _truncate(r["name"], 40), "value": format_count(r["tickets"]), **_bar(r["tickets"], largest)} for r in rows], "reason": reason}


def _work_notes(metrics: dict, details: dict) -> list[dict]:
    created = metrics["volume"]["created"]
    after = metrics["after_hours"]["created"]
    proactive = metrics["proactive"]["created"]
    tags = ", ".join(details["proactive_tags"]) or "none"
    return [
        {"label": "Outside business hours", "value": format_count(after),
         "note": f"{format_pct(after / created) if after else 'none'} of new tickets; business hours are {details['business_hours']}"
         if created else f"business hours are {details['business_hours']}"},
        {"label": "Proactive work", "value": format_count(proactive),
         "note": f"tickets we started ourselves, tagged {tags}"},
    ]


def _time(metrics: dict, details: dict) -> dict:
    time_spent = metrics["time"]
    if time_spent["total_minutes"] is None:
        return {"available": False, "reason": "Not available: no time was logged on this client's tickets this month."}
    by_agent = time_spent["by_agent"]
    largest = max((v["total_minutes"] for v in by_agent.values()), default=0)
    rows = [
        {"name": _truncate(name, 32), "total": format_hours(v["total_minutes"]), "billable": format_hours(v["billable_minutes"]),
         **_bar(v["total_minutes"], largest)}
        for name, v in list(by_agent.items())[:8]
    ]
    hidden = len(by_agent) - len(rows)
    return {
        "available": True,
        "total": format_hours(time_spent["total_minutes"]),
        "billable": format_hours(time_spent["billable_minutes"]),
        "non_billable": format_hours(time_spent["non_billable_minutes"]),
        "entries": _plural(details["time_entries"], "time entry", "time entries"),
        "rows": rows,
        "more": f"and {_plural(hidden, 'more agent')}" if hidden > 0 else "",
        "reason": "Agent names not available: the API key may not read agents, so agents are shown by their id." if details["agent_names_missing"] else "",
    }


def _csat(metrics: dict, details: dict, settings: ReportSettings) -> dict:
    csat = metrics["csat"]
    if not csat["responses"]:
        return {"available": False, "reason": "Not available: no satisfaction surveys were answered this month."}
    largest = max(csat["positive"], csat["neutral"], csat["negative"])
    rows = [
        {"label": label, "value": format_count(csat[key]), "colour": colour, **_bar(csat[key], largest)}
        for key, label, colour in (("positive", "Positive", "#2f855a"), ("neutral", "Neutral", "#8a6d1d"), ("negative", "Negative", "#c53030"))
    ]
    comments = details["csat_comments"]
    return {
        "available": True,
        "responses": format_count(csat["responses"]),
        "positive_share": format_pct(csat["positive"] / csat["responses"]),
        "average": format_pct(csat["average_pct"]) if csat["average_pct"] is not None else None,
        "rows": rows,
        "comments": _plural(comments, "comment") if comments else "no comments",
        "comment_texts": [_truncate(text, 300) for text in details["csat_comment_texts"][:10]] if settings.show_csat_comments else [],
    }


def _backlog(metrics: dict, details: dict, next_month: str) -> dict:
    ageing = metrics["ageing"]
    labels = (("lt_1d", "Under 1 day"), ("1_3d", "1–3 days"), ("3_7d", "3–7 days"), ("7_30d", "1–4 weeks"), ("30_90d", "1–3 months"), ("ge_90d", "Over 3 months"))
    largest = max(ageing.values(), default=0)
    rows = [{"label": label, "value": format_count(ageing[key]), "colour": "#c05621" if key in ("30_90d", "ge_90d") else "#2b6cb0", **_bar(ageing[key], largest)} for key, label in labels]
    return {"total": metrics["volume"]["open_at_end"], "next_month": next_month, "rows": rows, "waiting": details["waiting_on_client"], "overdue": details["sla_resolution_overdue_open"]}


def _recent(metrics: dict) -> dict:
    rows = []
    for item in metrics["recent_tickets"]:
        rows.append({
            "id": item["id"],
            "subject": _truncate(item["subject"], SUBJECT_MAX),
            "status": _truncate(item["status_text"], 24),
            "priority": item["priority_text"],
            "opened": _short_date(item["created_at"]),
            "resolved": _short_date(item["resolved_at"]),
            "time": format_duration(item["resolution_s"]) if item["resolution_s"] is not None else "—",
        })
    more = metrics["volume"]["created"] - len(rows)
    return {"rows": rows, "more": f"…and {_plural(more, 'more ticket')} created this month." if more > 0 else ""}


def _definitions(metrics: dict, details: dict, show_comments: bool) -> list[str]:
    zone = zone_label(metrics["period"]["timezone"])
    return [
        f"The month runs from midnight on the 1st to midnight on the last day, {zone} time.",
        "New tickets were created in the month; resolved tickets were resolved in it, whenever they were opened; "
        "open tickets were created before the month ended and not resolved by then.",
        "First reply: time from a ticket's creation to our first response. Time to resolve: from creation to resolution. "
        "The median is the middle value (half were faster); '90% within' is the time nine in ten stayed under.",
        "On time: replies and resolutions within the target set in Freshservice. An open ticket past its resolution target "
        "counts as missed each month until it is closed; tickets still within their target at month end are not counted.",
        "First contact: resolved with at most one reply from us and never reopened.",
        "Satisfaction: survey responses sent in the month. Positive means at least 75% of the possible score "
        "(or the top ratings when there is no score); negative means 50% or less. "
        + ("Comments are quoted as written." if show_comments else "Comments are counted, not quoted."),
        "Hours of work: time logged on the tickets, counted in the month the work was done.",
        f"Outside business hours: created outside {details['business_hours']}, {zone} time. "
        f"Proactive: tickets tagged {', '.join(details['proactive_tags']) or '(no tags set)'} or marked as proactive.",
        "Waiting for you: open tickets whose status is Pending or waiting on the customer.",
    ]


def _pulled_at(generated_at: str | None, zone: str) -> str:
    moment = _local(generated_at)
    if not moment:
        return "The time the data was pulled is not recorded."
    return f"Data pulled from Freshservice on {moment:%B} {moment.day}, {moment.year} at {moment:%H:%M} ({zone_label(zone)} time)."


# ---------------------------------------------------------------------------------------------
# Rendering


def template_environment(directory: Path, html: bool = True) -> jinja2.Environment:
    """Jinja2 with undefined variables as errors, and autoescaping on for HTML (whatever the file is called)."""
    # A restyled template kept elsewhere still finds the stock section partials (sections/*).
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(directory)), jinja2.FileSystemLoader(str(TEMPLATES_DIR))]),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _locate_template(template: str | Path) -> tuple[Path, str]:
    """A template given by name (in templates/) or by path: its folder and its file name."""
    path = Path(template)
    if path.parent != Path(".") or path.is_absolute():
        return path.expanduser().resolve().parent, path.name
    local = TEMPLATES_DIR / path.name
    if not local.exists() and path.exists():
        return path.resolve().parent, path.name
    return TEMPLATES_DIR, path.name


def render_template(template: str | Path, context: dict, html: bool = True) -> str:
    """Render one template with the context; a missing or failing template is a one-line DataError."""
    directory, name = _locate_template(template)
    environment = template_environment(directory, html=html)
    where = directory / name
    try:
        return environment.get_template(name).render(context)
    except jinja2.TemplateNotFound:
        raise DataError(f"template not found: {where}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise DataError(f"template {where} has a syntax error on line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise DataError(f"template {where} failed to render: {exc.message or exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError, ZeroDivisionError) as exc:
        raise DataError(f"template {where} failed to render: {type(exc).__name__}: {exc}") from None


def compact_html(html: str) -> str:
    """Drop the template's indentation: it is pure weight against Gmail's ~102 KB clipping limit."""
    return _INDENT.sub("\n", html)


def inline_css(html: str) -> str:
    """Move the template's CSS into style attributes for email clients (premailer, never the network)."""
    from premailer import Premailer  # imported here: it is slow to import and only the HTML needs it

    return Premailer(
        html,
        strip_important=False,  # keep !important inside @media (the phone layout)
        allow_network=False,  # never fetch <link> CSS from a cron job
        cssutils_logging_level=logging.CRITICAL,  # silence "Unknown Property name" noise
    ).transform(pretty_print=False)


def build_outputs(raw: dict, template: str | Path = DEFAULT_TEMPLATE, settings: ReportSettings | None = None,
                  extra_raw: Mapping[str, dict] | None = None, source_failures: Mapping[str, str] | None = None,
                  history: History | None = None) -> tuple[str, str, dict]:
    """The inlined HTML email, its plain-text version and the metrics JSON for one raw data dictionary.

    `extra_raw` holds the other sources' raw files for the same client and month ({source name: raw},
    see utils.sources); `source_failures` says why a source could not be pulled this month;
    `history` the client's earlier months as stored (utils.history.load_history).
    Without `settings`, they are read from the environment (ReportSettings.from_env).
    """
    settings = settings or ReportSettings.from_env()
    result = compute_report_data(raw, settings.metrics, csat_comment_text=settings.show_csat_comments, history=history)
    result.metrics.update(compute_sections(extra_raw or {}))
    # Attention reads the other sources' sections too, so it is counted again once they are in.
    result.metrics["attention"] = attention_items(result.metrics, result.details["waiting_on_client"])
    context = build_context(result.metrics, result.details, settings)
    context["attention"] = attention_view(result.metrics["attention"])
    context["source_sections"], sentences, context["source_notes"] = section_views(result.metrics, source_failures)
    if sentences:
        context["summary"].append(" ".join(sentences))
    html = inline_css(compact_html(render_template(template, context)))
    text = render_template(TEXT_TEMPLATE, context, html=False)
    return html, text, result.metrics


def render_index(period: Any, clients: list[dict]) -> str:
    """The MSP's own index of a batch run: one row per client with its headline numbers and a link to its report.

    `period` has a `label` (attribute or key); each client row is a dict with `client` ({"id", "name"}),
    `report` (the report's file name beside the index, or None), `metrics` (the metrics JSON or None),
    `tickets` (tickets in the raw data), `error` (why the client failed, or None) and optionally
    `steps_failed` ({source or step name: why it failed} for a client whose report was built).
    """
    from urllib.parse import quote

    label = getattr(period, "label", None) or (period.get("label") if isinstance(period, Mapping) else None) or str(period)
    rows = []
    for item in clients:
        client = item.get("client") or {}
        metrics = item.get("metrics")
        name = str(client.get("name") or f"Client {client.get('id')}")
        if metrics:
            volume = metrics["volume"]
            numbers = [
                format_count(volume["created"]), format_count(volume["resolved"]), format_count(volume["open_at_end"]),
                format_pct(metrics["sla"]["resolution"]["rate"]),
                format_pct(metrics["csat"]["positive"] / metrics["csat"]["responses"]) if metrics["csat"]["responses"] else "n/a",
                format_hours(metrics["time"]["total_minutes"]),
            ]
        else:
            numbers = ["–"] * 6
        error = item.get("error")
        # A source or step that failed for this client (utils/batch.py) is named beside "built".
        step_notes = "".join(f"; {name} failed: {detail}" for name, detail in (item.get("steps_failed") or {}).items())
        rows.append({
            "name": name,
            "href": quote(str(item["report"])) if item.get("report") else None,
            "numbers": numbers,
            "error": bool(error),
            "status": f"failed: {error}" if error else "built" + step_notes,
        })
    return render_template(INDEX_TEMPLATE, {
        "label": label, "rows": rows, "done": sum(1 for r in rows if not r["error"]), "failed": sum(1 for r in rows if r["error"]),
        "headings": ["Client", "New", "Resolved", "Open at end", "Resolved on time", "Positive ratings", "Hours", "Status"],
    })


def load_raw(path: Path | str) -> dict:
    """Read and check a raw data file; every problem is a one-line DataError naming the file."""
    path = Path(path)
    raw = read_json(path, "raw data file")
    try:
        check_raw(raw)
    except DataError as exc:
        raise DataError(f"raw data file {path}: {exc}") from None
    return raw


def newest_raw_file(raw_dir: Path) -> Path:
    """The newest raw_data/freshservice_*.json: by the generated_at inside, then by modification time."""
    candidates = sorted(raw_dir.glob("freshservice_*.json")) if raw_dir.is_dir() else []
    if not candidates:
        raise DataError(f"no raw data file found: {raw_dir}/freshservice_*.json (run the puller first, or give a file)")

    def freshness(path: Path) -> tuple[float, float]:
        generated = 0.0
        try:
            data = read_json(path, "raw data file")
            value = data.get("generated_at") if isinstance(data, dict) else None
            if isinstance(value, str):
                generated = datetime.fromisoformat(value).timestamp()
        except (DataError, ValueError, OverflowError):
            pass
        try:
            mtime = path.stat().st_mtime
        except OSError:
            mtime = 0.0
        return generated, mtime

    return max(candidates, key=freshness)
