"""The unattended monthly run: every client's month pulled and its report built, plus an index for the MSP.

    python pull_info.py [--month YYYY-MM] [--client ID ...] [--demo] [--no-build] [--refresh-clients] [--send]
    python pull_info.py --check        # after editing integoreport.toml: is every service reachable?

Cron calls it on the 1st of each month. `--send` then emails the built reports (send_reports.py);
without it nothing is sent, so the MSP can review first. `--demo` runs the same job against the
built-in simulator and its demo account, in demo/, with no Freshservice account needed, and ends by
writing the demo's emails to demo/reports/<YYYY-MM>/outbox/.
The work itself is in utils/monthly/batch.py; the data sources are declared in utils/sources (docs/adding-a-source.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

if __name__ == "__main__":  # run as `python path/to/script.py` from any folder: import from the project root
    # Replace, not prepend: with the script's own folder first on the path, utils/services/http.py would hide
    # the standard library's http package.
    sys.path[0] = str(Path(__file__).resolve().parent)

from utils.core.cli import EXIT_CODES_HELP, build_parser, clean_text, run_main
from utils.core.errors import EXIT_FAILURE, EXIT_OK, ConfigError
from utils.core.files import is_valid_id
from utils.core.home import PROJECT_ROOT, ensure_writable_dir, home_dir
from utils.core.period import Period, add_period_arguments, parse_period, period_of, resolve_timezone
from utils.core.settings import ReportSettings, Settings, load_settings
from utils.monthly.backfill import MAX_BACKFILL_MONTHS, backfill, check_backfill_options
from utils.monthly.batch import run_batch
from utils.monthly.checks import exit_code as checks_exit_code
from utils.monthly.checks import format_table, run_checks
from utils.monthly.demo import DEMO_MSP_NAME, demo_services
from utils.monthly.run_lock import RunLock
from utils.monthly.run_log import run_log_file
from utils.monthly.send_step import send_after_build
from utils.monthly.state import ClientOutcome, MonthlyRun, RunSummary, connect
from utils.reporting.history import TREND_MONTHS
from utils.services.freshservice_client import FreshserviceClient, UsageCounters
from utils.services.freshservice_pull import DEFAULT_WORKERS, positive_int
from utils.sources import settings_tables
from utils.sources.freshservice import add_url_argument, with_url
from utils.sources.source import Connected

log = logging.getLogger("pull_info")

ENV_DEMO_HOME = "INTEGOREPORT_DEMO_HOME"  # where --demo writes; default demo/ in the project


def run(args: argparse.Namespace) -> int:
    check_backfill_options(args.backfill, args.refresh_history, args.demo)
    # Every setting is checked before the first request, so a typo never costs a month of API credits.
    # The demo reads the settings file of its own home, never the real one.
    home = demo_folder() if args.demo else home_dir()
    settings = load_settings(home, tables=settings_tables())  # every declared source's [table], secret and client key
    if args.check:
        return check_services(settings, args)
    report_settings = settings.report
    period = period_of(args, resolve_timezone(args.tz, settings.timezone))
    if not args.demo:
        if args.url:  # --url beats FRESHSERVICE_URL, which beats the settings file
            settings = with_url(settings, args.url)
        sources = connect(settings)  # the Freshservice URL and key are checked here, before the first request
        deliver = send_after_build(settings, home, period, args.client) if args.send and not args.no_build else None
        return run_with_sources(args, home, period, settings, report_settings, sources, deliver=deliver)
    return run_demo(args, period, settings, report_settings)


def check_services(settings: Settings, args: argparse.Namespace) -> int:
    """--check: one cheap call to each configured service, a table on stdout; nothing is written."""
    if args.demo:
        raise ConfigError("--check tries your own settings and services; run it without --demo")
    if args.url:
        settings = with_url(settings, args.url)
    results = run_checks(settings)
    print(format_table(results))
    return checks_exit_code(results)


def demo_folder() -> Path:
    return Path(os.environ.get(ENV_DEMO_HOME) or PROJECT_ROOT / "demo").resolve()


def run_demo(args: argparse.Namespace, period: Period, settings: Settings, report_settings: ReportSettings) -> int:
    """The same run against every source's demo service and the demo account, in demo/ (or $INTEGOREPORT_DEMO_HOME)."""
    demo_home = demo_folder()
    report_settings = dataclasses.replace(report_settings, msp_name=DEMO_MSP_NAME)  # the name its emails come from too
    with demo_services(demo_home) as demo:
        log.info("Demo: a simulated Freshservice account at %s; everything is written under %s",
                 demo["freshservice"].client().base_url, demo_home)
        deliver = None if args.no_build else send_after_build(settings, demo_home, period, args.client, demo=True)  # the outbox
        return run_with_sources(args, demo_home, period, settings, report_settings, connect(settings, given=demo), deliver=deliver)


