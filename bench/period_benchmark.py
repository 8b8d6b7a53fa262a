"""What pulling a quarter costs against its three months, in credits per ticket, on the simulator's demo account.

    python bench/period_benchmark.py

Every demo client's previous full quarter is pulled once as one window (one ticket discovery, one sweep),
then as its three months one by one, each against a fresh simulator on 127.0.0.1 with no rate limit.
Target (issue 19): the quarter costs no more credits per ticket than the three monthly pulls, and in total
fewer credits than they do; its ticket set is the union of the months' sets, each ticket once.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulators.demo_freshservice import build_demo_account  # noqa: E402
from simulators.freshservice import Simulator, SimulatorSettings  # noqa: E402
from utils.core.period import Period, parse_period  # noqa: E402
from utils.services.freshservice_client import FreshserviceClient  # noqa: E402
from utils.services.freshservice_pull import AccountContext, pull_client_month  # noqa: E402

KEY = "bench-key-123456"


def pull(account, client_id: int, period: Period) -> tuple[set[int], int, int]:
    """One client's period against a fresh simulator: (ticket ids, tickets in the file, credits)."""
    with Simulator(account=account, settings=SimulatorSettings(api_key=KEY)) as simulator:
        client = FreshserviceClient(simulator.url, KEY)
        document = pull_client_month(AccountContext(client), str(client_id), period, now=account.now)
        return {ticket["id"] for ticket in document["tickets"]}, len(document["tickets"]), simulator.counters()["credits"]


def main() -> int:
    account = build_demo_account(now=datetime.now(UTC))
    quarter = parse_period("UTC", quarter="previous", now=account.now)
    months = [parse_period("UTC", month=month, now=account.now) for month in quarter.months]
    print(f"Demo account, {quarter.label} against {', '.join(month.label for month in months)} (UTC)\n")
    print(f"   {'client':<32} {'quarter':>22} {'three months':>26}")
    totals = {"quarter_tickets": 0, "quarter_credits": 0, "month_tickets": 0, "month_credits": 0}
    all_ok = True
    started = time.monotonic()
    for client_id, department in account.departments.items():
        quarter_ids, quarter_count, quarter_credits = pull(account, client_id, quarter)
        monthly = [pull(account, client_id, month) for month in months]
        month_count, month_credits = sum(item[1] for item in monthly), sum(item[2] for item in monthly)
        same_set = quarter_ids == set().union(*(item[0] for item in monthly)) and quarter_count == len(quarter_ids)
        all_ok = all_ok and same_set
        totals["quarter_tickets"] += quarter_count
        totals["quarter_credits"] += quarter_credits
        totals["month_tickets"] += month_count
        totals["month_credits"] += month_credits
        print(f"   {department['name']:<32} {quarter_count:>5} tickets {quarter_credits:>6} cr "
              f"{month_count:>7} tickets {month_credits:>6} cr  {'same tickets' if same_set else 'DIFFERENT TICKETS'}")
    quarter_rate = totals["quarter_credits"] / max(totals["quarter_tickets"], 1)
    month_rate = totals["month_credits"] / max(totals["month_tickets"], 1)
    ok = all_ok and quarter_rate <= month_rate and totals["quarter_credits"] < totals["month_credits"]
    print(f"\n   quarter: {totals['quarter_credits']} credits, {quarter_rate:.2f} a ticket; three months: "
          f"{totals['month_credits']} credits, {month_rate:.2f} a ticket ({time.monotonic() - started:.1f} s)")
    print(f"   target: no more a ticket and fewer in all, the same tickets: {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
