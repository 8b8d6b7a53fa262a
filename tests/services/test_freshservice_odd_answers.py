"""Freshservice answers a real account may give that the happy path does not expect (issue 16, items 2, 3, 5):
department_id refused in a ticket filter, include=tags refused on the ticket list, and surveys that
leave no feedback conversation. Each is a simulator switch, off by default."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import requests

from simulators.freshservice_data import Account
from tests.helpers.batch import pull_info_runner, small_account
from tests.helpers.running import SIM_KEY
from utils.core.period import report_period
from utils.reporting.metrics import compute_report_data
from utils.services.freshservice_client import FreshserviceClient, freshservice_policy
from utils.services.freshservice_pull import CSAT_PROBES, AccountContext, pull_client_month

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OCTOBER = report_period("2026-10", "UTC", NOW)
REFUSED_WARNING = "refuses department_id in ticket filters"


def pull(simulator, client_id, context: AccountContext | None = None) -> dict:
    context = context or AccountContext(FreshserviceClient(simulator.url, SIM_KEY, policy=freshservice_policy(backoff_base=0.01)))
    return pull_client_month(context, str(client_id), OCTOBER, now=NOW)


def ids(document: dict) -> set[int]:
    return {ticket["id"] for ticket in document["tickets"]}


def varied_month(account: Account, department: int, other: int) -> None:
    """Tickets that reach the month in every way, some months of trend, and another client's tickets."""
    account.add_ticket(department, "2026-10-05T10:00:00Z", subject="created in October")
    account.add_ticket(department, "2026-09-20T10:00:00Z", subject="resolved in October", stats={"resolved_at": "2026-10-03T10:00:00Z"})
    account.add_ticket(department, "2026-05-01T10:00:00Z", subject="open since May", status=2, updated_at="2026-05-02T10:00:00Z")
    account.add_ticket(department, "2026-06-01T10:00:00Z", subject="waiting on customer", status=6, updated_at="2026-06-02T10:00:00Z")
    for month, count in ((5, 1), (7, 3), (8, 2), (9, 4)):
        for n in range(count):
            account.add_ticket(department, f"2026-{month:02d}-{n + 3:02d}T10:00:00Z", subject=f"trend {month}/{n}",
                               stats={"resolved_at": f"2026-{month:02d}-{n + 3:02d}T12:00:00Z"})
    account.add_ticket(other, "2026-10-06T10:00:00Z", subject="another client's ticket")
    account.add_ticket(other, "2026-08-06T10:00:00Z", subject="another client's trend")


@pytest.fixture
def two_clients() -> tuple[Account, int, int]:
    account = Account(now=NOW)
    ours = account.add_department("Ours Ltd")["id"]
    theirs = account.add_department("Theirs Inc")["id"]
    return account, ours, theirs


# -- item 2: department_id refused in a ticket filter ---------------------------------------------

def test_a_refused_department_filter_still_gets_the_whole_month(start_simulator, two_clients, caplog):
    account, ours, theirs = two_clients
    varied_month(account, ours, theirs)
    reference = pull(start_simulator(account), ours)
    refusing = start_simulator(account, refuse_department_filter=True)
    with caplog.at_level(logging.WARNING):
        document = pull(refusing, ours)
    assert ids(document) == ids(reference) and len(ids(document)) == 4  # the same month, from the account-wide lists
    assert document["trend"] == reference["trend"]
    assert [entry["created"] for entry in document["trend"]] == [2, 1, 3, 2, 5, 1]
    counters = refusing.counters()
    assert counters["status"].get(400) == 1  # asked once, then never again
    assert counters["by_endpoint"]["tickets.list"]["requests"] >= 1
    assert sum(REFUSED_WARNING in r.getMessage() for r in caplog.records) == 1


