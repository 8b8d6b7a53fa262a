"""What the report says: every sentence, tile and note, worded once for both the HTML and the text version.

Plurals are decided here ("1 survey response", "2 survey responses"), never in the templates, so the
two versions cannot disagree. The numbers inside come from `utils.reporting.report_format`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from utils.reporting.history_view import tile_changes
from utils.reporting.metrics_types import Metrics, PeriodInfo, ReportDetails, Requester, TrendEntry
from utils.reporting.report_format import (
    format_count,
    format_duration,
    format_hours,
    format_pct,
    long_date,
    month_name,
    noun,
    parse_local,
    plural,
    zone_label,
)

NOT_AVAILABLE = "Not available"


def previous_month(metrics: Metrics) -> tuple[TrendEntry | None, str]:
    """The trend's entry for the month before the report month, and that month's name ('' without one)."""
    trend = metrics["trend"]
    previous = trend[-2] if len(trend) >= 2 else None
    return previous, month_name(previous["month"]) if previous else ""


def period_text(period: PeriodInfo) -> str:
    """'October 1 to October 31, 2026 (America/New York time)'."""
    start = datetime.fromisoformat(period["start"])
    last_day = datetime.fromisoformat(period["end"]) - timedelta(days=1)
    return f"{start:%B} {start.day} to {last_day:%B} {last_day.day}, {last_day.year} ({zone_label(period['timezone'])} time)"


# A range's month count in words ("these four months"); a range is 2 to 12 whole months.
_COUNT_WORDS = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def period_words(period: Mapping[str, Any] | None) -> dict[str, str]:
    """How running text names the report's period, by its kind: every "this month" of the report, the sections
    and the templates (as `period_words`) comes from here. A period without a kind (stored before issue 19) is a month.

    noun "month" / "quarter" / "period"; this "this month" / "this quarter" / "these four months" (said as "this
    month" is); the "the month" / "the quarter" / "these four months"; at_end "at month end" / "at quarter end" /
    "at the end of October 2026"; start "the start of the month" / "the start of July 2026"; next "next month" /
    "next quarter" / "the next four months".
    """
    kind = str((period or {}).get("kind") or "month")
    if kind in ("month", "quarter") or period is None:
        return {"noun": kind, "this": f"this {kind}", "the": f"the {kind}", "at_end": f"at {kind} end",
                "start": f"the start of the {kind}", "next": f"next {kind}"}
    first, last = datetime.fromisoformat(period["start"]), datetime.fromisoformat(period["end"]) - timedelta(days=1)
    count = _COUNT_WORDS[min(max((last.year - first.year) * 12 + last.month - first.month + 1, 1), 12)]
    return {"noun": "period", "this": f"these {count} months", "the": f"these {count} months",
            "at_end": f"at the end of {last:%B %Y}", "start": f"the start of {first:%B %Y}", "next": f"the next {count} months"}


def summary_paragraphs(metrics: Metrics, details: ReportDetails) -> list[str]:
    """The executive summary: plain sentences from the numbers, none for a number that is null."""
    paragraphs = [
        volume_sentences(metrics) + speed_sentences(metrics),
        open_sentences(metrics, details),
        service_sentences(metrics),
    ]
    return [" ".join(p) for p in paragraphs if p]


def volume_sentences(metrics: Metrics) -> list[str]:
    """How many tickets came in and went out, against the month before."""
    volume = metrics["volume"]
    label = metrics["period"]["label"]
    created, resolved = volume["created"], volume["resolved"]
    if created == 0 and resolved == 0:
        if volume["open_at_end"] == 0:
            return [f"It was a quiet month: no tickets were raised or resolved in {label}, and nothing is waiting.",
                    "If anything comes up, just get in touch."]
        return [f"No tickets were raised or resolved in {label}."]
    if created == 0:
        return [f"No new tickets came in during {label}; we resolved {plural(resolved, 'ticket')} that {noun(resolved, 'was', 'were')} already open."]
    sentences = [f"In {label} your team raised {plural(created, 'ticket')} and we resolved {format_count(resolved)}."]
    previous, previous_name = previous_month(metrics)
    if previous and previous["created"] is not None:
        diff = created - previous["created"]
        if diff == 0:
            sentences.append(f"That is the same number of new tickets as in {previous_name}.")
        else:
            sentences.append(f"That is {format_count(abs(diff))} {'more' if diff > 0 else 'fewer'} new {noun(abs(diff), 'ticket')} "
                             f"than in {previous_name} ({format_count(previous['created'])}).")
    return sentences


def speed_sentences(metrics: Metrics) -> list[str]:
    """How fast we replied and resolved, and how often on target and at first contact."""
    sentences = []
    fr, res = metrics["first_response"]["median_s"], metrics["resolution"]["median_s"]
    if fr is not None and res is not None:
        sentences.append(f"Half of the new tickets had a first reply within {format_duration(fr)}, "
                         f"and half of the resolved tickets were fixed within {format_duration(res)}.")
    elif fr is not None:
        sentences.append(f"Half of the new tickets had a first reply within {format_duration(fr)}.")
    elif res is not None:
        sentences.append(f"Half of the resolved tickets were fixed within {format_duration(res)}.")
    fr_rate, res_rate = metrics["sla"]["first_response"]["rate"], metrics["sla"]["resolution"]["rate"]
    if fr_rate is not None and res_rate is not None:
        sentences.append(f"{format_pct(fr_rate)} of first replies and {format_pct(res_rate)} of resolutions met their agreed target.")
    elif fr_rate is not None:
        sentences.append(f"{format_pct(fr_rate)} of first replies met their agreed target.")
    elif res_rate is not None:
        sentences.append(f"{format_pct(res_rate)} of resolutions met their agreed target.")
    if metrics["fcr"]["rate"] is not None and metrics["volume"]["resolved"] >= 5:
        sentences.append(f"{format_pct(metrics['fcr']['rate'])} of resolved tickets were fixed at first contact.")
    return sentences


def open_sentences(metrics: Metrics, details: ReportDetails) -> list[str]:
    """What is carried into next month, what waits for the client, what is overdue or unanswered."""
    volume, label = metrics["volume"], metrics["period"]["label"]
    end = parse_local(metrics["period"]["end"])
    open_end, busy = volume["open_at_end"], volume["created"] or volume["resolved"]
    old = metrics["backlog"]["ge_30d"]
    sentences = []
    if open_end and busy:
        sentence = f"{plural(open_end, 'ticket')} {noun(open_end, 'is', 'are')} carried into {end:%B}"
        sentences.append(sentence + (f", {format_count(old)} of them older than 30 days." if old else "."))
    elif open_end:
        sentences.append(f"{plural(open_end, 'ticket')} {noun(open_end, 'is', 'are')} still open going into {end:%B}.")
    elif busy:
        sentences.append(f"Nothing was left open at the end of {label.split()[0]}.")
    waiting = metrics["backlog"]["waiting_on_client"]
    if waiting:
        sentences.append(f"{plural(waiting, 'ticket')} {noun(waiting, 'is', 'are')} waiting for a reply from your side: "
                         f"answering {noun(waiting, 'it', 'them')} helps us close {noun(waiting, 'it', 'them')}.")
    overdue = details["sla_resolution_overdue_open"]
    if overdue:
        sentences.append(f"{overdue_open_text(overdue)}.")
    awaiting = metrics["first_response"]["awaiting"]
    if awaiting:
        sentences.append(f"{plural(awaiting, 'new ticket')} {noun(awaiting, 'is', 'are')} still waiting for our first reply.")
    return sentences


def service_sentences(metrics: Metrics) -> list[str]:
    """Satisfaction, hours of work, proactive and after-hours tickets."""
    sentences = []
    csat = metrics["csat"]
    if csat["responses"]:
        sentences.append(f"{format_count(csat['positive'])} of {plural(csat['responses'], 'satisfaction survey response')} "
                         f"{noun(csat['positive'], 'was', 'were')} positive.")
    time_spent = metrics["time"]
    if time_spent["total_minutes"] is not None:
        sentence = f"We logged {format_hours(time_spent['total_minutes'])} of work"
        if time_spent["billable_minutes"] != time_spent["total_minutes"]:
            sentence += f", {format_hours(time_spent['billable_minutes'])} of it billable"
        sentences.append(sentence + ".")
    proactive = metrics["proactive"]["created"]
    if proactive:
        sentences.append(f"{plural(proactive, 'ticket')} {noun(proactive, 'was', 'were')} proactive work we started ourselves, such as maintenance.")
    after = metrics["after_hours"]["created"]
    if after:
        sentences.append(f"{plural(after, 'ticket')} came in outside business hours.")
    return sentences


def preheader(metrics: Metrics) -> str:
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


def tile(label: str, value: str | None, note: str, comparison: dict | None = None) -> dict:
    """One KPI tile; a value of None shows as 'Not available' in the tile's muted style."""
    return {"label": label, "value": value if value is not None else NOT_AVAILABLE, "available": value is not None, "note": note, "change": comparison}


def kpi_rows(metrics: Metrics) -> list[list[dict]]:
    """The eight KPI tiles, two rows of four."""
    volume = metrics["volume"]
    fr, res = metrics["first_response"], metrics["resolution"]
    sla = metrics["sla"]
    csat = metrics["csat"]
    time_spent = metrics["time"]

    changes = tile_changes(metrics)  # against last month's stored figures, worded so better reads as better
    new = tile("New tickets", format_count(volume["created"]), "raised this month", changes.get("created"))
    resolved = tile("Resolved", format_count(volume["resolved"]), "closed this month", changes.get("resolved"))
    old = metrics["backlog"]["ge_30d"]
    open_end = tile("Open at month end", format_count(volume["open_at_end"]),
                     f"{format_count(old)} older than 30 days" if old else "none older than 30 days" if volume["open_at_end"] else "nothing waiting",
                     changes.get("open_at_end"))
    if time_spent["total_minutes"] is None:
        hours = tile("Hours of work", None, "no time was logged this month")
    else:
        hours = tile("Hours of work", format_hours(time_spent["total_minutes"]), f"{format_hours(time_spent['billable_minutes'])} billable",
                     changes.get("hours"))

    if fr["median_s"] is None:
        first = tile("First reply", None, "no replies to new tickets yet" if volume["created"] else "no new tickets")
    else:
        first = tile("First reply", format_duration(fr["median_s"]), f"median; 90% within {format_duration(fr['p90_s'])}",
                     changes.get("first_response"))
    if res["median_s"] is None:
        fix = tile("Time to resolve", None, "no tickets resolved")
    else:
        fix = tile("Time to resolve", format_duration(res["median_s"]), f"median; 90% within {format_duration(res['p90_s'])}",
                   changes.get("resolution"))
    res_rate, fr_rate = sla["resolution"]["rate"], sla["first_response"]["rate"]
    if res_rate is not None:
        note = f"first replies {format_pct(fr_rate)}" if fr_rate is not None else f"{format_count(sla['resolution']['met'])} of {format_count(sla['resolution']['met'] + sla['resolution']['breached'])} on time"
        sla_tile = tile("Resolved on time", format_pct(res_rate), note, changes.get("sla"))
    elif overdue_without_resolutions(metrics):
        words = overdue_open_text(overdue_without_resolutions(metrics))
        sla_tile = tile("Resolved on time", "–", f"nothing resolved; {words}" + (f"; first replies {format_pct(fr_rate)}" if fr_rate is not None else ""))
        sla_tile["available"] = False  # the muted style: no rate to state, and the note says why
    elif fr_rate is not None:
        sla_tile = tile("First reply on time", format_pct(fr_rate), f"{format_count(sla['first_response']['met'])} of {plural(sla['first_response']['met'] + sla['first_response']['breached'], 'ticket')}",
                        changes.get("sla"))
    else:
        sla_tile = tile("SLA met", None, "no tickets with a target due")
    if csat["positive_rate"] is not None:
        sat = tile("Positive ratings", format_pct(csat["positive_rate"]), f"{format_count(csat['positive'])} of {plural(csat['responses'], 'response')}",
                   changes.get("csat"))
    else:
        sat = tile("Positive ratings", None, "no survey responses this month")
    return [[new, resolved, open_end, hours], [first, fix, sla_tile, sat]]


def work_notes(metrics: Metrics, details: ReportDetails) -> list[dict]:
    """The 'Also this month' rows: after-hours and proactive tickets."""
    created = metrics["volume"]["created"]
    after = metrics["after_hours"]["created"]
    proactive = metrics["proactive"]["created"]
    tags = ", ".join(details["proactive_tags"]) or "none"
    return [
        {"label": "Outside business hours", "value": format_count(after),
         "note": f"{format_pct(after / created) + ' of new tickets' if after else 'none of the new tickets'}; business hours are {details['business_hours']}"
         if created else f"business hours are {details['business_hours']}"},
        {"label": "Proactive work", "value": format_count(proactive),
         "note": f"tickets we started ourselves, tagged {tags}"},
    ]


def definitions(metrics: Metrics, details: ReportDetails, show_comments: bool) -> list[str]:
    """'How these numbers are counted': each number in one plain sentence for the client."""
    period = metrics["period"]
    zone, words = zone_label(period["timezone"]), period_words(period)
    noun, first, last = words["noun"], datetime.fromisoformat(period["start"]), datetime.fromisoformat(period["end"]) - timedelta(days=1)
    span = "the 1st to midnight on the last day" if noun == "month" else f"{first:%B} 1 to midnight on the last day of {last:%B}"
    return [
        f"The {noun} runs from midnight on {span}, {zone} time.",
        f"New tickets were created in the {noun}; resolved tickets were resolved in it, whenever they were opened; "
        f"open tickets were created before the {noun} ended and not resolved by then.",
        "First reply: time from a ticket's creation to our first response. Time to resolve: from creation to resolution. "
        "The median is the middle value (half were faster); '90% within' is the time nine in ten stayed under.",
        "On time: replies and resolutions within the target set in Freshservice. An open ticket past its resolution target "
        f"counts as missed each {noun} until it is closed; tickets still within their target {words['at_end']} are not counted.",
        "First contact: resolved with at most one reply from us and never reopened.",
        f"Satisfaction: survey responses sent in the {noun}. Positive means at least 75% of the possible score "
        "(or the top ratings when there is no score); negative means 50% or less. "
        + ("Comments are quoted as written." if show_comments else "Comments are counted, not quoted."),
        f"Hours of work: time logged on the tickets, counted in the {noun} the work was done.",
        f"Outside business hours: created outside {details['business_hours']}, {zone} time. "
        f"Proactive: tickets tagged {', '.join(details['proactive_tags']) or '(no tags set)'} or marked as proactive.",
        "Waiting for you: open tickets whose status is Pending or waiting on the customer.",
    ]


def pulled_at(generated_at: str | None, zone: str) -> str:
    """When the data was pulled, in the report's zone."""
    moment = parse_local(generated_at)
    if not moment:
        return "The time the data was pulled is not recorded."
    return f"Data pulled from Freshservice on {long_date(moment)} at {moment:%H:%M} ({zone_label(zone)} time)."


def overdue_open_text(overdue: int) -> str:
    """'1 open ticket is past its resolution target' (no full stop: callers end or join it)."""
    return f"{plural(overdue, 'open ticket')} {noun(overdue, 'is', 'are')} past {noun(overdue, 'its', 'their')} resolution target"


def overdue_without_resolutions(metrics: Metrics) -> int:
    """Open tickets past their resolution target in a month that resolved none with a target (else 0).

    With no resolution rate, every missed resolution of the month is such an open ticket (docs/metrics.md).
    """
    resolution = metrics["sla"]["resolution"]
    return resolution["breached"] if resolution["rate"] is None else 0


def sla_unmeasured(key: str, details: ReportDetails) -> str:
    """An SLA row without a rate, in words: why there is none, and any open ticket already past its target."""
    overdue = details["sla_resolution_overdue_open"]
    if key == "resolution" and overdue:
        return f"No ticket with this target was resolved this month; {overdue_open_text(overdue)}."
    return "No tickets had this target due this month."


def sla_note(key: str, details: ReportDetails) -> str:
    """What an SLA row does not count, or counts beyond the month's own tickets."""
    notes = []
    if key == "first_response":
        pending = details["sla_first_response_pending"]
        if pending:
            notes.append(f"{plural(pending, 'ticket')} still inside {noun(pending, 'its', 'their')} target at month end (not counted)")
        if details["sla_first_response_resolved_without_reply"]:
            notes.append(f"{format_count(details['sla_first_response_resolved_without_reply'])} resolved without a reply (not counted)")
    elif details["sla_resolution_overdue_open"]:
        overdue = details["sla_resolution_overdue_open"]
        notes.append(f"missed includes {plural(overdue, 'open ticket')} past {noun(overdue, 'its', 'their')} target")
    return "; ".join(notes)


def other_label(hidden: int) -> str:
    """The label of a bar chart's last row that sums the smaller ones."""
    return f"Other ({hidden})"


def requesters_reason(rows: list[Requester], names_missing: bool) -> str:
    """Why some requesters show as ids, or ''."""
    if names_missing:
        return "Names not available: the Freshservice API key may not read requesters, so people are shown by their id."
    if any(r["name"].startswith("Requester ") for r in rows):
        return "Some names are not in the data, so those people are shown by their id."
    return ""


NO_TIME = "Not available: no time was logged on this client's tickets this month."
AGENT_NAMES_MISSING = "Agent names not available: the API key may not read agents, so agents are shown by their id."
NO_CSAT = "Not available: no satisfaction surveys were answered this month."


def time_lead(metrics: Metrics, details: ReportDetails) -> dict[str, str]:
    """The time section's figures in words: total, billable, non-billable and the number of entries."""
    time_spent = metrics["time"]
    return {
        "total": format_hours(time_spent["total_minutes"]),
        "billable": format_hours(time_spent["billable_minutes"]),
        "non_billable": format_hours(time_spent["non_billable_minutes"]),
        "entries": plural(details["time_entries"], "time entry", "time entries"),
    }


def more_agents(hidden: int) -> str:
    return f"and {plural(hidden, 'more agent')}" if hidden > 0 else ""


def csat_lead(metrics: Metrics, details: ReportDetails) -> str:
    """'12 survey responses, 83% positive, average score 88%; 2 comments.'"""
    csat = metrics["csat"]
    lead = f"{plural(csat['responses'], 'survey response')}, {format_pct(csat['positive_rate'])} positive"
    if csat["average_pct"] is not None:
        lead += f", average score {format_pct(csat['average_pct'])}"
    comments = details["csat_comments"]
    return lead + f"; {plural(comments, 'comment') if comments else 'no comments'}."


def backlog_lead(metrics: Metrics, details: ReportDetails) -> str:
    """The open-tickets section's sentence: how many, and how many wait for the client or are overdue."""
    lead = f"{format_count(metrics['volume']['open_at_end'])} open at the end of the month, by how long they have been open."
    waiting = metrics["backlog"]["waiting_on_client"]
    if waiting:
        lead += f" {format_count(waiting)} {noun(waiting, 'is', 'are')} waiting for your reply."
    overdue = details["sla_resolution_overdue_open"]
    if overdue:
        lead += f" {format_count(overdue)} {noun(overdue, 'is', 'are')} past {noun(overdue, 'its', 'their')} resolution target."
    return lead


def recent_more(more: int) -> str:
    return f"…and {plural(more, 'more ticket')} created this month." if more > 0 else ""


def trend_caption(trend: list[TrendEntry]) -> str:
    """The busiest month of the trend, or '' when no month had new tickets."""
    known = [(item["created"], item["month"]) for item in trend if item["created"] is not None]
    # max() keeps the first of equal counts, the earliest month, as it always has.
    busiest = max(known, key=lambda pair: pair[0]) if known else None
    if busiest and busiest[0]:
        return f"Busiest month for new tickets: {month_name(busiest[1])} ({format_count(busiest[0])})."
    return ""
