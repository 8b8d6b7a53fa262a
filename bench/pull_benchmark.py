"""What pulling one client's month costs, in credits and time, on the simulator's demo account.

    python bench/pull_benchmark.py [--latency 0.1] [--budget 200] [--window 5] [--part 1|2|3]

Three measurements, each against a fresh simulator on 127.0.0.1:
1. credits: every demo client pulled on its own (no rate limit), credits per ticket each and overall;
   target at most 3 on average;
2. rate limit: the largest client under a budget of --budget credits per --window seconds (Growth's
   200 a minute, scaled twelve times faster by default); target: within 1.25 times the least possible time
   (credits / budget * window), no failed request, at most one 429 per window;
3. latency: the second-largest client with --latency seconds added to every response and no rate
   limit, default workers against one request at a time; target: at least 4 times faster.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulators.demo_freshservice import build_demo_account  # noqa: E402
from simulators.freshservice import Simulator, SimulatorSettings  # noqa: E402
from utils.core.period import report_period  # noqa: E402
from utils.services.freshservice_client import FreshserviceClient  # noqa: E402
from utils.services.freshservice_pull import DEFAULT_WORKERS, AccountContext, pull_client_month  # noqa: E402

KEY = "bench-key-123456"


def pull(account, client_id: int, period, workers: int = DEFAULT_WORKERS, **settings) -> tuple[dict, dict, float]:
    """Pull one client against a fresh simulator; (document, simulator counters, seconds)."""
    window = settings.get("rate_window_seconds", 60.0)
    with Simulator(account=account, settings=SimulatorSettings(api_key=KEY, **settings)) as simulator:
        client = FreshserviceClient(simulator.url, KEY, rate_window_seconds=window)
        started = time.monotonic()
        document = pull_client_month(AccountContext(client), str(client_id), period, workers=workers, now=account.now)
        return document, simulator.counters(), time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--part", type=int, choices=(1, 2, 3), action="append", help="run only this measurement (repeatable)")
    args = parser.parse_args()

    account = build_demo_account(now=datetime.now(UTC))
    period = report_period(None, "UTC", account.now)
    print(f"Demo account, {period.label} (UTC), {len(account.departments)} clients\n")

    parts = set(args.part or (1, 2, 3))
    sizes = sorted(((sum(1 for t in account.tickets.values() if t["department_id"] == d), d) for d in account.departments), reverse=True)
    largest, second = sizes[0][1], sizes[1][1]
    if 1 in parts:
        measure_credits(account, period)
    if 2 in parts:
        measure_rate_limit(account, period, largest, args.budget, args.window)
    if 3 in parts:
        measure_latency(account, period, second, args.latency)
    return 0


def measure_credits(account, period) -> None:
    print("1. Credits, each client pulled on its own")
    credits_total = tickets_total = 0
    for client_id, department in account.departments.items():
        document, counters, seconds = pull(account, client_id, period)
        tickets, credits = len(document["tickets"]), counters["credits"]
        credits_total += credits
        tickets_total += tickets
        per_ticket = f"{credits / tickets:.2f}" if tickets else "-"
        print(f"   {department['name']:<32} {tickets:>4} tickets {credits:>5} credits {per_ticket:>6} a ticket"
              f" {counters['requests']:>5} requests {seconds:5.1f} s")
    average = credits_total / tickets_total
    print(f"   all clients: {tickets_total} tickets, {credits_total} credits, {average:.2f} a ticket (target <= 3): "
          f"{'ok' if average <= 3 else 'MISSED'}\n")


def measure_rate_limit(account, period, client_id: int, budget: int, window: float) -> None:
    print(f"2. Rate limit: {account.departments[client_id]['name']} under {budget} credits per {window:g} s"
          f" (list and view sub-limits {round(budget * 0.35)} and {round(budget * 0.4)}, as Growth's 70 and 80 of 200)")
    document, counters, seconds = pull(account, client_id, period, rate_limit_total=budget, rate_window_seconds=window,
                                       list_tickets_sublimit=round(budget * 0.35), view_ticket_sublimit=round(budget * 0.4))
    least = counters["credits"] / budget * window
    windows = math.ceil(seconds / window)
    failed = {code: n for code, n in counters["status"].items() if code >= 400 and code not in (404, 429)}
    ratio = seconds / least
    print(f"   {len(document['tickets'])} tickets, {counters['credits']} credits, {counters['requests']} requests, "
          f"{seconds:.1f} s; least possible {least:.1f} s; ratio {ratio:.2f} (target <= 1.25)")
    print(f"   429s: {counters['rate_limited']} in {windows} windows (target <= 1 a window); failed requests: {failed or 'none'}: "
          f"{'ok' if ratio <= 1.25 and counters['rate_limited'] <= windows and not failed else 'MISSED'}\n")


def measure_latency(account, period, client_id: int, latency: float) -> None:
    print(f"3. Latency {latency * 1000:.0f} ms: {account.departments[client_id]['name']}")
    _document, counters, parallel = pull(account, client_id, period, latency_seconds=latency)
    print(f"   workers {DEFAULT_WORKERS}: {counters['requests']} requests in {parallel:.1f} s")
    _document, counters, sequential = pull(account, client_id, period, workers=1, latency_seconds=latency)
    speedup = sequential / parallel
    print(f"   one request at a time (--workers 1): {counters['requests']} requests in {sequential:.1f} s; "
          f"{speedup:.1f} times faster (target >= 4): {'ok' if speedup >= 4 else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
