"""What Freshservice's ticket fields mean, shared by the puller (which tickets to keep, their
labels) and the metrics (what to count)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# Built-in labels (freshservice-api.md §6.2); custom statuses and sources come from ticket_form_fields.
STATUS_LABELS = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}
PRIORITY_LABELS = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
SOURCE_LABELS = {
    1: "Email", 2: "Portal", 3: "Phone", 4: "Chat", 5: "Feedback widget", 6: "Yammer",
    7: "AWS Cloudwatch", 8: "Pagerduty", 9: "Walkup", 10: "Slack", 11: "Chatbot", 12: "Workplace",
    13: "Employee Onboarding", 14: "Alerts", 15: "MS Teams", 18: "Employee Offboarding",
}


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


def time_entry_moment(entry: dict) -> datetime | None:
    """When logged time counts: executed_at, else start_time, else created_at (report-metrics.md)."""
    return parse_timestamp(entry.get("executed_at")) or parse_timestamp(entry.get("start_time")) or parse_timestamp(entry.get("created_at"))
