"""The quarterly review's view model: the period at a glance, its months side by side, the change against the period
before, and the recommendations, worded and formatted for templates/quarterly_review_template.html.

The period's own figures come from its metrics (computed from all of its tickets, never averaged from months);
each month's and the earlier period's come from the stored history (utils.reporting.history.period_history).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from utils.core.lookup import dig, number_or_none
from utils.core.period import Period, key_label
from utils.reporting.devices import devices_summary
from utils.reporting.history import previous_period_key
from utils.reporting.quarterly_status import area_statuses, recommendations, recurring_issues
from utils.reporting.report_format import format_count, format_duration, format_hours, format_pct, month_name

QUARTERLY_TEMPLATE = "quarterly_review_template.html"
QUARTERLY_TEXT_TEMPLATE = "quarterly_review_template.txt"  # the review's plain-text part, whatever HTML template it has

# (label, path into a stored metrics JSON, formatter, whether it adds up over months)
FIGURES: tuple[tuple[str, tuple[str, ...], Callable[[Any], str], bool], ...] = (
    ("New", ("volume", "created"), format_count, True),
    ("Resolved", ("volume", "resolved"), format_count, True),
    ("Open at the end", ("volume", "open_at_end"), format_count, False),
    ("Median first reply", ("first_response", "median_s"), format_duration, False),
    ("Median time to resolve", ("resolution", "median_s"), format_duration, False),
    ("Resolved on time", ("sla", "resolution", "rate"), format_pct, False),
    ("Positive ratings", ("csat", "positive"), format_count, True),
    ("Hours logged", ("time", "total_minutes"), format_hours, True),
)


def _cell(stored: Mapping[str, Any] | None, path: tuple[str, ...], formatter: Callable[[Any], str]) -> str:
    value = dig(stored, *path) if stored is not None else None
    return "–" if value is None else formatter(value)


def months_side_by_side(metrics: Mapping[str, Any], history: Mapping[str, Mapping[str, Any]], period: Period) -> dict[str, Any]:
    """One column per month (from history where it was built, else –) and the period's own column."""
    headings = [month_name(month, short=True) for month in period.months] + [_short_label(period)]
    rows = []
    for label, path, formatter, _ in FIGURES:
        cells = [_cell(history.get(month), path, formatter) for month in period.months]
        rows.append({"label": label, "cells": [*cells, _cell(metrics, path, formatter)]})
    missing = [month_name(month) for month in period.months if month not in history]
    note = (f"No stored report for {', '.join(missing)}: shown as –." if missing else "")
    return {"headings": headings, "rows": rows, "note": note}


def _short_label(period: Period) -> str:
    return period.label.split(" ")[0] if period.kind == "quarter" else "Period"


def _earlier_totals(history: Mapping[str, Mapping[str, Any]], key: str, months: list[str]) -> tuple[Mapping[str, Any] | None, bool]:
    """The earlier period's figures: its own stored build (whole: every figure), else its months summed (counts only)."""
    if key in history:
        return history[key], True
    if not all(month in history for month in months):
        return None, False
    summed: dict[str, Any] = {}
    for _, path, _, adds_up in FIGURES:
        values = [number_or_none(dig(history[month], *path)) for month in months]
        if adds_up and all(value is not None for value in values):
            target = summed
            for step in path[:-1]:
                target = target.setdefault(step, {})
            target[path[-1]] = sum(value for value in values if value is not None)
    return summed, False


def change_against_previous(metrics: Mapping[str, Any], history: Mapping[str, Mapping[str, Any]], period: Period) -> dict[str, Any]:
    """The period against the one of the same length before it: counts and hours always, medians and rates only
    where that period was built as a whole."""
    key, months = previous_period_key(period.months, period.kind)
    earlier, whole = _earlier_totals(history, key, months)
    label = key_label(key)
    if earlier is None:
        return {"available": False, "label": label, "rows": [],
                "note": f"No stored figures for {label}: the change will show from the next review on."}
    rows = []
    for name, path, formatter, adds_up in FIGURES:
        now, before = number_or_none(dig(metrics, *path)), number_or_none(dig(earlier, *path))
        if not (adds_up or whole) or now is None or before is None:
            continue
        difference = now - before
        if path[-1] == "rate":
            text = f"{difference * 100:+.0f} points"
        else:
            text = f"{'+' if difference > 0 else '−' if difference < 0 else '±'}{formatter(abs(difference))}"
        rows.append({"label": name, "now": formatter(now), "before": formatter(before), "change": text})
    note = "" if whole else f"{label} was not built as a whole: counts and hours only, summed from its months."
    return {"available": True, "label": label, "rows": rows, "note": note}


def review_summary(metrics: Mapping[str, Any], period: Period) -> list[str]:
    """The period's executive summary, in the period's own words (the monthly wording speaks of "this month")."""
    volume = metrics["volume"]
    first = [f"In {period.label} your team raised {format_count(volume['created'])} tickets and we resolved "
             f"{format_count(volume['resolved'])}; {format_count(volume['open_at_end'])} were still open at its end."]
    first_reply, resolve = dig(metrics, "first_response", "median_s"), dig(metrics, "resolution", "median_s")
    if first_reply is not None and resolve is not None:
        first.append(f"Half of the new tickets had a first reply within {format_duration(first_reply)}, and half of the "
                     f"resolved tickets were fixed within {format_duration(resolve)}.")
    on_time = number_or_none(dig(metrics, "sla", "resolution", "rate"))
    if on_time is not None:
        first.append(f"{format_pct(on_time)} of resolutions met their agreed target.")
    hours = dig(metrics, "time", "total_minutes")
    if hours:
        first.append(f"We logged {format_hours(hours)} of work over the period.")
    return [" ".join(first)]


def review_context(metrics: Mapping[str, Any], raw: Mapping[str, Any], history: Mapping[str, Mapping[str, Any]],
                   period: Period) -> dict[str, Any]:
    """Everything the quarterly template adds to the monthly context."""
    devices = devices_summary(raw, period)
    return {
        "title": f"IT service review for {period.label}",
        "summary": review_summary(metrics, period),
        "areas": area_statuses(metrics),
        "months": months_side_by_side(metrics, history, period),
        "change": change_against_previous(metrics, history, period),
        "recommendations": recommendations(metrics, recurring_issues(raw, period), devices),
        "devices": devices,
    }
