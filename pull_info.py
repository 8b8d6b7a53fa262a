"""The unattended monthly run: every client's month pulled and its report built, plus an index for the MSP.

    python pull_info.py [--month YYYY-MM] [--client ID ...] [--demo] [--no-build] [--refresh-clients]

Cron calls it on the 1st of each month. `--demo` runs the same job against the built-in
simulator and its demo account, in demo/, with no Freshservice account needed.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data_pullers.freshservice import (
    DEFAULT_WORKERS,
    AccountContext,
    positive_int,
    pull_client_month,
    raw_data_path,
)
from utils.cli import RedactingFilter, build_parser, run_main
from utils.client_manager import refresh_companies_list
from utils.config import COMPANIES_FILE, PROJECT_ROOT, RAW_DIR, REPORTS_DIR, Config, ensure_writable_dir, load_config
from utils.errors import EXIT_FAILURE, EXIT_OK, AuthenticationError, ConfigError, DataError, IntegoError
from utils.files import read_json, write_json_atomic, write_text_atomic
from utils.freshservice_client import FreshserviceClient, client_from_config
from utils.period import Period, report_period, resolve_timezone
from utils.report import build_outputs, render_index

log = logging.getLogger("pull_info")

LOCK_FILE = ".pull_info.lock"
LOGS_DIR = "logs"
KEEP_LOGS = 12
COMPANIES_MAX_AGE = timedelta(days=7)
ENV_DEMO_HOME = "INTEGOREPORT_DEMO_HOME"  # where --demo writes; default demo/ in the project
DEMO_KEY = "demo-key-not-secret"


# -- the lock --------------------------------------------------------------------------------

class RunLock:
    """A lock file holding our pid; a lock whose process is gone is taken over."""

    def __init__(self, home: Path):
        self.path = home / LOCK_FILE
        self.held = False

    def acquire(self) -> None:
        for _attempt in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is not None and _process_alive(owner):
                    raise IntegoError(f"another run is in progress (pid {owner})") from None
                log.warning("taking over a stale lock%s", f" left by pid {owner}" if owner else "")
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{os.getpid()}\n")
            self.held = True
            return
        raise IntegoError(f"could not take the lock {self.path}")

    def _owner(self) -> int | None:
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self.held and self._owner() == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


# -- steps -------------------------------------------------------------------------------------

def load_clients(client: FreshserviceClient, home: Path, refresh: bool) -> list[dict]:
    """companies_list.json, refreshed first when asked, missing, older than a week, or corrupt."""
    path = home / COMPANIES_FILE
    reason = "asked to" if refresh else None
    if reason is None and not path.exists():
        reason = "it is missing"
    elif reason is None and datetime.now().timestamp() - path.stat().st_mtime > COMPANIES_MAX_AGE.total_seconds():
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


def archive_raw_files(home: Path) -> int:
    """Move the previous run's raw files to raw_data/archive/<YYYY-MM>/ (the month inside each file)."""
    raw_dir = home / RAW_DIR
    moved = 0
    for path in sorted(raw_dir.glob("freshservice_*.json")):
        try:
            month = str(read_json(path, "raw file")["period"]["start"])[:7]
            if not re.fullmatch(r"\d{4}-\d{2}", month):
                raise ValueError(month)
        except (DataError, KeyError, TypeError, ValueError):
            month = "unknown"
        target_dir = raw_dir / "archive" / month
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / path.name
        counter = 2
        while target.exists():  # never overwrite an archived file: nothing is thrown away
            target = target_dir / f"{path.stem}.{counter}{path.suffix}"
            counter += 1
        shutil.move(str(path), str(target))
        moved += 1
    return moved


def slugify(name: str) -> str:
    """A file-name-safe form of a client's name: 'Müller & Söhne GmbH' -> 'muller-sohne-gmbh'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:60].rstrip("-") or "client"


@dataclass
class ClientOutcome:
    """How one client's run went, for the index and the summary."""

    client: dict
    raw_path: Path | None = None
    report_path: Path | None = None
    metrics: dict | None = None
    tickets: int = 0
    error: str | None = None


@dataclass
class RunSummary:
    outcomes: list[ClientOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ClientOutcome]:
        return [outcome for outcome in self.outcomes if outcome.error]


def build_client_report(raw: dict, outcome: ClientOutcome, reports_dir: Path) -> None:
    """Write the client's report, metrics JSON and text version beside each other."""
    html, text, metrics = build_outputs(raw)
    stem = f"{slugify(str(outcome.client.get('name', '')))}-{outcome.client['id']}"
    write_json_atomic(reports_dir / f"{stem}.json", metrics)
    write_text_atomic(reports_dir / f"{stem}.txt", text)
    outcome.report_path = write_text_atomic(reports_dir / f"{stem}.html", html)
    outcome.metrics = metrics


