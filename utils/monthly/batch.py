"""The monthly batch: every client's month pulled, its report built, and an index for the MSP.

`pull_info.py` is the thin script around `run_batch`. For each client, in order:

1. Freshservice: `pull_client_month` -> `raw_data/freshservice_<ID>.json`. Without it there is
   no report, so a failure here marks the client failed (the other clients carry on).
2. Every configured `SourceStep` (Microsoft 365, SentinelOne, ...) -> `raw_data/<name>_<ID>.json`.
3. The report, built from those raw files (and the client's history/), into `reports/<YYYY-MM>/`;
   its metrics are kept in `history/<ID>/<YYYY-MM>.json` for next month's comparison.
4. Every configured `ReportStep` (sending the email), once the report is built.

Adding a data source or a step after the report
-----------------------------------------------
Write a function that takes the run's `Settings` and returns your step, or None when they do not
configure it, and add it to `source_steps(settings)` or `report_steps(settings)` below (one line
each). A step is a small frozen record of plain functions:

    SourceStep(name="m365",                                # raw_data/m365_<ID>.json; the index says "m365";
               configured=lambda client_id: ...,           #   the same name as its utils.sources.Source
               pull=lambda client_id, period: {...})       # the raw document (utils/reporting/sources.py's contract);
                                                           #   False from `configured`: skipped, silently
    ReportStep(name="email",
               configured=lambda client_id: ...,
               run=lambda outcome, period: "sent to 2 recipients")   # a short note, or None

Isolation: each step runs for each client on its own. An exception from `pull` or `run` marks
only that step failed for that client (`ClientOutcome.steps[name]`, shown in the index row and the
run summary, exit code 1); the report is still built (naming the source that failed) and the other
steps and clients still run. A step whose key is refused (`AuthenticationError`), whose settings
are wrong (`ConfigError`) or whose service's 429 waits used its budget for the run (`WaitBudgetSpent`,
utils/services/http.py) is not called again: the remaining clients it is configured for are marked failed
with the same reason. Only Freshservice's own refused key (401) or spent wait budget stops the run.
Ctrl-C, SIGTERM and SIGHUP (utils/core/cli.py turns them into the same) stop the run; the clients
finished so far and the month's index (utils/reporting/month_index.py) are kept.

The raw file is written atomically by the batch (never by the step), after the one it replaces is
archived under `raw_data/archive/<YYYY-MM>/`; a client id that is not plain digits never names a file.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from utils.core.cli import RedactingFilter
from utils.core.config import COMPANIES_FILE, RAW_DIR, REPORTS_DIR, ensure_writable_dir
from utils.core.errors import AuthenticationError, ConfigError, DataError, IntegoError, WaitBudgetSpent, one_line
from utils.core.files import is_valid_id, make_private_dir, read_json, safe_child, write_json_atomic, write_text_atomic
from utils.core.period import Period
from utils.core.portable import open_no_follow
from utils.core.settings import Settings
from utils.delivery.sent_copy import rebuild_notice
from utils.reporting.history import history_for_raw, store_history
from utils.reporting.month_index import INDEX_RECORD as INDEX_RECORD  # noqa: PLC0414 - utils.delivery.outbound reads it here
from utils.reporting.month_index import write_month_index
from utils.reporting.report import ReportSettings, build_outputs
from utils.reporting.sources import load_source_files
from utils.services.client_list import refresh_companies_list
from utils.services.freshservice_client import FreshserviceClient
from utils.services.freshservice_pull import AccountContext, edition_of, pull_client_month

log = logging.getLogger("pull_info")

LOGS_DIR = "logs"
KEEP_LOGS = 12
COMPANIES_MAX_AGE = timedelta(days=7)


# -- the hook for more sources and for steps after the report ----------------------------------

@dataclass(frozen=True)
class SourceStep:
    """A data source pulled for each client after Freshservice, into raw_data/<name>_<ID>.json."""

    name: str
    configured: Callable[[str], bool]
    pull: Callable[[str, Period], dict]


@dataclass(frozen=True)
class ReportStep:
    """Something done with each client's built report (such as emailing it); returns a short note."""

    name: str
    configured: Callable[[str], bool]
    run: Callable[[ClientOutcome, Period], str | None]


