"""Tests of the Freshservice simulator and the demo account, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from simulators.demo_freshservice import COMPANIES, build_demo_account
from simulators.freshservice import Simulator, SimulatorSettings
from simulators.freshservice_data import STATS_KEYS, Account, format_timestamp
from tests.helpers.running import default_signals, run_in_threads

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
KEY = "test-key-123"
REPO_ROOT = Path(__file__).resolve().parents[2]


def get(sim: Simulator, path: str, key: str = KEY, **params: object) -> requests.Response:
    """GET an API path (relative to /api/v2/) with Basic auth the way the real client sends it."""
    return requests.get(f"{sim.url}/api/v2/{path}", params=params, auth=(key, "X"), timeout=10)


def filter_query(sim: Simulator, query: str, **params: object) -> requests.Response:
    return get(sim, "tickets/filter", query=f'"{query}"', **params)


@pytest.fixture
def start(start_simulator):
    """Start simulators that expect this file's key; conftest stops them after the test."""
    return lambda account, **settings: start_simulator(account, api_key=KEY, **settings)


# --------------------------------------------------------------------------- small accounts


def filter_account() -> tuple[Account, dict]:
    """65 October tickets in department A plus boundary, spam, deleted and department B tickets."""
    account = Account(NOW)
    dept_a = account.add_department("Alpha Law", domains=["alpha.example"])["id"]
    dept_b = account.add_department("Beta Dental", domains=["beta.example"])["id"]
    agent = account.add_agent("Tom", "Becker")["id"]
    req_a = account.add_requester("Ann", "Able", department_ids=[dept_a])["id"]
    req_b = account.add_requester("Bob", "Baker", department_ids=[dept_b])["id"]
    group = 21000188390
    start_at = datetime(2026, 10, 1, tzinfo=UTC)
    for index in range(65):
        account.add_ticket(dept_a, start_at + timedelta(hours=11 * index), subject=f"A{index}",
                           status=(2, 4, 5)[index % 3], priority=index % 4 + 1, requester_id=req_a,
                           responder_id=agent if index % 2 == 0 else None,
                           group_id=group if index % 5 == 0 else None,
                           tags=["proactive"] if index % 10 == 0 else [])
    boundary = {
        "before": account.add_ticket(dept_a, "2026-09-30T23:59:59Z", subject="before")["id"],
        "last_second": account.add_ticket(dept_a, "2026-10-31T23:59:59Z", subject="last second")["id"],
        "next_month": account.add_ticket(dept_a, "2026-11-01T00:00:00Z", subject="next month")["id"],
        "spam": account.add_ticket(dept_a, "2026-10-15T10:00:00Z", subject="spam", spam=True)["id"],
        "deleted": account.add_ticket(dept_a, "2026-10-16T10:00:00Z", subject="deleted", deleted=True)["id"],
    }
    for index in range(3):
        account.add_ticket(dept_b, datetime(2026, 10, 5 + index, 9, tzinfo=UTC), subject=f"B{index}",
                           priority=3, requester_id=req_b, tags=["VIP"] if index == 0 else ["printer"])
    return account, {"a": dept_a, "b": dept_b, "agent": agent, "group": group, **boundary}


@pytest.fixture(scope="module")
def filter_sim():
    account, ids = filter_account()
    with Simulator(account, SimulatorSettings(api_key=KEY)) as simulator:
        yield simulator, account, ids


def visible(account: Account) -> list[dict]:
    return [ticket for ticket in account.tickets.values() if not ticket["spam"] and not ticket["deleted"]]


def activity_account() -> tuple[Account, dict]:
    """Tickets for list/view tests: recent, old-but-updated, old, spam, deleted, a chatty one."""
    account = Account(NOW)
    dept = account.add_department("Gamma Studio", domains=["gamma.example"])["id"]
    agent = account.add_agent("Aisha", "Okafor")["id"]
    requester = account.add_requester("Cara", "Cole", department_ids=[dept], work_phone_number="+1 555 0100")
    ids = {"dept": dept, "agent": agent, "requester": requester["id"]}
    ids["recent"] = account.add_ticket(dept, NOW - timedelta(days=10), requester_id=requester["id"],
                                       responder_id=agent, tags=["vpn"])["id"]
    ids["edge"] = account.add_ticket(dept, NOW - timedelta(days=29), requester_id=requester["id"])["id"]
    ids["old_updated"] = account.add_ticket(dept, NOW - timedelta(days=31), requester_id=requester["id"],
                                            responder_id=agent)["id"]
    account.add_conversation(ids["old_updated"], incoming=True, created_at=NOW - timedelta(days=1),
                             body_text="Still broken")
    ids["old"] = account.add_ticket(dept, NOW - timedelta(days=60), resolved_at=NOW - timedelta(days=50),
                                    requester_id=requester["id"])["id"]
    ids["spam"] = account.add_ticket(dept, NOW - timedelta(days=3), spam=True)["id"]
    ids["deleted"] = account.add_ticket(dept, NOW - timedelta(days=4), deleted=True)["id"]
    chatty = account.add_ticket(dept, NOW - timedelta(days=20), requester_id=requester["id"],
                                responder_id=agent, subject="Chatty")["id"]
    for index in range(130):
        account.add_conversation(chatty, incoming=index % 2 == 1, private=index % 7 == 3,
                                 source=2 if index % 7 == 3 else 0,
                                 created_at=NOW - timedelta(days=20) + timedelta(minutes=10 * (index + 1)),
                                 body_text=f"message {index}")
    account.add_time_entry(chatty, "105:30", executed_at=NOW - timedelta(days=19))
    account.add_time_entry(chatty, "0:15", executed_at=NOW - timedelta(days=18), billable=False)
    account.set_csat(chatty, overall_rating=103, score={"acquired_score": 4, "total_score": 4},
                     comment="Great", created_at=NOW - timedelta(days=5))
    ids["chatty"] = chatty
    return account, ids


# --------------------------------------------------------------------------- auth and headers


