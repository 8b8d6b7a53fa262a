"""The unattended monthly run: every client's month pulled and its report built, plus an index for the MSP.

    python pull_info.py [--month YYYY-MM] [--client ID ...] [--demo] [--no-build] [--refresh-clients] [--send]
    python pull_info.py --check        # after editing integoreport.toml: is every service reachable?

Cron calls it on the 1st of each month. `--send` then emails the built reports (send_reports.py);
without it nothing is sent, so the MSP can review first. `--demo` runs the same job against the
built-in simulator and its demo account, in demo/, with no Freshservice account needed, and ends by
writing the demo's emails to demo/reports/<YYYY-MM>/outbox/.
The work itself is in utils/monthly/batch.py (which also says how to add a data source to the run).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __name__ == "__main__":  # run as `python path/to/script.py` from any folder: import from the project root
    # Replace, not prepend: with the script's own folder first on the path, utils/services/http.py would hide
    # the standard library's http package.
    sys.path[0] = str(Path(__file__).resolve().parent)

from utils.core.cli import EXIT_CODES_HELP, build_parser, clean_text, run_main
from utils.core.config import PROJECT_ROOT, ensure_writable_dir, home_dir
from utils.core.errors import EXIT_FAILURE, EXIT_OK, ConfigError
from utils.core.files import is_valid_id
from utils.core.period import Period, report_period, resolve_timezone
from utils.core.settings import ReportSettings, Settings, load_settings
from utils.monthly.backfill import MAX_BACKFILL_MONTHS, backfill, check_backfill_options
from utils.monthly.batch import RunSummary, SourceStep, report_steps, run_batch, run_log_file, source_steps
from utils.monthly.checks import exit_code as checks_exit_code
from utils.monthly.checks import format_table, run_checks
from utils.monthly.run_lock import RunLock
from utils.monthly.send_step import send_after_build
from utils.reporting.history import TREND_MONTHS
from utils.services.freshservice_client import FreshserviceClient, UsageCounters, client_from_settings
from utils.services.freshservice_pull import DEFAULT_WORKERS, positive_int

log = logging.getLogger("pull_info")

ENV_DEMO_HOME = "INTEGOREPORT_DEMO_HOME"  # where --demo writes; default demo/ in the project
DEMO_KEY = "demo-key-not-secret"
# The demo's account budget (credits a minute). Its backfill of five months plus the month costs about
# 8,600 credits; under the simulator's default 5,000 the run paced itself one request at a time for
# half a minute once 90% was spent. The pacing has its own tests; the demo shows the reports.
DEMO_CREDITS_PER_MINUTE = 20_000


def run(args: argparse.Namespace) -> int:
    check_backfill_options(args.backfill, args.refresh_history, args.demo)
    # Every setting is checked before the first request, so a typo never costs a month of API credits.
    # The demo reads the settings file of its own home, never the real one.
    home = demo_folder() if args.demo else home_dir()
    settings = load_settings(home)
    if args.check:
        return check_services(settings, args)
    report_settings = settings.report
    period = report_period(args.month, resolve_timezone(args.tz, settings.timezone))
    if not args.demo:
        if args.url:
            settings = settings.with_freshservice_url(args.url)
        client = client_from_settings(settings)  # the URL and the key checked before any work
        deliver = send_after_build(settings, home, period, args.client) if args.send and not args.no_build else None
        return run_with_client(args, client, home, period, settings, report_settings, deliver=deliver)
    return run_demo(args, period, settings, report_settings)


def check_services(settings: Settings, args: argparse.Namespace) -> int:
    """--check: one cheap call to each configured service, a table on stdout; nothing is written."""
    if args.demo:
        raise ConfigError("--check tries your own settings and services; run it without --demo")
    if args.url:
        settings = settings.with_freshservice_url(args.url)
    results = run_checks(settings)
    print(format_table(results))
    return checks_exit_code(results)


def demo_folder() -> Path:
    return Path(os.environ.get(ENV_DEMO_HOME) or PROJECT_ROOT / "demo").resolve()


def run_demo(args: argparse.Namespace, period: Period, settings: Settings, report_settings: ReportSettings) -> int:
    """The same run against the built-in simulator and its demo account, in demo/ (or $INTEGOREPORT_DEMO_HOME)."""
    demo_home = demo_folder()
    from simulators.demo_freshservice import build_demo_account
    from simulators.freshservice import Simulator, SimulatorSettings

    simulator = Simulator(account=build_demo_account(), settings=SimulatorSettings(api_key=DEMO_KEY, rate_limit_total=DEMO_CREDITS_PER_MINUTE))
    client = client_from_settings(settings.with_freshservice_url(simulator.start()), api_key=DEMO_KEY)
    log.info("Demo: a simulated Freshservice account at %s; everything is written under %s", client.base_url, demo_home)
    # The other sources' demo services, so the demo reports show their sections too.
    from simulators.demo_ms365 import start_demo_source as start_demo_ms365
    from simulators.demo_sentinelone import start_demo_source as start_demo_sentinelone

    graph_simulator, ms365_step = start_demo_ms365(demo_home)
    s1_simulator, sentinelone_step = start_demo_sentinelone(demo_home)
    demo_steps = [ms365_step, sentinelone_step]
    names = {step.name for step in demo_steps}
    try:
        deliver = None if args.no_build else send_after_build(settings, demo_home, period, args.client, demo=True)  # the outbox
        return run_with_client(args, client, demo_home, period, settings, report_settings, deliver=deliver,
                               sources=[*(step for step in source_steps(settings) if step.name not in names), *demo_steps])
    finally:
        simulator.stop()
        graph_simulator.stop()
        s1_simulator.stop()


def run_with_client(args: argparse.Namespace, client: FreshserviceClient, home: Path, period: Period, settings: Settings,
                    report_settings: ReportSettings, sources: list[SourceStep] | None = None,
                    deliver: Callable[[], bool] | None = None) -> int:
    started = time.monotonic()
    ensure_writable_dir(home)
    with run_log_file(home) as log_path:
        lock = RunLock(home)
        lock.acquire()
        try:
            if args.backfill:
                return run_backfill(args, client, home, period, args.backfill, report_settings)
            if args.demo:  # the demo's first report shows a full trend and month-over-month changes
                run_backfill(args, client, home, period, TREND_MONTHS - 1, report_settings)
                client.counters = UsageCounters()  # the backfill printed its own cost; the month's summary is the month's
            summary, index_path = run_batch(client, home, period, args.client, args.refresh_clients, not args.no_build,
                                            args.workers, sources=source_steps(settings) if sources is None else sources, after_report=report_steps(settings),
                                            report_settings=report_settings)
        finally:
            lock.release()
        delivered = deliver() if deliver is not None else True  # --send: email the reports (utils/delivery/outbound.py)
        report_summary(summary, index_path, client, period, started)
        if log_path:
            log.debug("log file: %s", log_path)
    return EXIT_FAILURE if summary.failed or summary.with_failed_steps or not delivered else EXIT_OK


def run_backfill(args: argparse.Namespace, client: FreshserviceClient, home: Path, period: Period, months: int,
                 report_settings: ReportSettings) -> int:
    """Fill the history with the months before `period`; prints what it stored and the credits spent."""
    summary = backfill(client, home, period, months, args.client, refresh=args.refresh_history,
                       refresh_clients=args.refresh_clients, workers=args.workers, metrics_settings=report_settings.metrics)
    print(summary.line())
    return EXIT_FAILURE if summary.failed else EXIT_OK


def report_summary(summary: RunSummary, index_path: Path | None, client: FreshserviceClient, period: Period, started: float) -> None:
    """The run's closing lines: counts and cost in the log, the index and an example report on stdout."""
    done = [o for o in summary.outcomes if not o.error]
    usage = client.counters.as_dict()
    tickets = sum(o.tickets for o in done)
    log.info("%s: %d clients done, %d failed; %d tickets, %d credits (%.2f a ticket) in %d requests, %d rate-limit waits, %.1f s",
             period.label, len(done), len(summary.failed), tickets, usage["credits"], usage["credits"] / tickets if tickets else 0,
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
    parser.add_argument("--month", help="the month, YYYY-MM (default: the previous full month)")
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