def source_steps(settings: Settings) -> list[SourceStep]:
    """The data sources this run pulls besides Freshservice, as `settings` configure them (one line each)."""
    from utils.services import ms365_pull as ms365
    from utils.services import sentinelone_pull as sentinelone

    steps: list[SourceStep | None] = [ms365.batch_step(settings), sentinelone.batch_step(settings)]
    return [step for step in steps if step is not None]


def report_steps(settings: Settings) -> list[ReportStep]:
    """What is done with each built report, as `settings` configure it (email is not one: it runs after the batch, see utils/monthly/send_step.py)."""
    steps: list[ReportStep | None] = []
    return [step for step in steps if step is not None]


# -- what a run produces -----------------------------------------------------------------------

@dataclass
class StepResult:
    """How one step went for one client: "ok", "failed" or "skipped" (not configured for it)."""

    status: str
    detail: str = ""


@dataclass
class ClientOutcome:
    """How one client's run went, for the index and the summary."""

    client: dict
    raw_path: Path | None = None
    report_path: Path | None = None
    metrics: Mapping[str, Any] | None = None
    tickets: int = 0
    error: str | None = None  # the client failed: no report
    steps: dict[str, StepResult] = field(default_factory=dict)
    known: bool = True  # False: an id that names no client (never kept in the month's index)

    @property
    def failed_steps(self) -> dict[str, StepResult]:
        return {name: result for name, result in self.steps.items() if result.status == "failed"}


@dataclass
class RunSummary:
    outcomes: list[ClientOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ClientOutcome]:
        return [outcome for outcome in self.outcomes if outcome.error]

    @property
    def with_failed_steps(self) -> list[ClientOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.error and outcome.failed_steps]


# -- steps of the run --------------------------------------------------------------------------

def load_clients(client: FreshserviceClient, home: Path, refresh: bool) -> list[dict]:
    """companies_list.json, refreshed first when asked, missing, older than a week, or corrupt."""
    path = home / COMPANIES_FILE
    reason = "asked to" if refresh else None
    if reason is None and not path.exists():
        reason = "it is missing"
    # The real clock, not INTEGOREPORT_NOW: it is compared with the file's real modification time.
    elif reason is None and time.time() - path.stat().st_mtime > COMPANIES_MAX_AGE.total_seconds():
        reason = "it is older than a week"
    clients: list[dict] = []
    if reason is None:
        try:
            clients = read_json(path, "client list")
            if not isinstance(clients, list) or not all(isinstance(c, dict) and "id" in c for c in clients):
                raise DataError("not a list of clients")
        except DataError as exc:
            log.warning("%s is corrupt (%s); refreshing it", path, exc)
            reason = "it was corrupt"
    if reason is not None:
        clients, path = refresh_companies_list(client, home)
        log.info("Refreshed %s (%s): %d clients", path.name, reason, len(clients))
    return clients


RAW_FILE_NAME = re.compile(r"^[a-z0-9]+_([0-9]+)\.json$")  # raw_data/<source>_<CLIENT_ID>.json


def archive_raw_file(path: Path) -> Path | None:
    """Move one raw file to raw_data/archive/<YYYY-MM>/ (the month inside it); None when there is none."""
    if not path.is_file() or path.is_symlink():
        return None
    try:
        month = str(read_json(path, "raw file")["period"]["start"])[:7]
        if not re.fullmatch(r"\d{4}-\d{2}", month):
            raise ValueError(month)
    except (DataError, KeyError, TypeError, ValueError):
        month = "unknown"
    target_dir = path.parent / "archive" / month
    make_private_dir(target_dir)  # raw files hold client data: owner only
    target = target_dir / path.name
    counter = 2
    while target.exists():  # never overwrite an archived file: nothing is thrown away
        target = target_dir / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    shutil.move(str(path), str(target))
    return target


def archive_leftovers(raw_dir: Path, client_ids: set[str]) -> int:
    """Archive the raw files of every client a whole run does not pull (its own are archived as replaced)."""
    moved = 0
    for path in sorted(raw_dir.glob("*_*.json")):
        match = RAW_FILE_NAME.match(path.name)
        if match is not None and match.group(1) not in client_ids and archive_raw_file(path) is not None:
            moved += 1
    return moved