def test_basic_auth_with_the_api_key_as_user_name(start):
    sim = start(Account(NOW))
    wrong = get(sim, "departments", key="not-the-key")
    assert wrong.status_code == 401
    assert wrong.json() == {"code": "invalid_credentials",
                            "message": "You have to be logged in to perform this action."}
    anonymous = requests.get(f"{sim.url}/api/v2/departments", timeout=5)
    assert anonymous.status_code == 401
    # The password is ignored, as on the real service.
    assert requests.get(f"{sim.url}/api/v2/departments", auth=(KEY, "anything"), timeout=5).status_code == 200
    method, path, headers = sim.last_requests[-1]
    assert (method, path) == ("GET", "/api/v2/departments")
    assert headers["Authorization"].startswith("Basic ")
    assert "python-requests" in headers["User-Agent"]


def test_every_response_carries_json_and_rate_limit_headers(start):
    account, ids = activity_account()
    sim = start(account)
    responses = [get(sim, "departments"), get(sim, "tickets/999999"), get(sim, "nope"),
                 get(sim, "tickets", per_page=500), get(sim, "departments", key="bad")]
    assert [response.status_code for response in responses] == [200, 404, 404, 400, 401]
    for response in responses:
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert response.headers["X-Freshservice-Api-Version"] == "latest=v2; requested=v2"
        assert response.headers["X-Ratelimit-Total"] == "5000"  # no limit configured: a large budget
        assert int(response.headers["X-Ratelimit-Remaining"]) <= 5000
        assert response.headers["X-Ratelimit-Used-CurrentRequest"] == "1"
        response.json()
    assert responses[3].json()["errors"][0]["field"] == "per_page"
    remaining = [int(response.headers["X-Ratelimit-Remaining"]) for response in responses]
    assert remaining == sorted(remaining, reverse=True) and remaining[0] - remaining[-1] == 4


# --------------------------------------------------------------------------- filter


def test_filter_pages_thirty_with_total_and_no_link(filter_sim):
    sim, account, ids = filter_sim
    query = f"department_id:{ids['a']} AND created_at:>'2026-10-01' AND created_at:<'2026-10-31'"
    pages = [filter_query(sim, query, page=page, per_page=100) for page in (1, 2, 3, 4)]
    assert all(page.status_code == 200 and "Link" not in page.headers for page in pages)
    # per_page is ignored; 65 October tickets plus the one at 23:59:59 on the 31st.
    assert [len(page.json()["tickets"]) for page in pages] == [30, 30, 6, 0]
    assert {page.json()["total"] for page in pages} == {66}
    subjects = [ticket["subject"] for page in pages for ticket in page.json()["tickets"]]
    assert "last second" in subjects and "before" not in subjects and "next month" not in subjects
    assert "spam" not in subjects and "deleted" not in subjects
    created = [ticket["created_at"] for page in pages for ticket in page.json()["tickets"]]
    assert created == sorted(created, reverse=True)


def test_filter_result_objects_lack_list_only_keys(filter_sim):
    sim, _, ids = filter_sim
    ticket = filter_query(sim, f"department_id:{ids['b']}").json()["tickets"][0]
    for key in ("tags", "urgency", "impact", "requested_for_id", "attachments", "stats", "sla_policy_id"):
        assert key not in ticket
    for key in ("id", "subject", "status", "priority", "department_id", "description_text", "custom_fields",
                "created_at", "updated_at", "responder_id"):
        assert key in ticket


def test_filter_dates_full_datetimes_and_inclusive_days(filter_sim):
    sim, _, ids = filter_sim
    scope = f"department_id:{ids['a']} AND "
    whole_day = filter_query(sim, scope + "created_at:>'2026-10-31' AND created_at:<'2026-10-31'").json()
    assert [ticket["subject"] for ticket in whole_day["tickets"]] == ["last second"]
    exact = filter_query(sim, scope + "created_at:>'2026-10-31T23:59:59Z' AND created_at:<'2026-11-01T00:00:00Z'")
    assert sorted(ticket["subject"] for ticket in exact.json()["tickets"]) == ["last second", "next month"]
    before_last = filter_query(sim, scope + "created_at:>'2026-10-01T00:00:00Z' AND "
                                            "created_at:<'2026-10-31T23:59:58Z'").json()
    assert before_last["total"] == 65
    updated = filter_query(sim, f"updated_at:>'2026-11-01' AND department_id:{ids['a']}").json()
    assert [ticket["subject"] for ticket in updated["tickets"]] == ["next month"]


def test_filter_and_binds_tighter_than_or_and_parentheses_group(filter_sim):
    sim, account, ids = filter_sim
    tickets = visible(account)
    loose = filter_query(sim, f"priority:1 OR priority:3 AND department_id:{ids['b']}").json()["total"]
    assert loose == sum(1 for t in tickets if t["priority"] == 1 or (t["priority"] == 3 and t["department_id"] == ids["b"]))
    grouped = filter_query(sim, f"(priority:1 OR priority:3) AND department_id:{ids['b']}").json()["total"]
    assert grouped == 3
    nested = filter_query(sim, f"((department_id:{ids['a']} AND status:2) OR (department_id:{ids['b']})) "
                               f"AND priority:>3").json()["total"]
    assert nested == sum(1 for t in tickets if t["priority"] >= 3 and (
        (t["department_id"] == ids["a"] and t["status"] == 2) or t["department_id"] == ids["b"]))
    # :< and :> are inclusive.
    assert filter_query(sim, "priority:<2 AND priority:>2").json()["total"] == sum(t["priority"] == 2 for t in tickets)
    assert filter_query(sim, "priority:<1 AND priority:>2").json()["total"] == 0


def test_filter_null_agents_groups_tags_and_spacing(filter_sim):
    sim, account, ids = filter_sim
    tickets = visible(account)
    assert filter_query(sim, "agent_id:null").json()["total"] == sum(t["responder_id"] is None for t in tickets)
    assert filter_query(sim, f"agent_id:{ids['agent']}").json()["total"] == sum(
        t["responder_id"] == ids["agent"] for t in tickets)
    assert filter_query(sim, f"group_id:{ids['group']}").json()["total"] == 13
    assert filter_query(sim, "tag:'proactive'").json()["total"] == 7
    assert filter_query(sim, "tag:'vip'").json()["total"] == 1  # tags match whole and case-insensitively
    assert filter_query(sim, "tag:'pro'").json()["total"] == 0
    spaced = filter_query(sim, f"department_id : {ids['b']} AND created_at :> '2026-10-06'").json()
    assert spaced["total"] == 2