def test_the_simulator_refuses_department_id_with_the_invalid_field_body(start_simulator, two_clients):
    account, ours, _ = two_clients
    simulator = start_simulator(account, refuse_department_filter=True)
    response = requests.get(f"{simulator.url}/api/v2/tickets/filter", params={"query": f'"department_id:{ours}"'},
                            auth=(SIM_KEY, "X"), timeout=10)
    assert response.status_code == 400
    assert response.json() == {"description": "Validation failed",
                               "errors": [{"field": "department_id", "message": "[:invalid_field]", "code": "invalid_value"}]}
    assert FreshserviceClient(simulator.url, SIM_KEY).filter_total("status:2") == 0  # other fields still work


def test_a_batch_with_a_refused_department_filter_gets_every_month_with_one_warning(start_simulator, home, monkeypatch, capsys):
    account, client_ids = small_account()
    varied_month(account, client_ids[1], client_ids[2])
    simulator = start_simulator(account, refuse_department_filter=True)
    run = pull_info_runner(monkeypatch, capsys)

    def raw_files() -> dict[int, dict]:
        return {client_id: json.loads((home / "raw_data" / f"freshservice_{client_id}.json").read_text()) for client_id in client_ids}

    refused = run(simulator)
    assert refused.returncode == 0, refused.stderr
    assert refused.stderr.count(REFUSED_WARNING) == 1
    refused_files = raw_files()
    simulator.switch(refuse_department_filter=False)
    reference = run(simulator)
    assert reference.returncode == 0, reference.stderr
    assert REFUSED_WARNING not in reference.stderr
    for client_id, document in raw_files().items():
        assert ids(refused_files[client_id]) == ids(document), client_id
        assert refused_files[client_id]["trend"] == document["trend"], client_id
    assert [len(refused_files[client_id]["tickets"]) for client_id in client_ids] == [5, 7, 2]


# -- item 3: include=tags refused on the ticket list -----------------------------------------------

def test_refused_list_tags_leave_swept_tickets_untagged_with_a_warning(start_simulator, two_clients):
    account, ours, _ = two_clients
    swept = [account.add_ticket(ours, f"2026-10-0{n + 2}T10:00:00Z", subject=f"swept {n}", tags=["proactive"]) for n in range(3)]
    # Open since May and untouched since: found by the open-tickets filter, not the sweep, so viewed with its tags.
    viewed = account.add_ticket(ours, "2026-05-01T10:00:00Z", subject="open since May", status=2,
                                updated_at="2026-05-02T10:00:00Z", tags=["maintenance"])
    simulator = start_simulator(account, refuse_list_tags=True)
    document = pull(simulator, ours)
    by_id = {ticket["id"]: ticket for ticket in document["tickets"]}
    assert set(by_id) == {ticket["id"] for ticket in [*swept, viewed]}
    assert simulator.counters()["by_endpoint"]["tickets.list"]["requests"] >= 2  # refused once, then asked without tags
    assert all(by_id[ticket["id"]]["tags"] is None for ticket in swept)  # unknown, not "no tags"
    assert all(by_id[ticket["id"]]["stats"] is not None for ticket in swept)
    assert by_id[viewed["id"]]["tags"] == ["maintenance"]
    assert any("tags of 3 tickets are not available" in warning and "include=tags" in warning for warning in document["warnings"])
    assert compute_report_data(document).metrics["volume"]["created"] == 3  # the file still builds a report


def test_the_simulator_refuses_include_tags_on_the_list_only(start_simulator, two_clients):
    account, ours, _ = two_clients
    ticket = account.add_ticket(ours, "2026-10-02T10:00:00Z", tags=["proactive"])
    simulator = start_simulator(account, refuse_list_tags=True)
    session = requests.Session()
    session.auth = (SIM_KEY, "X")
    refused = session.get(f"{simulator.url}/api/v2/tickets", params={"include": "stats,tags", "updated_since": "2026-09-01"}, timeout=10)
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "include"
    assert session.get(f"{simulator.url}/api/v2/tickets", params={"include": "stats", "updated_since": "2026-09-01"}, timeout=10).status_code == 200
    viewed = session.get(f"{simulator.url}/api/v2/tickets/{ticket['id']}", params={"include": "tags"}, timeout=10)
    assert viewed.json()["ticket"]["tags"] == ["proactive"]


