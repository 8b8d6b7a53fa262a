"""The whole monthly batch on the demo account under a Growth-plan budget scaled to seconds.

    python bench/batch_benchmark.py [--latency 0.05] [--budget 200] [--window 5]

Runs pull_info's batch (every client, reports built) against a simulator on 127.0.0.1 with
--latency seconds added to every response and a budget of --budget credits per --window seconds
(Growth's 200 a minute, twelve times faster by default, with its list and view sub-limits scaled
alike). Then pulls each client on its own, unlimited, to compare credits per ticket.
Targets: the batch costs no more credits a ticket than single-client pulls, and finishes in
under 60 s.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulators.demo_freshservice import build_demo_account  # noqa: E402
from simulators.freshservice import Simulator, SimulatorSettings  # noqa: E402
from utils.core.period import report_period  # noqa: E402
from utils.core.settings import Settings  # noqa: E402
from utils.monthly.batch import run_batch  # noqa: E402
from utils.monthly.state import MonthlyRun  # noqa: E402
from utils.services.freshservice_client import FreshserviceClient  # noqa: E402
from utils.services.freshservice_pull import AccountContext, pull_client_month  # noqa: E402
from utils.sources.freshservice import FRESHSERVICE  # noqa: E402
from utils.sources.source import Connected  # noqa: E402

KEY = "bench-key-123456"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--window", type=float, default=5.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    account = build_demo_account(now=datetime.now(UTC))
    period = report_period(None, "UTC", account.now)
    settings = SimulatorSettings(api_key=KEY, latency_seconds=args.latency, rate_limit_total=args.budget, rate_window_seconds=args.window,
                                 list_tickets_sublimit=round(args.budget * 0.35), view_ticket_sublimit=round(args.budget * 0.4))
    print(f"Batch: {len(account.departments)} demo clients, {period.label}, {args.latency * 1000:.0f} ms latency, "
          f"{args.budget} credits per {args.window:g} s")
    with Simulator(account=account, settings=settings) as simulator, tempfile.TemporaryDirectory() as home:
        client = FreshserviceClient(simulator.url, KEY, rate_window_seconds=args.window)
        started = time.monotonic()
        settings = Settings(home=Path(home), path=Path(home) / "integoreport.toml")
        run = MonthlyRun(home=Path(home), period=period, settings=settings, sources={"freshservice": Connected(FRESHSERVICE, settings, client)},
                         workers=4)
        summary, _index = run_batch(run, refresh_clients=True)
        seconds = time.monotonic() - started
        counters = simulator.counters()
    tickets = sum(outcome.tickets for outcome in summary.outcomes)
    batch_rate = counters["credits"] / tickets
    print(f"   {len(summary.outcomes) - len(summary.failed)} clients done, {len(summary.failed)} failed; {tickets} tickets, "
          f"{counters['credits']} credits ({batch_rate:.2f} a ticket), {counters['requests']} requests, "
          f"{counters['rate_limited']} 429s, {seconds:.1f} s (target < 60 s): {'ok' if seconds < 60 else 'MISSED'}")

    credits = single_tickets = 0
    with Simulator(account=account, settings=SimulatorSettings(api_key=KEY)) as simulator:
        for client_id in account.departments:
            context = AccountContext(FreshserviceClient(simulator.url, KEY))
            document = pull_client_month(context, str(client_id), period, now=account.now)
            credits += document["api_usage"]["credits"]
            single_tickets += len(document["tickets"])
    single_rate = credits / single_tickets
    print(f"   the same clients pulled one by one: {credits} credits for {single_tickets} tickets ({single_rate:.2f} a ticket); "
          f"batch {'ok' if batch_rate <= single_rate else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