@pytest.mark.parametrize("query, field, message_part", [
    ("time_period:<'2020-02-02'", "time_period", "[:invalid_field]"),
    ("subject:'printer'", "subject", "[:invalid_field]"),
    ("department_id:'abc'", "department_id", "Positive Integer"),
    ("priority:null", "priority", "Positive Integer"),
    ("tag:5", "tag", "String"),
    ("created_at:'2026-10-01'", "created_at", ":>"),
    ("created_at:>'2026-13-01'", "created_at", "yyyy-mm-dd"),
    ("created_at:>'01/10/2026'", "created_at", "yyyy-mm-dd"),
])
def test_filter_rejects_unknown_fields_and_wrong_types(filter_sim, query, field, message_part):
    sim, _, _ = filter_sim
    response = filter_query(sim, query)
    assert response.status_code == 400
    body = response.json()
    assert body["description"] == "Validation failed"
    assert body["errors"][0]["field"] == field
    assert body["errors"][0]["code"] == "invalid_value"
    assert message_part in body["errors"][0]["message"]


@pytest.mark.parametrize("query", ["(priority:1", "priority:1 AND", "priority:1 and status:2", "priority",
                                   "priority:1 status:2", "", "priority:'unterminated", "priority:1 # 2"])
def test_filter_rejects_broken_syntax(filter_sim, query):
    sim, _, _ = filter_sim
    response = filter_query(sim, query)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "query"


def test_filter_requires_double_quotes_and_at_most_512_characters(filter_sim):
    sim, _, _ = filter_sim
    unquoted = get(sim, "tickets/filter", query="priority:1")
    assert unquoted.status_code == 400
    assert "lexical error" in unquoted.json()["errors"][0]["message"]
    long_ok = " OR ".join(["priority:1"] * 36)  # 500 characters
    too_long = long_ok + " OR priority:2"
    assert len(long_ok) <= 512 < len(too_long)
    assert filter_query(sim, long_ok).status_code == 200
    refused = filter_query(sim, too_long)
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "query"


def test_filter_page_cap_include_and_missing_query(filter_sim):
    sim, _, _ = filter_sim
    assert filter_query(sim, "priority:1", page=10).status_code == 200
    capped = filter_query(sim, "priority:1", page=11)
    assert capped.status_code == 400 and capped.json()["errors"][0]["field"] == "page"
    include = filter_query(sim, "priority:1", include="stats")
    assert include.status_code == 400
    assert include.json()["errors"][0] == {"field": "include", "message": "Unexpected/invalid field in request",
                                           "code": "invalid_field"}
    assert get(sim, "tickets/filter").status_code == 400


def test_filter_page_cap_is_a_setting(start):
    account, _ = filter_account()
    sim = start(account, filter_page_cap=2)
    assert filter_query(sim, "priority:1", page=2).status_code == 200
    assert filter_query(sim, "priority:1", page=3).status_code == 400


# --------------------------------------------------------------------------- list tickets


def test_list_tickets_defaults_to_the_last_30_days(start):
    account, ids = activity_account()
    sim = start(account)
    listed = [ticket["id"] for ticket in get(sim, "tickets").json()["tickets"]]
    # Newest created first; spam, deleted and anything created over 30 days ago are hidden.
    assert listed == [ids["recent"], ids["chatty"], ids["edge"]]


def test_list_tickets_updated_since_accepts_dates_and_datetimes(start):
    account, ids = activity_account()
    sim = start(account)
    since_day = {t["id"] for t in get(sim, "tickets", updated_since=(NOW - timedelta(days=2)).date().isoformat())
                 .json()["tickets"]}
    assert since_day == {ids["old_updated"]}
    since_long_ago = {t["id"] for t in get(sim, "tickets", updated_since="2026-09-01T00:00:00Z").json()["tickets"]}
    assert since_long_ago == {ids["recent"], ids["edge"], ids["old_updated"], ids["old"], ids["chatty"]}
    bad = get(sim, "tickets", updated_since="yesterday")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "updated_since"


def test_list_tickets_link_paging_and_order(start):
    account = Account(NOW)
    for index in range(7):
        account.add_ticket(None, NOW - timedelta(hours=index + 1), subject=f"T{index}")
    sim = start(account)
    url, params, seen, pages = f"{sim.url}/api/v2/tickets", {"per_page": 3, "include": "tags"}, [], []
    while url:
        response = requests.get(url, params=params, auth=(KEY, "X"), timeout=5)
        pages.append(len(response.json()["tickets"]))
        seen += [ticket["subject"] for ticket in response.json()["tickets"]]
        assert all("tags" in ticket for ticket in response.json()["tickets"])
        url, params = response.links.get("next", {}).get("url"), None
        if url:
            # The next link points back at the host:port the client used and keeps the query.
            assert url.startswith(sim.url + "/api/v2/tickets?") and "include=tags" in url
    assert pages == [3, 3, 1]
    assert seen == [f"T{index}" for index in range(7)]
    ascending = get(sim, "tickets", order_type="asc", per_page=100).json()["tickets"]
    assert [ticket["subject"] for ticket in ascending] == [f"T{index}" for index in reversed(range(7))]
    assert get(sim, "tickets", per_page=101).status_code == 400
    assert get(sim, "tickets", per_page=0).status_code == 400
    assert get(sim, "tickets", page=9).json() == {"tickets": []}


