"""The review's devices, from the Freshservice assets the puller kept (`devices` in the raw file; issue 19).

Ages and warranties are as of the period's end: a warranty that ended before it has ended; one ending within
WARRANTY_SOON_DAYS after it ends soon. A device without a date is counted as unknown, never as in warranty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from utils.core.period import Period
from utils.reporting.report_format import bar_widths, format_count, truncate

WARRANTY_SOON_DAYS = 90
DEVICES_LISTED = 10  # devices named in the warranty table; the rest are counted
AGE_BANDS = ((3, "Under 3 years"), (5, "3 to 5 years"), (None, "Over 5 years"))


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _age_band(acquired: date | None, as_of: date) -> str:
    if acquired is None:
        return "Not recorded"
    years = (as_of - acquired).days / 365.25
    for limit, label in AGE_BANDS:
        if limit is None or years < limit:
            return label
    return AGE_BANDS[-1][1]


def _rows(counts: Mapping[str, int]) -> list[dict[str, Any]]:
    largest = max(counts.values(), default=0)
    return [{"label": truncate(label, 40), "value": format_count(count), **bar_widths(count, largest)} for label, count in counts.items()]


def devices_summary(raw: Mapping[str, Any], period: Period) -> dict[str, Any] | None:
    """Devices by type and age, and those out of warranty or ending soon; None without devices (the review shows nothing)."""
    devices = [item for item in raw.get("devices") or [] if isinstance(item, Mapping)]
    if not devices:
        return None
    as_of = (period.end - timedelta(seconds=1)).astimezone(period.zone).date()
    soon = as_of + timedelta(days=WARRANTY_SOON_DAYS)
    by_type = Counter(str(item.get("type") or "Other") for item in devices)
    ages = Counter(_age_band(_date(item.get("acquired")), as_of) for item in devices)
    ordered_ages = {label: ages[label] for _, label in AGE_BANDS if ages[label]}
    if ages["Not recorded"]:
        ordered_ages["Not recorded"] = ages["Not recorded"]
    ended, ending, watched = 0, 0, []
    for item in devices:
        ends = _date(item.get("warranty_ends"))
        if ends is None or ends > soon:
            continue
        ended, ending = (ended + 1, ending) if ends <= as_of else (ended, ending + 1)
        watched.append((ends, str(item.get("name") or "Unnamed device"), str(item.get("type") or "Other")))
    known = sum(1 for item in devices if _date(item.get("warranty_ends")) is not None)
    watched.sort()
    return {
        "total": format_count(len(devices)),
        "by_type": _rows(dict(by_type.most_common())),
        "by_age": _rows(ordered_ages),
        "warranty_known": known > 0,
        "warranty_ended": ended,
        "warranty_ending": ending,
        "warranty_rows": [{"name": truncate(name, 40), "type": truncate(kind, 24), "ends": f"{ends:%b} {ends.day}, {ends.year}",
                           "ended": ends <= as_of} for ends, name, kind in watched[:DEVICES_LISTED]],
        "warranty_more": max(0, len(watched) - DEVICES_LISTED),
        "unknown_warranty": len(devices) - known,
        "as_of": f"{as_of:%B} {as_of.day}, {as_of.year}",
    }
