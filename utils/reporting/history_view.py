"""How the report shows the history: the KPI tiles' change against last month, and the trend's on-time line.

Changes are worded so that better reads as better: a shorter reply time is "faster", fewer open
tickets is "fewer", a higher on-time rate is "better"; each carries a tone (better, worse,
neutral, same) that the template colours (templates/parts/palette.html, `tones`). Counts with a base of 10 or more change in percent,
smaller ones in units; rates change in percentage points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from utils.core.lookup import dig, number_or_none
from utils.reporting.report_format import format_hours, format_pct, month_name

PERCENT_BASE = 10  # below this, a change in percent says more than it means ("+100%" for 1 -> 2)
SLA_LINE_HEIGHT = 46  # pixels of the on-time line's plot area
SLA_DOT = 4  # the line's thickness


def _figure(value: Any) -> float | None:
    """A number a change can be worked out from: finite, else None (inf or NaN would print as such or crash round())."""
    number = number_or_none(value)
    return number if number is not None and math.isfinite(number) else None


def _result(diff: float, amount: str, up: str, down: str, month: str, higher_is: str) -> dict[str, str]:
    """One tile's change: arrow, text and tone; higher_is is 'better', 'worse' or 'neutral'."""
    if higher_is == "neutral":
        tone = "neutral"
    else:
        tone = higher_is if diff > 0 else ("worse" if higher_is == "better" else "better")
    text = f"{amount} {up if diff > 0 else down} than {month}"
    return {"arrow": "▲" if diff > 0 else "▼", "text": text, "tone": tone}


def _same(month: str) -> dict[str, str]:
    return {"arrow": "=", "text": f"same as {month}", "tone": "same"}


def count_change(current: Any, before: Any, month: str, higher_is: str) -> dict[str, str] | None:
    """'▲ 12% more than Sep' (or '▼ 3 fewer than Sep' for small numbers); None when either is unknown."""
    current, before = _figure(current), _figure(before)
    if current is None or before is None:
        return None
    diff = current - before
    if diff == 0:
        return _same(month)
    amount = f"{round(abs(diff) * 100 / before)}%" if before >= PERCENT_BASE else f"{abs(diff):,.0f}"
    return _result(diff, amount, "more", "fewer", month, higher_is)


def minutes_change(current: Any, before: Any, month: str) -> dict[str, str] | None:
    """Hours of work: in percent, or in hours when last month had under 10 hours."""
    current, before = _figure(current), _figure(before)
    if current is None or before is None:
        return None
    diff = current - before
    if diff == 0:
        return _same(month)
    amount = f"{round(abs(diff) * 100 / before)}%" if before >= PERCENT_BASE * 60 else format_hours(int(abs(diff)))
    return _result(diff, amount, "more", "less", month, "neutral")


def duration_change(current: Any, before: Any, month: str) -> dict[str, str] | None:
    """'▼ 20% faster than Sep': a shorter time is better; None when either is unknown or last month's was 0."""
    current, before = _figure(current), _figure(before)
    if current is None or before is None or before <= 0:
        return None
    pct = round(abs(current - before) * 100 / before)
    if pct == 0:
        return _same(month)
    return _result(current - before, f"{pct}%", "slower", "faster", month, "worse")


def rate_change(current: Any, before: Any, month: str) -> dict[str, str] | None:
    """'▲ 5 pts better than Sep' for rates (0 to 1); None when either is unknown."""
    current, before = _figure(current), _figure(before)
    if current is None or before is None:
        return None
    points = round((current - before) * 100)
    if points == 0:
        return _same(month)
    return _result(points, f"{abs(points)} pt{'s' if abs(points) != 1 else ''}", "better", "worse", month, "better")


def tile_changes(metrics: Mapping[str, Any]) -> dict[str, dict[str, str] | None]:
    """The change of each KPI tile against `previous` (the month before, as stored), keyed by tile.

    Without a stored month, new and resolved tickets still compare with the trend's counts for the
    month before (the puller's own figures); every other tile shows no change.
    """
    previous = metrics.get("previous")
    trend = metrics.get("trend") or []
    if not isinstance(previous, Mapping):
        before = trend[-2] if len(trend) >= 2 else None
        month = month_name(before["month"], short=True) if before else ""
        volume = metrics["volume"]
        return {
            "created": count_change(volume["created"], before.get("created") if before else None, month, "neutral"),
            "resolved": count_change(volume["resolved"], before.get("resolved") if before else None, month, "better"),
        }
    month = month_name(str(previous.get("month")), short=True)
    sla = metrics["sla"]
    showing_resolution = sla["resolution"]["rate"] is not None  # the tile shows the resolution rate when there is one
    sla_key = "resolution" if showing_resolution else "first_response"
    return {
        "created": count_change(metrics["volume"]["created"], dig(previous, "volume", "created"), month, "neutral"),
        "resolved": count_change(metrics["volume"]["resolved"], dig(previous, "volume", "resolved"), month, "better"),
        "open_at_end": count_change(metrics["volume"]["open_at_end"], dig(previous, "volume", "open_at_end"), month, "worse"),
        "hours": minutes_change(metrics["time"]["total_minutes"], dig(previous, "time", "total_minutes"), month),
        "first_response": duration_change(metrics["first_response"]["median_s"], dig(previous, "first_response", "median_s"), month),
        "resolution": duration_change(metrics["resolution"]["median_s"], dig(previous, "resolution", "median_s"), month),
        "sla": rate_change(sla[sla_key]["rate"], dig(previous, "sla", sla_key, "rate"), month),
        "csat": rate_change(metrics["csat"]["positive_rate"], dig(previous, "csat", "positive_rate"), month),
    }


def _join(points: Sequence[Mapping[str, Any]], pad: int) -> dict[str, Any]:
    """How a month's segment meets the month before: a vertical step from its level, so the months read as one line."""
    before = points[-1] if points and points[-1]["known"] else None
    start = before["pad"] if before else pad
    return {"top": min(start, pad), "step": abs(start - pad), "up": pad < start}


def sla_line(trend: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The trend chart's on-time line: one dot per month with a resolution on-time rate, placed by height
    (drawn from two such months on).

    The axis runs from 10 points under the lowest rate (rounded down to a tenth) to 100%, so months
    at 80% and 90% do not sit on one flat line; the labels carry the exact rates.
    """
    rates = [_figure(item.get("sla_resolution_rate")) for item in trend]
    known = [max(0.0, min(1.0, rate)) for rate in rates if rate is not None]
    low = max(0.0, math.floor(min(known, default=0.0) * 10) / 10 - 0.1)
    room = SLA_LINE_HEIGHT - SLA_DOT
    points: list[dict[str, Any]] = []
    for rate in rates:
        if rate is None:
            points.append({"known": False, "label": "–", "pad": 0, "below": 0})
        else:
            share = (max(0.0, min(1.0, rate)) - low) / (1 - low) if low < 1 else 1.0
            pad = round((1 - share) * room)
            points.append({"known": True, "label": format_pct(rate), "pad": pad, "below": room - pad, **_join(points, pad)})
    # A line needs two months: the report month alone has its rate in the tiles and the SLA section already.
    return {"points": points, "has_data": len(known) >= 2, "height": SLA_LINE_HEIGHT, "dot": SLA_DOT,
            "axis": f"{format_pct(low)} to 100%"}