def test_list_tickets_includes_cost_two_credits_each(start):
    account, ids = activity_account()
    sim = start(account)
    plain = get(sim, "tickets")
    assert plain.headers["X-Ratelimit-Used-CurrentRequest"] == "1"
    ticket = plain.json()["tickets"][0]
    assert not {"stats", "tags", "requester"} & set(ticket)
    assert "urgency" in ticket and "sla_policy_id" not in ticket
    assert get(sim, "tickets", include="stats").headers["X-Ratelimit-Used-CurrentRequest"] == "3"
    full = get(sim, "tickets", include="stats,requester,tags")
    assert full.headers["X-Ratelimit-Used-CurrentRequest"] == "7"
    recent = next(t for t in full.json()["tickets"] if t["id"] == ids["recent"])
    assert set(recent["stats"]) == set(STATS_KEYS)
    assert recent["tags"] == ["vpn"]
    assert recent["requester"] == {"id": ids["requester"], "name": "Cara Cole", "email": "cara.cole@gamma.example",
                                   "mobile": None, "phone": "+1 555 0100"}
    wrong = get(sim, "tickets", include="stats,assets")
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["field"] == "include"
    assert wrong.headers["X-Ratelimit-Used-CurrentRequest"] == "1"  # failed calls cost one credit
    assert sim.counters()["by_endpoint"]["tickets.list"]["credits"] == 1 + 3 + 7 + 1


# --------------------------------------------------------------------------- view and sub-resources


def test_view_ticket_includes_and_the_ten_conversation_cap(start):
    account, ids = activity_account()
    sim = start(account)
    plain = get(sim, f"tickets/{ids['chatty']}")
    assert plain.headers["X-Ratelimit-Used-CurrentRequest"] == "1"
    ticket = plain.json()["ticket"]
    for key in ("sla_policy_id", "created_within_business_hours", "bcc_emails", "approval_status_name",
                "resolution_notes", "urgency"):
        assert key in ticket
    assert "stats" not in ticket and "conversations" not in ticket
    embedded = get(sim, f"tickets/{ids['chatty']}", include="conversations")
    assert embedded.headers["X-Ratelimit-Used-CurrentRequest"] == "2"
    first_page = get(sim, f"tickets/{ids['chatty']}/conversations").json()["conversations"]
    assert embedded.json()["ticket"]["conversations"] == first_page[:10]
    everything = get(sim, f"tickets/{ids['chatty']}", include="stats,requester,tags,conversations")
    assert everything.headers["X-Ratelimit-Used-CurrentRequest"] == "5"
    assert everything.json()["ticket"]["requester"]["name"] == "Cara Cole"
    assert get(sim, f"tickets/{ids['chatty']}", include="assets").status_code == 400
    assert get(sim, f"tickets/{ids['deleted']}").status_code == 404
    assert get(sim, "tickets/424242").status_code == 404


def test_conversations_and_time_entries_page_by_link(start):
    account, ids = activity_account()
    sim = start(account)
    path = f"tickets/{ids['chatty']}/conversations"
    big = get(sim, path, per_page=100)
    assert len(big.json()["conversations"]) == 100
    rest = requests.get(big.links["next"]["url"], auth=(KEY, "X"), timeout=5)
    assert len(rest.json()["conversations"]) == 31 and "next" not in rest.links  # 130 + the CSAT feedback
    every = big.json()["conversations"] + rest.json()["conversations"]
    assert [c["created_at"] for c in every] == sorted(c["created_at"] for c in every)
    assert every[-1]["source"] == 5
    assert [len(get(sim, path, page=page).json()["conversations"]) for page in range(1, 7)] == [30, 30, 30, 30, 11, 0]
    assert get(sim, path, per_page=101).status_code == 400
    entries = get(sim, f"tickets/{ids['chatty']}/time_entries").json()["time_entries"]
    assert [entry["time_spent"] for entry in entries] == ["105:30", "0:15"]
    assert [entry["billable"] for entry in entries] == [True, False]


def test_csat_response_or_404(start):
    account, ids = activity_account()
    sim = start(account)
    csat = get(sim, f"tickets/{ids['chatty']}/csat_response")
    body = csat.json()["csat_response"]
    assert body["overall_rating"] == 103 and body["score"] == {"acquired_score": 4, "total_score": 4}
    assert body["questionnaire_responses"][1]["answers"][0]["answer_text"] == "Great"
    assert body["created_at"].endswith("Z") and "." in body["created_at"]  # milliseconds, as in section 13.5
    assert get(sim, f"tickets/{ids['recent']}/csat_response").status_code == 404


# --------------------------------------------------------------------------- departments, people, fields


def test_departments_paging_view_and_companies(start):
    account = Account(NOW)
    for name in ("One", "Two", "Three"):
        account.add_department(name, head_name="Dana Head", custom_fields={"type_of_client": "Managed"})
    sim = start(account)
    first = get(sim, "departments", per_page=2)
    assert [d["name"] for d in first.json()["departments"]] == ["One", "Two"]
    second = requests.get(first.links["next"]["url"], auth=(KEY, "X"), timeout=5)
    assert [d["name"] for d in second.json()["departments"]] == ["Three"] and "Link" not in second.headers
    department = first.json()["departments"][0]
    for key in ("id", "name", "description", "head_user_id", "head_name", "prime_user_id", "prime_user_name",
                "domains", "custom_fields", "created_at", "updated_at"):
        assert key in department
    assert department["id"] > 21_000_000_000
    assert get(sim, f"departments/{department['id']}").json()["department"] == department
    assert get(sim, "departments/1").status_code == 404
    assert get(sim, "departments", per_page=101).status_code == 400
    assert get(sim, "companies").status_code == 404
    sim.switch(companies_endpoint=True)
    companies = get(sim, "companies").json()["companies"]
    assert [company["name"] for company in companies] == ["One", "Two", "Three"]
    assert get(sim, f"companies/{department['id']}").json()["company"]["name"] == "One"