def write_raw_file(home: Path, source: str, client_id: str, raw: dict) -> Path:
    """raw_data/<source>_<CLIENT_ID>.json, the file it replaces archived first."""
    path = safe_child(home / RAW_DIR, f"{source}_{client_id}.json")
    archive_raw_file(path)
    return write_json_atomic(path, raw, private=True)


def slugify(name: str) -> str:
    """A file-name-safe form of a client's name: 'Müller & Söhne GmbH' -> 'muller-sohne-gmbh'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:60].rstrip("-") or "client"


def build_client_report(raw: dict, outcome: ClientOutcome, home: Path, reports_dir: Path,
                        settings: ReportSettings | None) -> None:
    """Write the client's report, metrics JSON and text version beside each other.

    The other sources' raw files of the same month (utils.reporting.sources) go into the report; a source
    that failed this run is named in it.
    """
    client_id = str(outcome.client["id"])
    extra_raw, problems = load_source_files(home / RAW_DIR, client_id, raw["period"])
    for problem in problems:
        log.warning("%s (%s): %s", outcome.client.get("name"), client_id, problem)
    failures = {name: result.detail or "it could not be pulled" for name, result in outcome.failed_steps.items()}
    html, text, metrics = build_outputs(raw, settings=settings, extra_raw=extra_raw, source_failures=failures,
                                        history=history_for_raw(home, raw))
    stem = f"{slugify(str(outcome.client.get('name', '')))}-{client_id}"
    notice = rebuild_notice(reports_dir, client_id)  # the month was emailed already: sent/ keeps what they got
    if notice:
        log.info("%s (%s): %s", outcome.client.get("name"), client_id, notice)
    write_json_atomic(safe_child(reports_dir, f"{stem}.json"), metrics)
    write_text_atomic(safe_child(reports_dir, f"{stem}.txt"), text)
    outcome.report_path = write_text_atomic(safe_child(reports_dir, f"{stem}.html"), html)
    outcome.metrics = metrics
    store_history(home, metrics)  # next month's report compares with this one


def run_source_steps(steps: Sequence[SourceStep], outcome: ClientOutcome, period: Period, home: Path,
                     disabled: dict[str, str]) -> None:
    """Pull every configured source for one client, each isolated from the others."""
    client_id = str(outcome.client["id"])
    for step in steps:
        def pull_and_write(step: SourceStep = step) -> str:
            write_raw_file(home, step.name, client_id, step.pull(client_id, period))
            return ""
        _run_isolated(step.name, step.configured, pull_and_write, outcome, disabled)


def run_report_steps(steps: Sequence[ReportStep], outcome: ClientOutcome, period: Period, disabled: dict[str, str]) -> None:
    """Run every configured step on one client's built report, each isolated from the others."""
    for step in steps:
        def run_step(step: ReportStep = step) -> str:
            return step.run(outcome, period) or ""
        _run_isolated(step.name, step.configured, run_step, outcome, disabled)


def _run_isolated(name: str, configured: Callable[[str], bool], call: Callable[[], str], outcome: ClientOutcome,
                  disabled: dict[str, str]) -> None:
    """Run one step for one client; any failure is recorded on the outcome, never raised (Ctrl-C is)."""
    client_id = str(outcome.client["id"])
    label = f"{outcome.client.get('name')} ({client_id}): {name}"
    try:
        if not configured(client_id):
            outcome.steps[name] = StepResult("skipped")
            return
        if name in disabled:  # only clients the step is configured for share its refusal
            outcome.steps[name] = StepResult("failed", disabled[name])
            return
        outcome.steps[name] = StepResult("ok", call())
    except (AuthenticationError, ConfigError, WaitBudgetSpent) as exc:
        # A refused key, a wrong setting or a spent 429 wait budget fails every client alike: stop asking,
        # keep the others going.
        disabled[name] = one_line(exc)
        outcome.steps[name] = StepResult("failed", disabled[name])
        log.error("%s failed: %s; not tried for the remaining clients", label, disabled[name])
    except Exception as exc:  # noqa: BLE001 - one source's failure never stops the client or the batch
        outcome.steps[name] = StepResult("failed", one_line(exc))
        log.error("%s failed: %s", label, outcome.steps[name].detail)
        log.debug("%s failed", label, exc_info=True)


