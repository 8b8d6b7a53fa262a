"""Issue 19: a period is pulled as one window, and its figures are computed from all of its tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulators.freshservice_data import Account
from simulators.graph import GraphSimulator, GraphTenant
from simulators.sentinelone import SentinelOneData, SentinelOneOptions, SentinelOneSimulator
from tests.helpers.reports import raw_file, ticket
from tests.helpers.running import SIM_KEY
from utils.core.period import parse_period
from utils.reporting.metrics import compute_metrics
from utils.reporting.ms365_metrics import compute
from utils.services.freshservice_client import FreshserviceClient, freshservice_policy
from utils.services.freshservice_pull import AccountContext, pull_client_month
from utils.services.graph_client import GraphClient
from utils.services.ms365_pull import pull_client_month as pull_ms365
from utils.services.sentinelone_client import SentinelOneClient
from utils.services.sentinelone_pull import pull_client_month as pull_sentinelone

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOUR = 3600


def pull(simulator, client_id, period) -> dict:
    client = FreshserviceClient(simulator.url, SIM_KEY, policy=freshservice_policy(60.0, backoff_base=0.01))
    return pull_client_month(AccountContext(client), str(client_id), period, now=NOW)


@pytest.fixture
def busy_quarter():
    """Tickets before, across and after Q3 2026 for one client, and some of another client's."""
    account = Account(now=NOW)
    ours, theirs = account.add_department("Ours Ltd")["id"], account.add_department("Theirs Inc")["id"]
    agent = account.add_agent("Sam", "Agent")["id"]
    requester = account.add_requester("Rita", "Requester", email="rita@ours.example")["id"]
    cases = [  # (created, resolved or None)
        ("2026-05-20T10:00:00Z", "2026-08-03T10:00:00Z"),  # open through July, resolved in August
        ("2026-06-29T10:00:00Z", None),  # open all quarter
        ("2026-06-10T10:00:00Z", "2026-06-12T10:00:00Z"),  # before the quarter, in no set
        ("2026-07-01T00:30:00Z", "2026-07-01T05:00:00Z"),
        ("2026-07-30T22:00:00Z", "2026-08-02T09:00:00Z"),  # crosses a month end: in two monthly sets, once in the quarter's
        ("2026-08-15T10:00:00Z", None),
        ("2026-09-01T08:00:00Z", "2026-09-30T23:30:00Z"),
        ("2026-09-30T23:59:00Z", "2026-10-02T10:00:00Z"),
        ("2026-10-03T10:00:00Z", None),  # after the quarter
    ]
    for created, resolved in cases:
        extra = {"resolved_at": resolved} if resolved else {}
        account.add_ticket(ours, created, requester_id=requester, responder_id=agent, **extra)
        account.add_ticket(theirs, created, requester_id=requester, responder_id=agent, **extra)
    return account, ours


def test_a_quarter_pull_holds_the_union_of_its_three_months_once_each(start_simulator, busy_quarter):
    account, ours = busy_quarter
    simulator = start_simulator(account)
    quarter = pull(simulator, ours, parse_period("UTC", quarter="2026-Q3", now=NOW))
    months = [pull(simulator, ours, parse_period("UTC", month=month, now=NOW)) for month in ("2026-07", "2026-08", "2026-09")]
    quarter_ids = [item["id"] for item in quarter["tickets"]]
    month_ids = [{item["id"] for item in document["tickets"]} for document in months]
    assert len(quarter_ids) == len(set(quarter_ids))  # no duplicate
    assert set(quarter_ids) == set().union(*month_ids)
    assert sum(len(ids) for ids in month_ids) > len(quarter_ids)  # the monthly pulls fetch the month-crossing tickets twice
    assert {item["department_id"] for item in quarter["tickets"]} == {ours}
    assert quarter["period"]["kind"] == "quarter" and quarter["period"]["label"] == "Q3 2026"
    # One window: a quarter costs fewer credits than its three months, and no more per ticket.
    monthly_credits = sum(document["api_usage"]["credits"] for document in months)
    assert quarter["api_usage"]["credits"] < monthly_credits
    assert quarter["api_usage"]["credits"] / len(quarter_ids) <= monthly_credits / sum(len(ids) for ids in month_ids)


