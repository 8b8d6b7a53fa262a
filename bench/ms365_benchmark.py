"""Requests per tenant for the Microsoft 365 puller, against the Graph simulator on 127.0.0.1.

    python bench/ms365_benchmark.py [--latency 0.05]

Pulls tenants of several sizes (users, with an MFA record each and 90 days of Secure Score), each
once with Entra ID P1/P2 and once without (the users call is made twice), with --latency seconds
added to every answer. Every pull counts its token request. Target: at most 8 requests for a
tenant under 120 users.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulators.demo_ms365 import DemoTenant, _build_tenant  # noqa: E402
from simulators.graph import GraphSimulator, GraphTenant  # noqa: E402
from utils.core.period import report_period  # noqa: E402
from utils.services.graph_client import GraphClient  # noqa: E402
from utils.services.ms365_pull import pull_client_month  # noqa: E402

APP_ID = "bench-app-0000-4000-8000-000000000001"
SECRET = "bench-graph-secret-7e6d"
SIZES = (5, 60, 100, 106, 500, 2500)  # enabled members; guests, admins and shared mailboxes come on top (106: 120 users)
TARGET = 8
TARGET_BELOW = 120


def build(members: int, premium: bool, now: datetime) -> GraphTenant:
    demo = DemoTenant("bench", "1", f"bench{members}.onmicrosoft.com", "bench.example", "Other", members,
                      (("SPB", 3, 0), ("FLOW_FREE", 0, 0)), premium, max(1, members // 20), False,
                      ("AdminMFAV2",), ((5, "OneAdmin"),), 50.0, 45.0, 48.0, members)
    return _build_tenant(demo, now)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every answer (default 0.05)")
    args = parser.parse_args()
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    period = report_period("2026-10", "America/New_York", now=now)
    print(f"Microsoft 365 puller, {period.label}, {args.latency * 1000:.0f} ms latency per request")
    print(f"{'users':>6} {'P1/P2':>6} {'requests':>9} {'seconds':>8}")
    worst_small = 0
    for members in SIZES:
        for premium in (True, False):
            tenant = build(members, premium, now)
            with GraphSimulator([tenant], app_id=APP_ID, client_secret=SECRET, latency_seconds=args.latency) as simulator:
                graph = GraphClient(simulator.url, SECRET, app_id=APP_ID, login_url=simulator.url)
                began = time.perf_counter()
                raw = pull_client_month(graph, "1", tenant.domain, period)
                seconds = time.perf_counter() - began
            users = len(raw["users"])
            assert users == len(tenant.users)
            if users < TARGET_BELOW:
                worst_small = max(worst_small, raw["requests"])
            print(f"{users:>6,} {'yes' if premium else 'no':>6} {raw['requests']:>9} {seconds:>8.2f}")
    verdict = "met" if worst_small <= TARGET else "MISSED"
    print(f"Target: at most {TARGET} requests for a tenant under {TARGET_BELOW} users: {worst_small} ({verdict})")
    return 0 if worst_small <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