def stopping_error(exc: BaseException) -> IntegoError | None:
    """The refused key, bad configuration or spent 429 wait budget behind `exc` (however wrapped), which
    fails every client alike (from Freshservice, without which there is no report: the run stops)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, (AuthenticationError, ConfigError, WaitBudgetSpent)):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def prepare_shared_step(context: AccountContext, period: Period, multiple_clients: bool = True) -> None:
    """Fetch once what every client needs: reference data and, for several clients, one sweep instead
    of queries per client.

    Only a refused key, bad configuration or a spent wait budget stops the run here; any other failure costs
    credits, not the month: each client then finds its own tickets.
    """
    try:
        context.load_reference_data()
    except Exception as exc:  # noqa: BLE001 - see the docstring
        stop = stopping_error(exc)
        if stop is not None:
            raise stop from None
        # Tried once per run: the reports go out with ids for names and built-in labels, and say so.
        reason = one_line(exc)
        context.warnings.append(f"agent names and custom status labels are not available this month ({reason})")
        log.warning("agent names and custom status labels could not be read (%s); the reports say so", reason)
    if not multiple_clients:
        return
    try:
        context.prepare_batch(period)  # its reference data is loaded (or given up) above
    except Exception as exc:  # noqa: BLE001 - see the docstring
        stop = stopping_error(exc)
        if stop is not None:
            raise stop from None
        context.sweep_failed = context.sweep_since is None
        log.warning("the shared ticket sweep failed (%s); each client's tickets are found on their own instead", one_line(exc))
        log.debug("shared step failed", exc_info=True)


def select_clients(clients: list[dict], client_ids: list[str] | None, summary: RunSummary) -> list[dict]:
    """The clients to pull: every one, or those asked for (each once); unknown or unusable ids are failed outcomes."""
    if client_ids:
        known = {str(c["id"]): c for c in clients}
        selected = []
        for client_id in dict.fromkeys(client_ids):  # a duplicate --client is pulled once
            if client_id in known:
                selected.append(known[client_id])
            else:
                log.error("unknown client id %s: not in %s (try --refresh-clients)", client_id, COMPANIES_FILE)
                summary.outcomes.append(ClientOutcome({"id": client_id, "name": f"Client {client_id}"},
                                                      error=f"unknown client id {client_id}", known=False))
        clients = selected
    usable = []
    for entry in clients:
        if is_valid_id(entry.get("id")):
            usable.append(entry)
        else:
            # An id names raw and report files: one that is not plain digits could lead them out of their folder.
            reason = f"the client id {str(entry.get('id'))!r} from the server is not a number; skipped"
            log.error("%s: %s", entry.get("name"), reason)
            summary.outcomes.append(ClientOutcome({"id": str(entry.get("id")), "name": str(entry.get("name"))}, error=reason, known=False))
    return usable


def run_batch(client: FreshserviceClient, home: Path, period: Period, client_ids: list[str] | None,
              refresh_clients: bool, build: bool, workers: int,
              sources: Sequence[SourceStep] = (), after_report: Sequence[ReportStep] = (),
              report_settings: ReportSettings | None = None) -> tuple[RunSummary, Path | None]:
    """Steps 2 to 5 of the monthly run; returns the outcomes and the index path.

    Ctrl-C or a stopping error (a refused key) still leaves the index of the clients finished so far.
    """
    reports_dir = home / REPORTS_DIR / period.month
    try:
        ensure_writable_dir(home / RAW_DIR, private=True)
        if build:
            ensure_writable_dir(reports_dir)
    except ConfigError as exc:
        raise DataError(str(exc)) from None  # checked before any pulling, as a runtime failure

    summary = RunSummary()
    clients = select_clients(load_clients(client, home, refresh_clients), client_ids, summary)
    if not client_ids:
        moved = archive_leftovers(home / RAW_DIR, {str(entry["id"]) for entry in clients})
        if moved:
            log.info("Archived %d raw files of clients not in this run under %s", moved, home / RAW_DIR / "archive")

    # Freshservice for MSPs: the clients are workspaces, and the shared sweep reads every workspace.
    context = AccountContext(client, edition=edition_of(clients))
    index_path = None
    try:
        if clients:
            prepare_shared_step(context, period, multiple_clients=len(clients) > 1)
        disabled: dict[str, str] = {}
        for entry in clients:
            outcome = ClientOutcome(entry)
            summary.outcomes.append(outcome)
            run_client(context, outcome, period, home, reports_dir, build, workers, sources, after_report, report_settings, disabled)
    finally:
        if build:
            index_path = write_index(reports_dir, period, summary.outcomes)
    return summary, index_path


def run_client(context: AccountContext, outcome: ClientOutcome, period: Period, home: Path, reports_dir: Path, build: bool,
               workers: int, sources: Sequence[SourceStep], after_report: Sequence[ReportStep],
               report_settings: ReportSettings | None, disabled: dict[str, str]) -> None:
    """One client: Freshservice, the other sources, the report, the steps after it. Any failure is the
    outcome's error, except a refused key, bad configuration or a spent wait budget, which stops the run."""
    client = context.client
    entry = outcome.client
    client_id = str(entry["id"])
    started_credits = client.counters.credits
    try:
        raw = pull_client_month(context, client_id, period, entry.get("entity_type", "department"), workers,
                                progress_level=logging.DEBUG)  # one summary line a client is enough in a batch log
        outcome.raw_path = write_raw_file(home, "freshservice", client_id, raw)
        outcome.tickets = len(raw["tickets"])
        run_source_steps(sources, outcome, period, home, disabled)
        if build:
            build_client_report(raw, outcome, home, reports_dir, report_settings)
            run_report_steps(after_report, outcome, period, disabled)
        log.info("%s: %d ticket%s, %d credits", entry.get("name"), outcome.tickets, "" if outcome.tickets == 1 else "s",
                 client.counters.credits - started_credits)
    except Exception as exc:  # noqa: BLE001 - one client's failure, whatever it is, never stops the others
        stop = stopping_error(exc)
        if stop is not None:
            outcome.error = f"the run stopped: {one_line(stop)}"
            raise stop from None
        outcome.error = one_line(exc)
        log.error("%s (%s) failed: %s", entry.get("name"), client_id, outcome.error)
        log.debug("%s (%s) failed", entry.get("name"), client_id, exc_info=True)
    except BaseException as exc:  # Ctrl-C, SIGTERM, SIGHUP: the index shows this client as not finished
        outcome.error = f"the run was stopped ({exc or 'interrupted'}) before this client finished"
        raise