def _resolved(ticket_id: int, created: str, hours: int) -> dict:
    resolved = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp() + hours * HOUR
    stamp = datetime.fromtimestamp(resolved, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ticket(ticket_id, created, status=4, stats={"resolved_at": stamp, "first_responded_at": created})


def test_a_quarter_median_comes_from_all_its_tickets_never_from_the_monthly_medians():
    july = [_resolved(1, "2026-07-06T14:00:00Z", 1), _resolved(2, "2026-07-07T14:00:00Z", 1), _resolved(3, "2026-07-08T14:00:00Z", 1)]
    august = [_resolved(4, "2026-08-04T14:00:00Z", 10)]
    september = [_resolved(5, "2026-09-08T14:00:00Z", 20)]
    monthly_medians = []
    for month, tickets in (("2026-07", july), ("2026-08", august), ("2026-09", september)):
        period = parse_period("America/New_York", month=month, now=NOW).as_dict()
        monthly_medians.append(compute_metrics(raw_file(tickets, period=period))["resolution"]["median_s"])
    assert monthly_medians == [1 * HOUR, 10 * HOUR, 20 * HOUR]
    quarter = parse_period("America/New_York", quarter="2026-Q3", now=NOW).as_dict()
    metrics = compute_metrics(raw_file(july + august + september, period=quarter))
    assert metrics["resolution"]["median_s"] == 1 * HOUR  # the median of the five durations
    assert sorted(monthly_medians)[1] == 10 * HOUR != metrics["resolution"]["median_s"]  # not the median of medians
    assert metrics["volume"]["created"] == 5 and metrics["volume"]["resolved"] == 5
    assert metrics["period"]["kind"] == "quarter" and metrics["previous"] is None


# ---- Microsoft 365 and SentinelOne read the whole quarter


def test_microsoft_365_reads_the_quarters_daily_secure_scores(serve):
    tenant_id, app_id, secret = "6c3d1e2f-0000-4000-8000-00000000abcd", "0f0e0d0c-0b0a-4909-8807-060504030201", "graph-secret~1"
    tenant = GraphTenant(tenant_id, "contoso.onmicrosoft.com")
    first = datetime(2026, 6, 1, tzinfo=UTC)
    days = [(first + timedelta(days=offset)).strftime("%Y-%m-%d") for offset in range(150)]  # June to October
    tenant.secure_scores = [{"id": f"{tenant_id}_{day}", "createdDateTime": f"{day}T00:00:00Z", "currentScore": 30.0 + index,
                             "maxScore": 200.0, "averageComparativeScores": [], "controlScores": []}
                            for index, day in enumerate(days)][::-1]
    simulator = serve(GraphSimulator([tenant], app_id=app_id, client_secret=secret))
    graph = GraphClient(simulator.url, secret, app_id=app_id, login_url=simulator.url)
    quarter = parse_period("UTC", quarter="2026-Q3", now=NOW)
    raw = pull_ms365(graph, "7", "contoso.onmicrosoft.com", quarter)
    dates = sorted(item["createdDateTime"][:10] for item in raw["secure_scores"])
    assert dates[0] == "2026-06-30" and dates[1] == "2026-07-01" and dates[-1] == "2026-09-30" and len(dates) == 93  # 92 days + the eve
    score = compute(raw)["secure_score"]
    assert len(score["daily"]) == 92 and score["start"] is not None and score["end"] is not None


def test_sentinelone_reads_the_quarters_threats(serve):
    data = SentinelOneData(now=NOW)
    site = data.add_site("Acme Dental", active_licenses=5, total_licenses=10)
    laptop = data.add_agent(site, "ACME-LT-001")
    for moment in ("2026-06-30T23:59:59", "2026-07-01T00:00:00", "2026-08-15T12:00:00", "2026-09-30T23:59:59", "2026-10-01T00:00:00"):
        data.add_threat(laptop, datetime.fromisoformat(moment).replace(tzinfo=UTC), name=f"t-{moment}")
    simulator = serve(SentinelOneSimulator(data, SentinelOneOptions(api_token="s1-token-abc123")))
    client = SentinelOneClient(simulator.url, "s1-token-abc123", sleep=lambda seconds: None)
    raw = pull_sentinelone(client, "7", site["id"], parse_period("UTC", quarter="2026-Q3", now=NOW))
    names = sorted(item["threatInfo"]["threatName"] for item in raw["threats"])
    assert names == ["t-2026-07-01T00:00:00", "t-2026-08-15T12:00:00", "t-2026-09-30T23:59:59"]
    assert raw["period"]["kind"] == "quarter"