def run_with_sources(args: argparse.Namespace, home: Path, period: Period, settings: Settings, report_settings: ReportSettings,
                     sources: Mapping[str, Connected], deliver: Callable[[], bool] | None = None) -> int:
    started = time.monotonic()
    ensure_writable_dir(home)
    run = MonthlyRun(home=home, period=period, settings=settings, sources=dict(sources), build=not args.no_build,
                     workers=args.workers, report_settings=report_settings)
    client: FreshserviceClient = run.primary.client()
    with run_log_file(home) as log_path:
        lock = RunLock(home)
        lock.acquire()
        try:
            if args.backfill:
                return run_backfill(args, run, args.backfill)
            review = None
            if args.demo:  # the demo's first report shows a full trend and month-over-month changes
                run_backfill(args, run, TREND_MONTHS - 1)
                review = demo_quarter(run, args.client) if run.build and run.period.is_month else None
                client.counters = UsageCounters()  # the backfill printed its own cost; the month's summary is the month's
            summary, index_path = run_batch(run, args.client, args.refresh_clients)
        finally:
            lock.release()
        delivered = deliver() if deliver is not None else True  # --send: email the reports (utils/delivery/outbound.py)
        report_summary(summary, index_path, client, period, started)
        if review is not None:
            print(f"Quarterly review for {clean_text(str(review.client.get('name')))}: {review.report_path}")
        if log_path:
            log.debug("log file: %s", log_path)
    return EXIT_FAILURE if summary.failed or summary.with_failed_steps or not delivered else EXIT_OK


def demo_quarter(run: MonthlyRun, client_ids: list[str] | None) -> ClientOutcome | None:
    """The demo's previous full quarter, built from the backfilled history and one quarter pull (before the month's
    batch, so raw_data/ ends holding the month); the busiest client's outcome, for its review's path."""
    quarter = parse_period(run.period.timezone, quarter="previous")
    summary, _ = run_batch(replace(run, period=quarter), client_ids)
    done = sorted((outcome for outcome in summary.outcomes if not outcome.error and outcome.report_path), key=lambda o: -o.tickets)
    return done[0] if done else None


def run_backfill(args: argparse.Namespace, run: MonthlyRun, months: int) -> int:
    """Fill the history with the months before the run's month; prints what it stored and the credits spent."""
    summary = backfill(run, months, args.client, refresh=args.refresh_history, refresh_clients=args.refresh_clients)
    print(summary.line())
    return EXIT_FAILURE if summary.failed else EXIT_OK


def report_summary(summary: RunSummary, index_path: Path | None, client: FreshserviceClient, period: Period, started: float) -> None:
    """The run's closing lines: counts and cost in the log, the index and an example report on stdout."""
    done = [o for o in summary.outcomes if not o.error]
    usage = client.counters.as_dict()
    tickets = sum(o.tickets for o in done)
    log.info("%s: %d client%s done, %d failed; %d tickets, %d credits (%.2f a ticket) in %d requests, %d rate-limit waits, %.1f s",
             period.label, len(done), "" if len(done) == 1 else "s", len(summary.failed), tickets, usage["credits"], usage["credits"] / tickets if tickets else 0,
             usage["requests"], usage["rate_limited"], time.monotonic() - started)
    for outcome in summary.failed:
        log.info("  failed: %s (%s): %s", outcome.client.get("name"), outcome.client.get("id"), outcome.error)
    for outcome in summary.with_failed_steps:
        for name, result in outcome.failed_steps.items():
            log.info("  %s failed: %s (%s): %s", name, outcome.client.get("name"), outcome.client.get("id"), result.detail)
    if index_path:
        print(f"Index: {index_path}")
        example = next((o for o in sorted(done, key=lambda o: -o.tickets) if o.report_path), None)
        if example:
            print(f"Report for {clean_text(str(example.client.get('name')))}: {example.report_path}")


def client_id(text: str) -> str:
    """A --client value: a client id from companies_list.json (digits only)."""
    if not is_valid_id(text.strip()):
        raise argparse.ArgumentTypeError(f"must be a client id (a number from companies_list.json), not {text!r}")
    return text.strip()


def build_pull_info_parser() -> argparse.ArgumentParser:
    """The command line of pull_info.py (a function, so a test or another flag can extend it)."""
    parser = build_parser("Pull every client's month from Freshservice and build their reports (what cron runs monthly).",
                          exit_codes=EXIT_CODES_HELP.replace("1 a runtime failure (API, data, file)",
                                                             "1 a client or data source failed, or another runtime failure"))
    add_url_argument(parser)
    add_period_arguments(parser)
    parser.add_argument("--client", action="append", metavar="ID", type=client_id,
                        help="only this client (repeatable); default: every client")
    parser.add_argument("--demo", action="store_true", help="run on the built-in demo account, in demo/, with no Freshservice account")
    parser.add_argument("--no-build", action="store_true", help="pull the raw data only; build no reports")
    parser.add_argument("--send", action="store_true", help="then email the built reports as send_reports.py does (never twice)")
    parser.add_argument("--check", action="store_true",
                        help="check the settings and make one cheap call to each configured service; pull and write nothing")
    parser.add_argument("--refresh-clients", action="store_true", help="refresh companies_list.json first")
    parser.add_argument("--tz", help="the report time zone, an IANA name (default: [report] timezone or $REPORT_TIMEZONE, else the machine's zone)")
    parser.add_argument("--workers", type=positive_int, default=DEFAULT_WORKERS,
                        help=f"tickets fetched at once (default {DEFAULT_WORKERS}); 1 sends one request at a time")
    parser.add_argument("--backfill", type=backfill_months, metavar="N",
                        help="only fill the history with the N months before the report month (no reports, no sending); "
                             "months already in the history are skipped")
    parser.add_argument("--refresh-history", action="store_true", help="with --backfill: pull months already in the history again")
    return parser


def backfill_months(text: str) -> int:
    value = positive_int(text)
    if value > MAX_BACKFILL_MONTHS:
        raise argparse.ArgumentTypeError(f"at most {MAX_BACKFILL_MONTHS} months")
    return value


def main(argv: list[str] | None = None) -> int:
    return run_main(build_pull_info_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
