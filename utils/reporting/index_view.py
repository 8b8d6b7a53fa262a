"""What the MSP's month index shows for one client: its headline numbers, what needs a look, its security figures.

The index is read from the metrics JSON stored beside each report (possibly written by an older
build), so every figure is read with `dig` and shows "–" when it is missing or has no denominator.
Clients that need a look (a failure, an email not simply sent, attention items) sort first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from utils.core.lookup import count_or_none, dig, number_or_none
from utils.reporting.metrics_csat import stored_positive_rate
from utils.reporting.report_format import format_count, format_hours, format_pct
from utils.reporting.report_wording import overdue_open_text

NO_FIGURE = "–"

# (heading, key of the cell in a row's figures); the security columns appear only when a client has that source.
TICKET_COLUMNS = (("New", "created"), ("Resolved", "resolved"), ("Open at end", "open"), ("Resolved on time", "on_time"),
                  ("Positive ratings", "positive"), ("Hours", "hours"))
SECURITY_COLUMNS = (("Secure Score", "secure_score", "m365"), ("Open threats", "threats", "s1"))


def _count(value: Any) -> str:
    count = count_or_none(value)
    return NO_FIGURE if count is None else format_count(count)


def on_time_cell(metrics: Mapping[str, Any]) -> dict[str, str]:
    """'92%', or '–' with no rate; when nothing was resolved but open tickets are past target, that in words."""
    resolution = dig(metrics, "sla", "resolution")
    rate = number_or_none(dig(resolution, "rate"))
    if rate is not None:
        return {"value": format_pct(rate), "note": ""}
    overdue = count_or_none(dig(resolution, "breached")) or 0
    return {"value": NO_FIGURE, "note": overdue_open_text(overdue) if overdue else ""}


def secure_score_cell(metrics: Mapping[str, Any]) -> dict[str, str]:
    end = dig(metrics, "m365", "secure_score", "end")
    score, most = number_or_none(dig(end, "score")), number_or_none(dig(end, "max"))
    if score is None:
        return {"value": NO_FIGURE, "note": ""}
    return {"value": f"{score:.0f}", "note": f"of {most:.0f}" if most else ""}


def ticket_figures(metrics: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    """The ticket columns of one row: each a value and an optional note under it."""
    if not metrics:
        return {key: {"value": NO_FIGURE, "note": ""} for _, key in TICKET_COLUMNS}
    csat = dig(metrics, "csat")
    positive = stored_positive_rate(csat) if count_or_none(dig(csat, "responses")) else None
    minutes = count_or_none(dig(metrics, "time", "total_minutes"))
    return {
        "created": {"value": _count(dig(metrics, "volume", "created")), "note": ""},
        "resolved": {"value": _count(dig(metrics, "volume", "resolved")), "note": ""},
        "open": {"value": _count(dig(metrics, "volume", "open_at_end")), "note": ""},
        "on_time": on_time_cell(metrics),
        "positive": {"value": NO_FIGURE if positive is None else format_pct(positive), "note": ""},
        "hours": {"value": NO_FIGURE if minutes is None else format_hours(minutes), "note": ""},
    }


def security_figures(metrics: Mapping[str, Any] | None) -> dict[str, dict[str, str] | None]:
    """Secure Score and open threats; None for a source the client does not have."""
    has = metrics or {}
    return {
        "secure_score": secure_score_cell(has) if isinstance(has.get("m365"), Mapping) else None,
        "threats": {"value": _count(dig(has, "s1", "threats", "open_now")), "note": ""} if isinstance(has.get("s1"), Mapping) else None,
    }


def attention_cell(metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    """How many things the client should act on, and the first of them in the report's own words."""
    items = [item for item in (dig(metrics, "attention") or []) if isinstance(item, Mapping)] if metrics else []
    return {"count": len(items), "value": format_count(len(items)) if metrics else NO_FIGURE,
            "note": str(items[0].get("text") or "") if items else ""}


def needs_a_look_first(row: Mapping[str, Any]) -> tuple:
    """Sort key: failures, then emails not simply sent, then most attention items; then by name."""
    return (not row["error"], not row["alert"], -row["attention"]["count"], row["name"].casefold())


def columns(rows: list[dict]) -> list[dict[str, str]]:
    """The index's columns: the ticket figures always, Secure Score and open threats when any client has them."""
    shown = [{"heading": heading, "key": key} for heading, key in TICKET_COLUMNS]
    shown += [{"heading": heading, "key": key} for heading, key, _ in SECURITY_COLUMNS
              if any(row["figures"].get(key) is not None for row in rows)]
    return shown
