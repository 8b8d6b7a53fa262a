"""The report history's test kit: one client's small month in New York, written where build_report reads it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.reports import csat, period_for, raw_file, ticket, time_entry

CLIENT = 21000351606


def month_raw(month: int, n_new: int, n_resolved: int) -> dict:
    """A small month of the client in New York: n_new tickets created, the first n_resolved of them resolved."""
    tickets = []
    for i in range(n_new):
        day = f"2026-{month:02d}-{5 + i % 20:02d}"
        stats = {"first_responded_at": f"{day}T13:{10 + i % 40:02d}:00Z"}
        if i < n_resolved:
            stats["resolved_at"] = f"{day}T{15 + i % 5}:00:00Z"
        tickets.append(ticket(month * 1000 + i, f"{day}T12:00:00Z", stats=stats, due_by=f"{day}T18:00:00Z",
                              status=4 if i < n_resolved else 2,
                              time_entries=[time_entry("0:30", f"{day}T14:00:00Z")],
                              csat=csat(f"{day}T20:00:00Z", acquired=4, total=4) if i < 2 else None))
    raw = raw_file(tickets, period=period_for(2026, month, "America/New_York"))
    for item in raw["trend"][:-1]:
        item["resolved"] = None  # as the puller writes it: Freshservice cannot count resolved tickets by month
    return raw


def write_raw(home: Path, raw: dict) -> Path:
    path = home / "raw_data" / f"freshservice_{CLIENT}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path