# -- the month's index -------------------------------------------------------------------------

def index_record(outcome: ClientOutcome) -> dict:
    """What the month's index keeps of one client (its headline numbers are read from its metrics file)."""
    return {"client": {"id": str(outcome.client["id"]), "name": str(outcome.client.get("name") or f"Client {outcome.client['id']}")},
            "report": outcome.report_path.name if outcome.report_path else None, "tickets": outcome.tickets,
            "error": outcome.error, "steps_failed": {name: result.detail for name, result in outcome.failed_steps.items()}}


def write_index(reports_dir: Path, period: Period, outcomes: list[ClientOutcome]) -> Path | None:
    """index.html (and index.json) of the month: this run's clients merged with those already listed."""
    try:
        return write_month_index(reports_dir, period, [index_record(o) for o in outcomes if o.known],
                                 [index_record(o) for o in outcomes if not o.known])
    except Exception as exc:  # noqa: BLE001 - the index never hides what the run did (or why it stopped)
        log.error("the index of %s could not be written: %s", period.label, one_line(exc))
        log.debug("index failed", exc_info=True)
        return None


# -- logging to a file per run -------------------------------------------------------------------

@contextmanager
def run_log_file(home: Path) -> Iterator[Path | None]:
    """A log file for this run under logs/ (the last twelve are kept), attached while the block runs."""
    logs = home / LOGS_DIR
    try:
        logs.mkdir(mode=0o700, parents=True, exist_ok=True)  # the log names clients: for the owner only
        # Named by the real local time, like the lines inside it (INTEGOREPORT_NOW is the report's clock).
        path = logs / f"pull_info-{datetime.now().strftime('%Y%m%d-%H%M%S')}.log"
        os.close(open_no_follow(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        log.warning("no log file: %s", exc)
        yield None
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    for old in sorted(logs.glob("pull_info-*.log"))[:-KEEP_LOGS]:
        old.unlink(missing_ok=True)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
