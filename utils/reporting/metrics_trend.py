"""The six-month trend: stored history for the months built before, else the puller's counts; this month's own figures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from utils.core.period import Period
from utils.reporting.history import History, stored_trend_entry, trend_figures
from utils.reporting.metrics_input import as_list
from utils.reporting.metrics_types import TrendEntry, Volume


def month_key(moment: date) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


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
    months = [month_key(date(*add_months(local_start.year, local_start.month, delta), 1)) for delta in range(-5, 1)]
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