def test_agents_requesters_and_their_403s(start):
    account, ids = activity_account()
    sim = start(account)
    agents = get(sim, "agents").json()["agents"]
    assert agents[0]["first_name"] == "Aisha" and agents[0]["email"]
    requester = get(sim, f"requesters/{ids['requester']}").json()["requester"]
    assert (requester["first_name"], requester["primary_email"]) == ("Cara", "cara.cole@gamma.example")
    assert get(sim, f"agents/{ids['agent']}").json()["agent"]["last_name"] == "Okafor"
    sim.switch(forbidden_requesters=True)
    sim.switch(forbidden_agents=True)
    for path in ("requesters", f"requesters/{ids['requester']}", "agents", f"agents/{ids['agent']}"):
        denied = get(sim, path)
        assert denied.status_code == 403
        assert denied.json() == {"code": "access_denied", "message": "You are not authorized to perform this action."}
    # A role that may not view requesters may not embed them either; without the embed the ticket reads fine.
    assert get(sim, f"tickets/{ids['recent']}", include="requester").status_code == 403
    assert get(sim, "tickets", include="stats,requester", updated_since="2000-01-01").status_code == 403
    assert get(sim, f"tickets/{ids['recent']}", include="stats").json()["ticket"]["id"] == ids["recent"]


def test_ticket_form_fields_have_custom_statuses(start):
    sim = start(Account(NOW))
    fields = {f["name"]: f for f in get(sim, "ticket_form_fields").json()["ticket_fields"]}
    statuses = {choice["id"]: choice for choice in fields["status"]["choices"]}
    assert statuses[2] == {"id": 2, "value": "Open", "requester_display_value": "Being Processed"}
    assert statuses[6]["value"] == "Waiting on Customer"
    assert {choice["id"] for choice in fields["source"]["choices"]} >= {1, 2, 3, 4, 9, 15, 1001}
    assert [choice["value"] for choice in fields["priority"]["choices"]] == ["Low", "Medium", "High", "Urgent"]
    assert "category" in fields
    sim.switch(forbidden_form_fields=True)
    assert get(sim, "ticket_form_fields").status_code == 403


# --------------------------------------------------------------------------- rate limits


def test_budget_runs_out_with_429_and_resets_with_the_window(start):
    sim = start(Account(NOW), rate_limit_total=5, rate_window_seconds=1.0)
    remaining = [int(get(sim, "departments").headers["X-Ratelimit-Remaining"]) for _ in range(5)]
    assert remaining == [4, 3, 2, 1, 0]
    limited = get(sim, "departments")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.json() == {"message": "The API rate limit allotted for your Freshservice domain has been exhausted"}
    assert limited.headers["X-Ratelimit-Used-CurrentRequest"] == "0"  # a 429 costs nothing
    assert get(sim, "departments").status_code == 429
    counters = sim.counters()
    assert (counters["credits"], counters["rate_limited"], counters["requests"]) == (5, 2, 7)
    sim.advance_clock(1.05)
    fresh = get(sim, "departments")
    assert fresh.status_code == 200 and fresh.headers["X-Ratelimit-Remaining"] == "4"


def test_includes_and_failed_calls_spend_the_budget(start):
    account, ids = activity_account()
    sim = start(account, rate_limit_total=8, rate_window_seconds=2.0)
    assert get(sim, "tickets", include="stats,requester").headers["X-Ratelimit-Remaining"] == "3"
    assert get(sim, "tickets/999999").headers["X-Ratelimit-Remaining"] == "2"  # a 404 costs 1
    assert get(sim, "departments", key="wrong").headers["X-Ratelimit-Remaining"] == "1"  # so does a 401
    too_dear = get(sim, f"tickets/{ids['recent']}", include="stats")
    assert too_dear.status_code == 429 and 1 <= int(too_dear.headers["Retry-After"]) <= 2
    assert get(sim, f"tickets/{ids['recent']}").status_code == 200


def test_sub_limits_for_list_and_view(start):
    account, ids = activity_account()
    sim = start(account, list_tickets_sublimit=3, view_ticket_sublimit=2, rate_window_seconds=2.0)
    assert get(sim, "tickets", include="stats").status_code == 200
    limited = get(sim, "tickets")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert get(sim, f"tickets/{ids['recent']}", include="tags").status_code == 200
    assert get(sim, f"tickets/{ids['recent']}").status_code == 429
    # Other endpoints draw on the overall budget only.
    assert get(sim, f"tickets/{ids['recent']}/conversations").status_code == 200
    assert filter_query(sim, "priority:1").status_code == 200
    assert sim.counters()["rate_limited"] == 2


# --------------------------------------------------------------------------- faults


def test_fail_next_answers_errors_then_recovers(start):
    sim = start(Account(NOW))
    sim.fail_next(2, 503)
    assert [get(sim, "departments").status_code for _ in range(3)] == [503, 503, 200]
    sim.fail_next(1, 0)
    with pytest.raises(requests.ConnectionError):
        get(sim, "departments")
    sim.fail_next(1, 429)
    limited = get(sim, "departments")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert get(sim, "departments").status_code == 200
    counters = sim.counters()
    assert counters["status"] == {503: 2, 200: 2, 429: 1} and counters["dropped"] == 1


