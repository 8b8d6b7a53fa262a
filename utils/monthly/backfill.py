"""Filling a client's history with earlier months, so a new install's first report has a full trend.

`pull_info.py --backfill N` calls `backfill`: for each of the N months before the report month
(oldest first) and every selected client without that month in its history, the month is pulled
from Freshservice and its metrics stored as `history/<client_id>/<YYYY-MM>.json` (utils.reporting.history).
No report is built and nothing is sent; no raw file is kept. Months already in the history are
skipped (no request at all) unless `refresh` is set.

One account context serves every month: the reference data, the department records and one
ticket sweep wide enough for the oldest month to the newest are fetched once, and every request
goes through the same client, so the usual pacing holds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from utils.core.errors import ConfigError, one_line
from utils.core.period import Period, report_period
from utils.core.settings import MetricsSettings, load_settings
from utils.monthly.batch import RunSummary, load_clients, prepare_shared_step, stopping_error
from utils.monthly.batch import select_clients as batch_select_clients
from utils.reporting.history import has_month, history_for_raw, months_before, store_history
from utils.reporting.metrics import compute_report_data
from utils.services.freshservice_client import FreshserviceClient
from utils.services.freshservice_pull import AccountContext, edition_of, pull_client_month

log = logging.getLogger("pull_info")

MAX_BACKFILL_MONTHS = 24


@dataclass
class BackfillSummary:
    """What a backfill did: months stored and skipped per client-month, failures, and its cost."""

    stored: list[tuple[str, str]] = field(default_factory=list)  # (client id, YYYY-MM)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (client id, YYYY-MM or "", why)
    credits: int = 0
    requests: int = 0

    def line(self) -> str:
        """One line for the person who ran it."""
        clients = len({client_id for client_id, _ in self.stored})
        text = (f"Backfill: {len(self.stored)} month{'s' if len(self.stored) != 1 else ''} stored for {clients} "
                f"client{'s' if clients != 1 else ''}, {len(self.skipped)} already in the history; "
                f"{self.credits} credits in {self.requests} requests")
        if self.failed:
            text += f"; {len(self.failed)} failed"
        return text + "."


def check_backfill_options(months: int | None, refresh_history: bool, demo: bool) -> None:
    """--refresh-history only means something when a backfill runs (--backfill N, or the demo's own)."""
    if refresh_history and not (months or demo):
        raise ConfigError("--refresh-history goes with --backfill N (or --demo)")


def select_clients(clients: list[dict], client_ids: Sequence[str] | None, summary: BackfillSummary) -> list[dict]:
    """The clients asked for (all of them without --client), as the batch picks them; unknown ids are failures."""
    picked = RunSummary()
    selected = batch_select_clients(clients, list(client_ids) if client_ids else None, picked)
    summary.failed.extend((str(o.client.get("id")), "", o.error or "not usable") for o in picked.failed)
    return selected


def backfill(client: FreshserviceClient, home: Path, period: Period, months: int, client_ids: Sequence[str] | None = None,
             refresh: bool = False, refresh_clients: bool = False, workers: int = 4,
             metrics_settings: MetricsSettings | None = None) -> BackfillSummary:
    """Store the metrics of the `months` months before `period` for every selected client (see the module docstring)."""
    summary = BackfillSummary()
    metrics_settings = metrics_settings or load_settings(home).report.metrics  # as the report's own build reads them
    credits_before, requests_before = client.counters.credits, client.counters.requests
    clients = select_clients(load_clients(client, home, refresh_clients), client_ids, summary)
    wanted: list[tuple[Period, list[dict]]] = []
    for month in months_before(period.month, months):
        month_period = report_period(month, period.timezone)
        todo = []
        for entry in clients:
            client_id = str(entry["id"])
            if not refresh and has_month(home, client_id, month):
                summary.skipped.append((client_id, month))
            else:
                todo.append(entry)
        if todo:
            wanted.append((month_period, todo))

    context = AccountContext(client, edition=edition_of(clients))
    if sum(len(todo) for _, todo in wanted) > 1:
        # One sweep from the oldest month wanted to the newest covers every month between.
        span = Period(start=wanted[0][0].start, end=wanted[-1][0].end, timezone=period.timezone)
        prepare_shared_step(context, span)
    for month_period, todo in wanted:
        for entry in todo:
            client_id = str(entry["id"])
            try:
                raw = pull_client_month(context, client_id, month_period, entry.get("entity_type", "department"), workers,
                                        progress_level=logging.DEBUG)
                # Months are filled oldest first, so each month's `previous` comes from the month just stored.
                result = compute_report_data(raw, metrics_settings, history=history_for_raw(home, raw))
                store_history(home, result.metrics)
                summary.stored.append((client_id, month_period.month))
                log.info("%s: %s stored in the history (%d tickets)", entry.get("name"), month_period.label, len(raw["tickets"]))
            except Exception as exc:  # noqa: BLE001 - one client-month failing never stops the others
                stop = stopping_error(exc)
                if stop is not None:
                    raise stop from None  # a refused key or bad configuration fails every month alike
                reason = one_line(exc)
                summary.failed.append((client_id, month_period.month, reason))
                log.error("%s (%s), %s: backfill failed: %s", entry.get("name"), client_id, month_period.label, reason)
    summary.credits = client.counters.credits - credits_before
    summary.requests = client.counters.requests - requests_before
    return summary
