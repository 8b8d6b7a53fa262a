"""How the report writes numbers, durations, dates and plurals: one function per kind of value.

Every figure the HTML and text versions show goes through here, so both always agree.
"""

from __future__ import annotations

import re
from datetime import datetime

NBSP = "\u00a0"  # keeps a number and its unit on one line

_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"})


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
        return f"{one_decimal(seconds / 3600)}{NBSP}h"
    return f"{one_decimal(seconds / 86400)}{NBSP}days"


def format_hours(minutes: int | None) -> str:
    """Minutes as hours: 90 -> '1.5 h', 6330 -> '105.5 h'."""
    if minutes is None:
        return "n/a"
    if minutes < 60:
        return f"{minutes}{NBSP}min"
    return f"{one_decimal(minutes / 60, thousands=True)}{NBSP}h"


def one_decimal(value: float, thousands: bool = False) -> str:
    """One decimal place, without a trailing '.0': 6.0 -> '6', 6.54 -> '6.5'."""
    text = f"{value:,.1f}" if thousands else f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def plural(n: int, one: str, many: str | None = None) -> str:
    """A count and its noun: plural(1, 'ticket') -> '1 ticket', plural(3, 'time entry', 'time entries') -> '3 time entries'."""
    return f"{format_count(n)} {noun(n, one, many)}"


def noun(n: int, one: str, many: str | None = None) -> str:
    """The noun (or verb, pronoun) that agrees with n: noun(1, 'is', 'are') -> 'is'."""
    return one if n == 1 else (many or one + "s")


def parse_local(iso: str | None) -> datetime | None:
    """An ISO 8601 time from the metrics JSON (already in the report zone); None stays None."""
    return datetime.fromisoformat(iso) if iso else None


def short_date(iso: str | None) -> str:
    """'Oct 5' (a non-breaking space inside); a dash for no date."""
    moment = parse_local(iso)
    return f"{moment:%b}{NBSP}{moment.day}" if moment else "—"


def long_date(moment: datetime) -> str:
    """'November 1, 2026'."""
    return f"{moment:%B} {moment.day}, {moment.year}"


def month_name(month_key: str | None, short: bool = False) -> str:
    """'2026-10' -> 'October' (or 'Oct')."""
    if not month_key:
        return ""
    moment = datetime.strptime(month_key + "-01", "%Y-%m-%d")
    return f"{moment:%b}" if short else f"{moment:%B}"


def zone_label(zone: str) -> str:
    """A time zone as people write it: 'America/New_York' -> 'America/New York', 'Etc/UTC' -> 'UTC'."""
    if zone in _UTC_NAMES:
        return "UTC"
    return zone.replace("_", " ")


def truncate(text: str, limit: int) -> str:
    """Whitespace collapsed, cut to `limit` characters with an ellipsis when longer."""
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_widths(value: int, largest: int) -> dict[str, int]:
    """Widths (percent) of a bar and its track, the bar at least 1% when the value is not 0."""
    width = round(100 * value / largest) if largest else 0
    if value and not width:
        width = 1
    return {"bar": width, "rest": 100 - width}