def test_error_and_drop_rates(start):
    sim = start(Account(NOW), error_rate=1.0)
    statuses = {get(sim, "departments").status_code for _ in range(12)}
    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    sim.switch(error_rate=0.5)
    half = Counter(get(sim, "departments").status_code == 200 for _ in range(40))
    assert 8 <= half[True] <= 32 and 8 <= half[False] <= 32
    sim.switch(error_rate=0.0)
    sim.switch(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        get(sim, "departments")
    sim.switch(drop_rate=0.0)
    assert get(sim, "departments").status_code == 200


def test_failing_department_breaks_its_tickets_and_filters(start):
    account, ids = filter_account()
    sim = start(account, failing_department_ids={ids["b"]})
    b_ticket = next(t["id"] for t in account.tickets.values() if t["department_id"] == ids["b"])
    a_ticket = ids["last_second"]
    for suffix in ("", "/conversations", "/time_entries", "/csat_response"):
        assert get(sim, f"tickets/{b_ticket}{suffix}").status_code == 500
    assert get(sim, f"tickets/{a_ticket}").status_code == 200
    assert filter_query(sim, f"department_id:{ids['b']}").status_code == 500
    assert filter_query(sim, f"department_id:{ids['a']} OR department_id:{ids['b']}").status_code == 500
    assert filter_query(sim, f"department_id:{ids['a']}").status_code == 200


@pytest.mark.parametrize("kind", ["html", "badjson"])
def test_garbage_responses(start, kind):
    sim = start(Account(NOW), garbage_response=kind)
    response = get(sim, "departments")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html" if kind == "html" else "application/json")
    with pytest.raises(ValueError):
        json.loads(response.text)


def test_endpoint_status_answers_only_that_endpoint(start):
    sim = start(Account(NOW), endpoint_status={"agents": 403})
    assert get(sim, "agents").status_code == 403
    assert get(sim, "departments").status_code == 200


def test_latency_is_added(start):
    sim = start(Account(NOW), latency_seconds=0.5)
    # A client that waits less than the added latency gives up before the answer comes.
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{sim.url}/api/v2/departments", auth=(KEY, "X"), timeout=(1.0, 0.1))


def test_counters_by_endpoint_and_reset(start):
    account, ids = activity_account()
    sim = start(account)
    get(sim, "tickets", include="stats")
    get(sim, f"tickets/{ids['chatty']}", include="conversations")
    get(sim, f"tickets/{ids['chatty']}/time_entries")
    get(sim, f"tickets/{ids['recent']}/csat_response")
    filter_query(sim, "priority:1")
    get(sim, "agents")
    counters = sim.counters()
    by_endpoint = counters["by_endpoint"]
    assert by_endpoint["tickets.list"] == {"requests": 1, "credits": 3}
    assert by_endpoint["tickets.view"] == {"requests": 1, "credits": 2}
    assert by_endpoint["tickets.time_entries"] == {"requests": 1, "credits": 1}
    assert by_endpoint["tickets.csat_response"] == {"requests": 1, "credits": 1}
    assert by_endpoint["tickets.filter"]["requests"] == 1 and by_endpoint["agents"]["requests"] == 1
    assert by_endpoint["requesters"] == {"requests": 0, "credits": 0}
    assert counters["status"] == {200: 5, 404: 1}
    assert (counters["requests"], counters["credits"]) == (6, 9)
    sim.reset_counters()
    assert sim.counters()["requests"] == 0 and sim.last_requests == []


def test_concurrent_clients_are_counted_exactly(start):
    account, _ = filter_account()
    sim = start(account)
    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with requests.Session() as session:
            session.auth = (KEY, "X")
            for _ in range(10):
                status = session.get(f"{sim.url}/api/v2/tickets/filter", params={"query": '"priority:2"'},
                                     timeout=10).status_code
                with lock:
                    results.append(status)

    run_in_threads(worker, 8)
    assert results == [200] * 80
    assert sim.counters()["by_endpoint"]["tickets.filter"] == {"requests": 80, "credits": 80}


# --------------------------------------------------------------------------- Account API


def test_add_ticket_fills_defaults_and_normalises_timestamps():
    account = Account(NOW)
    ticket = account.add_ticket(None, "2026-11-01T10:00:00+02:00", subject="Hello")
    assert ticket["id"] == 1 and account.add_ticket(None, NOW)["id"] == 2
    assert account.add_ticket(None, NOW, id=500)["id"] == 500 and account.add_ticket(None, NOW)["id"] == 501
    assert ticket["created_at"] == "2026-11-01T08:00:00Z" == ticket["updated_at"]
    assert (ticket["status"], ticket["priority"], ticket["source"], ticket["type"]) == (2, 1, 2, "Incident")
    assert ticket["due_by"] is None and ticket["fr_due_by"] is None
    assert ticket["spam"] is False and ticket["deleted"] is False
    assert ticket["tags"] == [] and ticket["custom_fields"] == {}
    assert set(ticket["stats"]) == set(STATS_KEYS)
    resolved = account.add_ticket(None, "2026-11-02", resolved_at="2026-11-03T12:00:00Z",
                                  stats={"first_responded_at": datetime(2026, 11, 2, 1, tzinfo=UTC)},
                                  due_by="2026-11-05")
    assert resolved["status"] == 4 and resolved["due_by"] == "2026-11-05T00:00:00Z"
    assert resolved["stats"]["resolved_at"] == "2026-11-03T12:00:00Z"
    assert resolved["stats"]["first_resp_time_in_secs"] == 3600
    assert resolved["stats"]["resolution_time_in_secs"] == 36 * 3600
    assert resolved["updated_at"] == "2026-11-03T12:00:00Z"
    closed = account.add_ticket(None, "2026-11-02", closed_at="2026-11-04")
    assert closed["status"] == 5 and closed["stats"]["closed_at"] == "2026-11-04T00:00:00Z"


def test_activity_keeps_updated_at_and_stats_current():
    account = Account(NOW)
    agent = account.add_agent("Tom", "Becker")["id"]
    requester = account.add_requester("Ann", "Able", email="ann@alpha.example")["id"]
    assert agent > 21_000_000_000 and requester > 21_000_000_000
    ticket = account.add_ticket(None, "2026-11-01T09:00:00Z", requester_id=requester, responder_id=agent)
    reply = account.add_conversation(ticket["id"], created_at="2026-11-01T09:30:00Z", body_text="On it")
    assert reply["user_id"] == agent and reply["body"] == "<div>On it</div>" and reply["source"] == 0
    account.add_conversation(ticket["id"], incoming=True, created_at="2026-11-01T10:00:00Z", body_text="Thanks")
    account.add_conversation(ticket["id"], private=True, source=2, created_at="2026-11-01T11:00:00Z",
                             body_text="internal")
    stats = ticket["stats"]
    assert stats["first_responded_at"] == "2026-11-01T09:30:00Z" and stats["first_resp_time_in_secs"] == 1800
    assert (stats["inbound_count"], stats["outbound_count"]) == (2, 1)
    assert ticket["updated_at"] == "2026-11-01T11:00:00Z"
    account.add_time_entry(ticket["id"], "1:30", created_at="2026-11-02T08:00:00Z")
    assert ticket["updated_at"] == "2026-11-02T08:00:00Z"
    response = account.set_csat(ticket["id"], overall_rating=-101, created_at="2026-11-03T08:00:00Z")
    assert "score" not in response and response["overall_rating_text"] == "Not good"
    assert ticket["updated_at"] == "2026-11-03T08:00:00Z"
    feedback = account.conversations[ticket["id"]][-1]
    assert (feedback["source"], feedback["incoming"], feedback["body_text"]) == (
        5, True, "Ann Able has submitted the survey response")
    pinned = account.add_ticket(None, "2026-11-01", updated_at="2026-11-01T05:00:00Z")
    account.add_conversation(pinned["id"], created_at="2026-11-10T00:00:00Z")
    assert pinned["updated_at"] == "2026-11-01T05:00:00Z"
    with pytest.raises(ValueError):
        account.add_time_entry(ticket["id"], "1:75")
    with pytest.raises(KeyError):
        account.add_conversation(9999)


# --------------------------------------------------------------------------- demo account


@pytest.fixture(scope="module")
def demo() -> Account:
    return build_demo_account(NOW)


def _month_counts(account: Account, zone: ZoneInfo | timezone = UTC) -> dict[str, Counter]:
    names = {department_id: d["name"] for department_id, d in account.departments.items()}
    counts: dict[str, Counter] = {name: Counter() for name in names.values()}
    for ticket in visible(account):
        if ticket["department_id"] in names:
            created = datetime.fromisoformat(ticket["created_at"].replace("Z", "+00:00")).astimezone(zone)
            counts[names[ticket["department_id"]]][created.strftime("%Y-%m")] += 1
    return counts


def test_demo_is_deterministic():
    first = build_demo_account(NOW, seed=11)
    second = build_demo_account(NOW, seed=11)
    other = build_demo_account(NOW, seed=12)

    def dump(account: Account) -> str:
        return json.dumps([account.departments, account.agents, account.requesters, account.tickets,
                           account.conversations, account.time_entries, account.csat], sort_keys=True)

    first_dump = dump(first)  # a large document: dumped once
    assert first_dump == dump(second)
    assert first_dump != dump(other)


def test_demo_companies_have_the_promised_sizes(demo):
    counts = _month_counts(demo)
    october = {name: months["2026-10"] for name, months in counts.items()}
    assert 320 <= october["Harrow & Vance LLP"] <= 345
    assert 110 <= october["Brightsmile Dental Group"] <= 132
    assert 52 <= october["Northline Architecture Studio"] <= 72
    assert 18 <= october["Riverbend Community Trust"] <= 34
    assert 4 <= october["Kessler & Moss Accounting"] <= 12
    quiet = counts["Alder Peak Outfitters"]
    assert all(quiet[month] <= 2 for month in ("2026-07", "2026-08", "2026-09", "2026-10", "2026-11"))
    assert sum(quiet[month] == 0 for month in ("2026-07", "2026-08", "2026-09", "2026-10")) >= 2
    for month in ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"):
        assert counts["Harrow & Vance LLP"][month] > 300
    # The previous month is complete in any zone: still over the filter cap in New York and Tokyo.
    assert _month_counts(demo, ZoneInfo("America/New_York"))["Harrow & Vance LLP"]["2026-10"] > 300
    assert _month_counts(demo, ZoneInfo("Asia/Tokyo"))["Harrow & Vance LLP"]["2026-05"] > 300
    for department in demo.departments.values():
        assert department["head_name"] and department["prime_user_name"] and department["domains"]
        assert department["custom_fields"]["type_of_client"] in ("Managed", "Co-managed", "Break-fix")
    assert 6 <= len(demo.agents) <= 10
    law = next(d for d in demo.departments.values() if d["name"] == "Harrow & Vance LLP")
    staff = [r for r in demo.requesters.values() if law["id"] in r["department_ids"]]
    assert len(staff) >= 20 and all(r["primary_email"].endswith("@harrowvance.example") for r in staff)
    assert {company.name for company in COMPANIES} == {d["name"] for d in demo.departments.values()}


def test_demo_big_client_needs_window_splitting_over_http(demo, start):
    sim = start(demo)
    law = next(d["id"] for d in demo.departments.values() if d["name"] == "Harrow & Vance LLP")
    query = f"department_id:{law} AND created_at:>'2026-10-01' AND created_at:<'2026-10-31'"
    pages = [filter_query(sim, query, page=page) for page in range(1, 11)]
    assert pages[0].json()["total"] > 300
    assert sum(len(page.json()["tickets"]) for page in pages) == 300
    assert filter_query(sim, query, page=11).status_code == 400


def test_demo_has_the_variety_a_report_needs(demo):
    tickets = visible(demo)
    statuses = Counter(t["status"] for t in tickets)
    assert {2, 3, 4, 5, 6} <= set(statuses)
    assert {1, 2, 3, 4, 9, 15, 1001} <= {t["source"] for t in tickets}
    assert {1, 2, 3, 4} == {t["priority"] for t in tickets}
    assert {"Incident", "Service Request"} == {t["type"] for t in tickets}
    assert len({t["category"] for t in tickets}) >= 8
    tags = Counter(tag for t in tickets for tag in t["tags"])
    for tag in ("proactive", "maintenance", "Maintenance", "maintenance-window", "vip"):
        assert tags[tag] > 0
    assert any(t["custom_fields"].get("proactive_case") is True for t in tickets)
    lengths = sorted(len(demo.conversations[t["id"]]) for t in tickets)
    assert lengths[-1] > 100 and sum(length >= 25 for length in lengths) >= 5
    assert sum(1 <= length <= 3 for length in lengths) > len(lengths) / 2
    notes = [c for cs in demo.conversations.values() for c in cs if c["private"]]
    assert notes and all(c["source"] == 2 and c["body_text"] for c in notes)
    entries = [e for es in demo.time_entries.values() for e in es]
    assert any(e["time_spent"] == "105:30" for e in entries)
    assert {True, False} == {e["billable"] for e in entries}
    assert any(len(es) >= 3 for es in demo.time_entries.values())
    resolved = [t for t in tickets if t["stats"]["resolved_at"] or t["stats"]["closed_at"]]
    assert 0.04 <= len(demo.csat) / len(resolved) <= 0.12
    with_score = [c for c in demo.csat.values() if "score" in c]
    assert with_score and len(with_score) < len(demo.csat)
    for ticket_id in demo.csat:
        assert any(c["source"] == 5 for c in demo.conversations[ticket_id])
    assert any(t["stats"]["first_responded_at"] is None for t in resolved)
    assert any(t["stats"]["opened_at"] for t in tickets)
    assert any(t["stats"]["closed_at"] and not t["stats"]["resolved_at"] for t in tickets)
    assert any(t["created_at"][:7] != (t["stats"]["resolved_at"] or t["created_at"])[:7] for t in tickets)
    now_text = format_timestamp(demo.now)
    fr_targets = [t for t in tickets if t["fr_due_by"] and t["stats"]["first_responded_at"]]
    met = sum(t["stats"]["first_responded_at"] <= t["fr_due_by"] for t in fr_targets) / len(fr_targets)
    assert 0.75 <= met <= 0.97
    open_tickets = [t for t in tickets if not (t["stats"]["resolved_at"] or t["stats"]["closed_at"])]
    assert any(t["due_by"] and t["due_by"] < now_text for t in open_tickets)
    assert any(NOW - datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) > timedelta(days=90)
               for t in open_tickets)
    assert any(t["status"] == 6 for t in open_tickets)