# -- item 5: surveys without feedback conversations --------------------------------------------------

def resolved_tickets(account: Account, department: int, count: int, first_day: int = 2) -> list[dict]:
    """`count` tickets resolved in October, one a day, earliest first."""
    start = datetime(2026, 10, first_day, 10, tzinfo=UTC)
    return [account.add_ticket(department, start + timedelta(days=n), subject=f"resolved {n}",
                               stats={"resolved_at": (start + timedelta(days=n, hours=2)).isoformat()}) for n in range(count)]


def test_surveys_without_feedback_conversations_are_found_by_a_probe(start_simulator, two_clients):
    account, ours, _ = two_clients
    resolved = resolved_tickets(account, ours, 6)
    account.add_ticket(ours, "2026-10-20T10:00:00Z", subject="still open")  # never asked: no survey before resolution
    account.set_csat(resolved[0]["id"], created_at="2026-10-03T09:00:00Z", overall_rating=101)
    account.set_csat(resolved[-1]["id"], created_at="2026-10-09T09:00:00Z", overall_rating=103)
    hinted = pull(start_simulator(account), ours)
    simulator = start_simulator(account, csat_without_feedback=True)
    document = pull(simulator, ours)
    assert not any(c["source"] == 5 for ticket in document["tickets"] for c in ticket["conversations"])
    by_id = {ticket["id"]: ticket for ticket in document["tickets"]}
    assert by_id[resolved[0]["id"]]["csat"]["overall_rating"] == 101
    assert by_id[resolved[-1]["id"]]["csat"]["overall_rating"] == 103
    assert {t["id"]: t["csat"] for t in document["tickets"]} == {t["id"]: t["csat"] for t in hinted["tickets"]}
    # The first probe answered, so every other resolved ticket was asked once; the open one never.
    assert document["api_usage"]["csat_probes"] == 1
    assert document["api_usage"]["csat_requests"] == 6 == simulator.counters()["by_endpoint"]["tickets.csat_response"]["requests"]
    assert hinted["api_usage"]["csat_probes"] == 0 and hinted["api_usage"]["csat_requests"] == 2  # the hint is enough


def test_a_month_without_surveys_costs_at_most_a_few_probes(start_simulator, two_clients):
    account, ours, _ = two_clients
    resolved_tickets(account, ours, 8)
    simulator = start_simulator(account, csat_without_feedback=True)
    document = pull(simulator, ours)
    assert all(ticket["csat"] is None for ticket in document["tickets"])
    assert document["api_usage"]["csat_probes"] == document["api_usage"]["csat_requests"] == CSAT_PROBES
    assert simulator.counters()["by_endpoint"]["tickets.csat_response"]["requests"] == CSAT_PROBES


def test_once_surveys_are_known_to_leave_no_hint_later_clients_skip_the_probes(start_simulator, two_clients):
    account, ours, theirs = two_clients
    first = resolved_tickets(account, ours, 2)
    later = resolved_tickets(account, theirs, 4, first_day=10)
    account.set_csat(first[0]["id"], created_at="2026-10-04T09:00:00Z")
    account.set_csat(later[-1]["id"], created_at="2026-10-20T09:00:00Z", overall_rating=102)
    simulator = start_simulator(account, csat_without_feedback=True)
    context = AccountContext(FreshserviceClient(simulator.url, SIM_KEY, policy=freshservice_policy(backoff_base=0.01)))
    pull(simulator, ours, context)
    document = pull(simulator, theirs, context)  # one context, as in a batch
    assert {t["id"]: (t["csat"] or {}).get("overall_rating") for t in document["tickets"]} == {
        **{t["id"]: None for t in later[:-1]}, later[-1]["id"]: 102}
    # The raw file counts its own pull (every ticket asked, no probe); the run's counters hold both clients'.
    assert document["api_usage"]["csat_probes"] == 0 and document["api_usage"]["csat_requests"] == 4
    assert context.client.counters.csat_probes == 1  # the first client's only
    assert context.client.counters.csat_requests == 2 + 4
