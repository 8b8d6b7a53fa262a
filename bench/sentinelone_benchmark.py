"""Requests per site for the SentinelOne puller, against the simulator on 127.0.0.1.

    python bench/sentinelone_benchmark.py [--latency 0.05]

Pulls sites of several sizes (endpoints and threats created in the month), each once with the
simulator's default behaviour and once with every quirk on (an empty page before the last,
`totalItems` 0 with a cursor, string booleans), with --latency seconds added to every answer.
Target: at most 5 requests for a site under 1,000 endpoints and 1,000 threats.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulators.sentinelone import SentinelOneData, SentinelOneOptions, SentinelOneSimulator  # noqa: E402
from utils.core.period import report_period  # noqa: E402
from utils.services.sentinelone_client import SentinelOneClient  # noqa: E402
from utils.services.sentinelone_pull import pull_client_month  # noqa: E402

TOKEN = "bench-s1-token-9d8c7b"
SIZES = ((41, 7), (999, 999), (2500, 1500), (5000, 3200))  # (endpoints, threats created in the month)
TARGET = 5


def build(agents: int, threats: int, now: datetime) -> tuple[SentinelOneData, str]:
    period = report_period("2026-10", "America/New_York", now=now)
    data = SentinelOneData(now=now)
    data.add_site("Noise Ltd", total_licenses=10)  # another client's site: never read
    site = data.add_site("Bench Co", total_licenses=agents + 50)
    endpoints = [data.add_agent(site, f"BENCH-{index:05d}") for index in range(agents)]
    step = (period.end - period.start) / max(threats, 1)
    for index in range(threats):
        data.add_threat(endpoints[index % agents], period.start.astimezone(UTC) + step * index,
                        incident="unresolved" if index % 100 == 0 else "resolved")
    data.add_threat(endpoints[0], period.start.astimezone(UTC) - timedelta(days=90), incident="in_progress")  # old, still open
    return data, site["id"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every answer (default 0.05)")
    args = parser.parse_args()
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    period = report_period("2026-10", "America/New_York", now=now)
    print(f"SentinelOne puller, {period.label}, {args.latency * 1000:.0f} ms latency per request")
    print(f"{'endpoints':>9} {'threats':>8} {'quirks':>7} {'requests':>9} {'seconds':>8}")
    worst_small = 0
    for agents, threats in SIZES:
        data, site_id = build(agents, threats, now)
        for quirks in (False, True):
            options = SentinelOneOptions(api_token=TOKEN, empty_page_before_end=quirks, zero_total_with_cursor=quirks,
                                         string_booleans=quirks)
            with SentinelOneSimulator(data, options) as simulator:
                simulator.latency_seconds = args.latency
                client = SentinelOneClient(simulator.url, TOKEN)
                began = time.perf_counter()
                raw = pull_client_month(client, "1", site_id, period)
                seconds = time.perf_counter() - began
            assert len(raw["agents"]) == agents and len(raw["threats"]) == threats
            if agents < 1000 and threats < 1000 and not quirks:
                worst_small = max(worst_small, raw["requests"])
            print(f"{agents:>9,} {threats:>8,} {'on' if quirks else 'off':>7} {raw['requests']:>9} {seconds:>8.2f}")
    verdict = "met" if worst_small <= TARGET else "MISSED"
    print(f"Target: at most {TARGET} requests for a site under 1,000 endpoints and 1,000 threats: {worst_small} ({verdict})")
    return 0 if worst_small <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