def test_demo_keeps_timestamps_and_counts_consistent(demo):
    now_text = format_timestamp(demo.now)
    after_hours = weekend = 0
    for ticket in demo.tickets.values():
        conversations = demo.conversations[ticket["id"]]
        moments = [ticket["created_at"], *[v for k, v in ticket["stats"].items() if k.endswith("_at") and v],
                   *[c["created_at"] for c in conversations],
                   *[e["created_at"] for e in demo.time_entries[ticket["id"]]]]
        assert ticket["created_at"] <= ticket["updated_at"] <= now_text
        assert max(moments) <= ticket["updated_at"]
        outbound = sum(not c["incoming"] and not c["private"] and c["source"] == 0 for c in conversations)
        inbound = sum(c["incoming"] and c["source"] == 0 for c in conversations)
        assert ticket["stats"]["outbound_count"] == outbound
        assert ticket["stats"]["inbound_count"] == inbound + 1
        created = datetime.fromisoformat(ticket["created_at"].replace("Z", "+00:00")) - timedelta(hours=5)
        weekend += created.weekday() >= 5
        after_hours += created.weekday() < 5 and not 8 <= created.hour < 18
    assert 0.02 < weekend / len(demo.tickets) < 0.15
    assert 0.03 < after_hours / len(demo.tickets) < 0.25


