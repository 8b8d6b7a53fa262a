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

from utils.core.errors import ConfigError
from utils.core.period import Period, report_period
from utils.core.settings import load_settings
from utils.monthly.clients import load_clients
from utils.monthly.clients import select_clients as batch_select_clients
from utils.monthly.isolation import each_client
from utils.monthly.state import MonthlyRun, RunSummary
from utils.reporting.history import has_month, history_for_raw, months_before, store_history
from utils.reporting.metrics import compute_report_data
from utils.sources import attention_rules, report_sections, settings_tables

log = logging.getLogger(__name__)

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


def backfill(run: MonthlyRun, months: int, client_ids: Sequence[str] | None = None, refresh: bool = False,
             refresh_clients: bool = False) -> BackfillSummary:
    """Store the metrics of the `months` months before `run.period` for every selected client (see the module docstring)."""
    summary = BackfillSummary()
    report_settings = run.report_settings or load_settings(run.home, tables=settings_tables()).report  # as the report's own build reads them
    primary = run.primary
    counters = primary.client().counters
    credits_before, requests_before = counters.credits, counters.requests
    clients = select_clients(load_clients(primary.client(), run.home, refresh_clients), client_ids, summary)
    wanted = months_wanted(run, clients, months, refresh, summary)
    if wanted:
        # One sweep from the oldest month wanted to the newest covers every month between.
        span = Period(start=wanted[0][0].start, end=wanted[-1][0].end, timezone=run.period.timezone)
        primary.prepare([entry for _, entry in wanted], span, run.workers)

    def store_month(item: tuple[Period, dict]) -> None:
        month_period, entry = item
        raw = primary.pull(str(entry["id"]), month_period)
        # Months are filled oldest first, so each month's `previous` comes from the month just stored.
        result = compute_report_data(raw, report_settings.metrics, history=history_for_raw(run.home, raw),
                                     sections=report_sections(), attention=attention_rules())
        store_history(run.home, result.metrics)
        summary.stored.append((str(entry["id"]), month_period.month))
        log.info("%s: %s stored in the history (%d tickets)", entry.get("name"), month_period.label, len(raw["tickets"]))

    each_client(wanted, store_month, lambda item, reason: summary.failed.append((str(item[1]["id"]), item[0].month, reason)),
                lambda item: f"{item[1].get('name')} ({item[1]['id']}), {item[0].label}: backfill")
    summary.credits = counters.credits - credits_before
    summary.requests = counters.requests - requests_before
    return summary


def months_wanted(run: MonthlyRun, clients: list[dict], months: int, refresh: bool,
                  summary: BackfillSummary) -> list[tuple[Period, dict]]:
    """(month, client) to pull, oldest month first; those already in the history are counted as skipped."""
    wanted: list[tuple[Period, dict]] = []
    for month in months_before(run.period.months[0], months):
        month_period = report_period(month, run.period.timezone)
        for entry in clients:
            client_id = str(entry["id"])
            if not refresh and has_month(run.home, client_id, month):
                summary.skipped.append((client_id, month))
            else:
                wanted.append((month_period, entry))
    return wanted
