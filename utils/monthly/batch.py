"""The monthly batch: every client's month pulled from every source, its report built, and an index for the MSP.

`pull_info.py` is the thin script around `run_batch`. The sources are the declared ones
(utils/sources, `SOURCES`; docs/adding-a-source.md adds one). For each client, in order:

1. The required source (Freshservice) -> `raw_data/freshservice_<ID>.json`. Without it there is
   no report, so a failure here marks the client failed (the other clients carry on).
2. Every other source the settings enable (Microsoft 365, SentinelOne, ...) and the client has
   (its tenant, its site) -> `raw_data/<name>_<ID>.json`; a client without it is skipped silently.
3. The report, built from those raw files (and the client's history/), into `reports/<YYYY-MM>/`;
   its metrics are kept in `history/<ID>/<YYYY-MM>.json` for next month's comparison.
Sending runs once every report is built (utils/monthly/send_step.py).

Isolation (utils/monthly/isolation.py): each source runs for each client on its own. An exception
from a source's pull marks only that source failed for that client (`ClientOutcome.steps[name]`,
shown in the index row and the run summary, exit code 1); the report is still built (naming the
source that failed) and the other sources and clients still run. A source whose key is refused
(`AuthenticationError`), whose settings are wrong (`ConfigError`) or whose service's 429 waits used
its budget for the run (`WaitBudgetSpent`, utils/services/http.py) is not called again: the remaining
clients it is configured for are marked failed with the same reason. Only the required source's own
refused key (401) or spent wait budget stops the run. Ctrl-C, SIGTERM and SIGHUP (utils/core/cli.py
turns them into the same) stop the run; the clients finished so far and the month's index are kept.

The raw file is written atomically by the batch (never by the source), after the one it replaces is
archived under `raw_data/archive/<YYYY-MM>/`; a client id that is not plain digits never names a file.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

from utils.core.errors import ConfigError, DataError
from utils.core.files import safe_child, write_json_atomic, write_text_atomic
from utils.core.home import RAW_DIR, ensure_writable_dir
from utils.delivery.sent_copy import rebuild_notice
from utils.monthly.clients import load_clients, select_clients
from utils.monthly.index import write_index
from utils.monthly.isolation import each_client, run_source
from utils.monthly.raw_files import archive_leftovers, write_raw_file
from utils.monthly.state import ClientOutcome, MonthlyRun, RunSummary
from utils.reporting.history import history_for_raw, store_history
from utils.reporting.report import build_outputs
from utils.reporting.source_files import load_source_files
from utils.sources import attention_rules, report_sections
from utils.sources.source import Connected

log = logging.getLogger(__name__)


def slugify(name: str) -> str:
    """A file-name-safe form of a client's name: 'Müller & Söhne GmbH' -> 'muller-sohne-gmbh'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:60].rstrip("-") or "client"


def run_batch(run: MonthlyRun, client_ids: list[str] | None = None, refresh_clients: bool = False) -> tuple[RunSummary, Path | None]:
    """Every selected client's month; returns the outcomes and the index path.

    Ctrl-C or a stopping error (a refused key) still leaves the index of the clients finished so far.
    """
    try:
        ensure_writable_dir(run.home / RAW_DIR, private=True)
        if run.build:
            ensure_writable_dir(run.reports_dir)
    except ConfigError as exc:
        raise DataError(str(exc)) from None  # checked before any pulling, as a runtime failure

    summary = RunSummary()
    clients = select_clients(load_clients(run.primary.client(), run.home, refresh_clients), client_ids, summary)
    if not client_ids:
        moved = archive_leftovers(run.home / RAW_DIR, {str(entry["id"]) for entry in clients})
        if moved:
            log.info("Archived %d raw files of clients not in this run under %s", moved, run.home / RAW_DIR / "archive")

    def start(outcome: ClientOutcome) -> None:
        summary.outcomes.append(outcome)  # listed as each starts, so the index shows where a stopped run stopped
        run_client(run, outcome)

    index_path = None
    try:
        run.primary.prepare(clients, run.period, run.workers)
        each_client([ClientOutcome(entry) for entry in clients], start, _mark_failed, _label)
    finally:
        if run.build:
            index_path = write_index(run.reports_dir, run.period, summary.outcomes)
    return summary, index_path


def _mark_failed(outcome: ClientOutcome, reason: str) -> None:
    outcome.error = reason


def _label(outcome: ClientOutcome) -> str:
    return f"{outcome.client.get('name')} ({outcome.client['id']})"


def run_client(run: MonthlyRun, outcome: ClientOutcome) -> None:
    """One client: the required source, the other sources (each isolated), the report."""
    entry = outcome.client
    client_id = str(entry["id"])
    counters = run.primary.client().counters
    started_credits = counters.credits
    raw = run.primary.pull(client_id, run.period)
    outcome.raw_path = write_raw_file(run.home, run.primary.name, client_id, raw)
    outcome.tickets = len(raw["tickets"])
    for connected in run.others:
        run_source(connected, _pull_and_write(run, connected, client_id), outcome, run.disabled)
    if run.build:
        build_client_report(raw, outcome, run)
    log.info("%s: %d ticket%s, %d credits", entry.get("name"), outcome.tickets, "" if outcome.tickets == 1 else "s",
             counters.credits - started_credits)


def _pull_and_write(run: MonthlyRun, connected: Connected, client_id: str) -> Callable[[], str]:
    def pull_and_write() -> str:
        write_raw_file(run.home, connected.name, client_id, connected.pull(client_id, run.period))
        return ""
    return pull_and_write


def build_client_report(raw: dict, outcome: ClientOutcome, run: MonthlyRun) -> None:
    """Write the client's report, metrics JSON and text version beside each other.

    The other sources' raw files of the same month go into the report; a source that failed this run is named in it.
    """
    client_id = str(outcome.client["id"])
    sections = report_sections()
    extra_raw, problems = load_source_files(run.home / RAW_DIR, client_id, raw["period"], sections)
    for problem in problems:
        log.warning("%s (%s): %s", outcome.client.get("name"), client_id, problem)
    failures = {name: result.detail or "it could not be pulled" for name, result in outcome.failed_steps.items()}
    html, text, metrics = build_outputs(raw, settings=run.report_settings, extra_raw=extra_raw, source_failures=failures,
                                        history=history_for_raw(run.home, raw), sections=sections, attention=attention_rules())
    stem = f"{slugify(str(outcome.client.get('name', '')))}-{client_id}"
    notice = rebuild_notice(run.reports_dir, client_id)  # the month was emailed already: sent/ keeps what they got
    if notice:
        log.info("%s (%s): %s", outcome.client.get("name"), client_id, notice)
    write_json_atomic(safe_child(run.reports_dir, f"{stem}.json"), metrics)
    write_text_atomic(safe_child(run.reports_dir, f"{stem}.txt"), text)
    outcome.report_path = write_text_atomic(safe_child(run.reports_dir, f"{stem}.html"), html)
    outcome.metrics = metrics
    store_history(run.home, metrics)  # next month's report compares with this one