def test_demo_hides_spam_and_deleted_and_carries_hostile_text(demo, start):
    spam = [t for t in demo.tickets.values() if t["spam"]]
    deleted = [t for t in demo.tickets.values() if t["deleted"]]
    assert len(spam) >= 3 and len(deleted) >= 3
    sim = start(demo)
    for ticket in deleted:
        assert get(sim, f"tickets/{ticket['id']}").status_code == 404
    hidden = {t["id"] for t in spam + deleted}
    seen: set[int] = set()
    for day in ("2026-10-01", "2026-10-11", "2026-10-21"):
        end = (datetime.fromisoformat(day) + timedelta(days=9)).date().isoformat()
        for page in range(1, 11):
            tickets = filter_query(sim, f"created_at:>'{day}' AND created_at:<'{end}' AND "
                                        "(priority:1 OR priority:4)", page=page).json()["tickets"]
            seen |= {t["id"] for t in tickets}
    listed = {t["id"] for t in get(sim, "tickets", per_page=100).json()["tickets"]}
    assert seen and listed and not (seen | listed) & hidden
    subjects = {t["subject"] for t in visible(demo) if t["created_at"].startswith("2026-10")}
    assert "<script>alert(1)</script>" in subjects
    assert any('<b>bold</b> & "quotes"' in s for s in subjects)
    assert any(len(s) > 200 for s in subjects)
    assert any("\u3040" <= ch <= "\u30ff" for s in subjects for ch in s)  # Japanese
    assert any("\u0370" <= ch <= "\u03ff" for s in subjects for ch in s)  # Greek
    assert any("\u0600" <= ch <= "\u06ff" for s in subjects for ch in s)  # Arabic
    assert any(ord(ch) > 0x1F000 for s in subjects for ch in s)  # emoji


def test_demo_defaults_to_the_current_hour(monkeypatch):
    monkeypatch.setenv("INTEGOREPORT_NOW", "2026-11-05T09:41:07+00:00")
    account = build_demo_account()
    assert account.now == datetime(2026, 11, 5, 9, 0, tzinfo=UTC)  # the start of the clock's hour
    newest = max(t["created_at"] for t in account.tickets.values())
    assert account.now - datetime.fromisoformat(newest.replace("Z", "+00:00")) < timedelta(days=3)


# --------------------------------------------------------------------------- command line


def test_command_line_serves_the_demo_and_stops_cleanly_on_ctrl_c():
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.freshservice", "--port", "0", "--key", "cli-key",
         "--now", "2026-11-26T12:00:00Z"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    try:
        first_line = process.stdout.readline()
        key_line = process.stdout.readline()
        assert "serving" in first_line, process.stderr.read() if process.poll() is not None else first_line
        url = first_line.split("serving ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v2")
        assert key_line.strip() == "API key: cli-key"
        response = requests.get(f"{url}/departments", auth=("cli-key", "X"), timeout=5)
        assert len(response.json()["departments"]) == 6
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in err


def test_switch_turns_a_knob_while_serving_and_refuses_a_misspelt_one(start):
    sim = start(Account(NOW))
    assert get(sim, "departments").status_code == 200
    sim.switch(endpoint_status={"departments": 503})
    assert get(sim, "departments").status_code == 503
    with pytest.raises(TypeError):
        sim.switch(endpoint_statuss={})
    assert sim.settings.endpoint_status == {"departments": 503}