def run_batch(client: FreshserviceClient, home: Path, period: Period, client_ids: list[str] | None,
              refresh_clients: bool, build: bool, workers: int) -> tuple[RunSummary, Path | None]:
    """Steps 2 to 5 of the monthly run; returns the outcomes and the index path."""
    reports_dir = home / REPORTS_DIR / period.month
    try:
        ensure_writable_dir(home / RAW_DIR)
        if build:
            ensure_writable_dir(reports_dir)
    except ConfigError as exc:
        raise DataError(str(exc)) from None  # checked before any pulling, as a runtime failure

    clients = load_clients(client, home, refresh_clients)
    summary = RunSummary()
    if client_ids:
        known = {str(c["id"]): c for c in clients}
        selected = []
        for client_id in client_ids:
            if client_id in known:
                selected.append(known[client_id])
            else:
                log.error("unknown client id %s: not in %s (try --refresh-clients)", client_id, COMPANIES_FILE)
                summary.outcomes.append(ClientOutcome({"id": client_id, "name": f"Client {client_id}"},
                                                      error=f"unknown client id {client_id}"))
        clients = selected

    moved = archive_raw_files(home)
    if moved:
        log.info("Archived %d raw files of the previous run under %s", moved, home / RAW_DIR / "archive")

    context = AccountContext(client)
    if len(clients) > 1:
        context.prepare_batch(period)  # one sweep for every client instead of queries per client
    for entry in clients:
        outcome = ClientOutcome(entry)
        summary.outcomes.append(outcome)
        started_credits = client.counters.credits
        try:
            raw = pull_client_month(context, str(entry["id"]), period, entry.get("entity_type", "department"), workers,
                                    progress_level=logging.DEBUG)  # one summary line a client is enough in a batch log
            outcome.raw_path = write_json_atomic(raw_data_path(home, str(entry["id"])), raw)
            outcome.tickets = len(raw["tickets"])
            if build:
                build_client_report(raw, outcome, reports_dir)
            log.info("%s: %d ticket%s, %d credits", entry.get("name"), outcome.tickets, "" if outcome.tickets == 1 else "s",
                     client.counters.credits - started_credits)
        except AuthenticationError:
            raise  # a refused key fails every client alike: stop now
        except IntegoError as exc:
            outcome.error = str(exc)
            log.error("%s (%s) failed: %s", entry.get("name"), entry["id"], exc)

    index_path = None
    if build:
        index_path = write_text_atomic(reports_dir / "index.html", render_index(period, [
            {"client": o.client, "report": o.report_path.name if o.report_path else None, "metrics": o.metrics,
             "tickets": o.tickets, "error": o.error} for o in summary.outcomes]))
    return summary, index_path


# -- logging to a file per run -------------------------------------------------------------------

def start_log_file(home: Path) -> Path | None:
    """A log file per run under logs/, keeping the last twelve."""
    logs = home / LOGS_DIR
    try:
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / f"pull_info-{datetime.now().strftime('%Y%m%d-%H%M%S')}.log"
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        log.warning("no log file: %s", exc)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    for old in sorted(logs.glob("pull_info-*.log"))[:-KEEP_LOGS]:
        old.unlink(missing_ok=True)
    return path


# -- the script ----------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    timezone = resolve_timezone(args.tz)
    period = report_period(args.month, timezone)
    simulator = None
    if args.demo:
        from simulators.demo_freshservice import build_demo_account
        from simulators.freshservice import Simulator, SimulatorSettings

        simulator = Simulator(account=build_demo_account(), settings=SimulatorSettings(api_key=DEMO_KEY))
        demo_home = Path(os.environ.get(ENV_DEMO_HOME) or PROJECT_ROOT / "demo").resolve()
        config = Config(url=simulator.start(), api_key=DEMO_KEY, home=demo_home)
        log.info("Demo: a simulated Freshservice account at %s; everything is written under %s", config.url, demo_home)
    else:
        config = load_config(url=args.url)
    try:
        return run_with_config(args, config, period)
    finally:
        if simulator is not None:
            simulator.stop()


def run_with_config(args: argparse.Namespace, config: Config, period: Period) -> int:
    started = time.monotonic()
    ensure_writable_dir(config.home)
    log_path = start_log_file(config.home)
    lock = RunLock(config.home)
    lock.acquire()
    try:
        client = client_from_config(config)
        summary, index_path = run_batch(client, config.home, period, args.client, args.refresh_clients, not args.no_build, args.workers)
    finally:
        lock.release()
    done = [o for o in summary.outcomes if not o.error]
    usage = client.counters.as_dict()
    tickets = sum(o.tickets for o in done)
    log.info("%s: %d clients done, %d failed; %d tickets, %d credits (%.2f a ticket) in %d requests, %d rate-limit waits, %.1f s",
             period.label, len(done), len(summary.failed), tickets, usage["credits"], usage["credits"] / tickets if tickets else 0,
             usage["requests"], usage["rate_limited"], time.monotonic() - started)
    for outcome in summary.failed:
        log.info("  failed: %s (%s): %s", outcome.client.get("name"), outcome.client.get("id"), outcome.error)
    if index_path:
        print(f"Index: {index_path}")
        example = next((o for o in sorted(done, key=lambda o: -o.tickets) if o.report_path), None)
        if example:
            print(f"Report for {example.client.get('name')}: {example.report_path}")
    if log_path:
        log.debug("log file: %s", log_path)
    return EXIT_FAILURE if summary.failed else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("Pull every client's month from Freshservice and build their reports (what cron runs monthly).")
    parser.add_argument("--month", help="the month, YYYY-MM (default: the previous full month)")
    parser.add_argument("--client", action="append", metavar="ID", help="only this client (repeatable); default: every client")
    parser.add_argument("--demo", action="store_true", help="run on the built-in demo account, in demo/, with no Freshservice account")
    parser.add_argument("--no-build", action="store_true", help="pull the raw data only; build no reports")
    parser.add_argument("--refresh-clients", action="store_true", help="refresh companies_list.json first")
    parser.add_argument("--tz", help="the report time zone, an IANA name (default $REPORT_TIMEZONE, else the machine's zone)")
    parser.add_argument("--workers", type=positive_int, default=DEFAULT_WORKERS,
                        help=f"tickets fetched at once (default {DEFAULT_WORKERS}); 1 sends one request at a time")
    return run_main(parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
