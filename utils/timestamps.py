"""Reading Freshservice's timestamps, shared by the puller (which tickets to keep) and the metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime from Freshservice's '2026-10-01T03:30:00Z' (milliseconds allowed); None if absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:  # Freshservice stamps are UTC even when a tool drops the Z
        moment = moment.replace(tzinfo=UTC)
    return moment


def resolved_time(ticket: dict) -> datetime | None:
    """A ticket's resolved time: stats.resolved_at, else stats.closed_at (report-metrics.md); None when both are null."""
    stats = ticket.get("stats")
    if not isinstance(stats, dict):
        return None
    return parse_timestamp(stats.get("resolved_at")) or parse_timestamp(stats.get("closed_at"))
