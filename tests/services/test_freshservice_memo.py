"""A ticket's details are read once per ticket version a run (utils/services/freshservice_memo.py), and what a run
pulls comes out exactly as it would without the memo."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from simulators.freshservice_data import Account
from tests.helpers.running import SIM_KEY
from utils.core.period import Period, parse_period
from utils.services.freshservice_client import FreshserviceClient, freshservice_policy
from utils.services.freshservice_memo import TicketMemo, TicketReads, memo_key
from utils.services.freshservice_pull import AccountContext, pull_client_month

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MONTHS = [parse_period("UTC", month=month, now=NOW) for month in ("2026-07", "2026-08", "2026-09")]
QUARTER = parse_period("UTC", quarter="2026-Q3", now=NOW)
TICKET_CALL = re.compile(r"^/api/v2/tickets/(\d+)(/[a-z_]+)?(\?|$)")  # a view, or a ticket's conversations, time entries or survey


def new_client(simulator) -> FreshserviceClient:
    return FreshserviceClient(simulator.url, SIM_KEY, policy=freshservice_policy(60.0, backoff_base=0.01))


def pull(client: FreshserviceClient, client_id: int, period: Period, keep_text: bool = False) -> dict:
    """One pull with its own context, as each part of a pull_info.py run (backfill, quarter, month) has."""
    return pull_client_month(AccountContext(client), str(client_id), period, now=NOW, keep_conversation_text=keep_text)


def content(document: dict) -> str:
    """The document as written, less what differs from one pull to the next by nature."""
    return json.dumps({key: value for key, value in document.items() if key not in ("generated_at", "usage", "api_usage")},
                      sort_keys=False)


def ticket_calls(paths: list[str]) -> Counter:
    """(ticket id, what) for every per-ticket call in a request log."""
    return Counter((int(match[1]), match[2] or "view") for path in paths if (match := TICKET_CALL.match(path)))


def quarter_account(others: int) -> tuple[Account, int, dict[str, int]]:
    """One client's tickets across Q3 2026 (a month-crossing one, a busy one, a surveyed one, time logged), and
    `others` tickets of another client: many make an account-wide sweep dearer than reading ours one by one."""
    account = Account(now=NOW)
    ours, theirs = account.add_department("Ours Ltd")["id"], account.add_department("Theirs Inc")["id"]
    agent = account.add_agent("Sam", "Agent")["id"]
    requester = account.add_requester("Rita", "Requester", email="rita@ours.example")["id"]
    made: dict[str, int] = {}
    for name, created, resolved in (
            ("crossing", "2026-07-30T22:00:00Z", "2026-08-02T09:00:00Z"),
            ("open all quarter", "2026-06-29T10:00:00Z", None),
            ("july", "2026-07-03T10:00:00Z", "2026-07-03T15:00:00Z"),
            ("busy", "2026-08-10T10:00:00Z", "2026-08-20T10:00:00Z"),
            ("surveyed", "2026-09-01T08:00:00Z", "2026-09-02T09:00:00Z"),
            ("september", "2026-09-20T08:00:00Z", "2026-09-21T09:00:00Z")):
        extra = {"resolved_at": resolved} if resolved else {}
        made[name] = account.add_ticket(ours, created, requester_id=requester, responder_id=agent, subject=name,
                                        stats={"first_responded_at": created, **extra})["id"]
    for n in range(12):  # more than a view embeds: its conversations come from their own list
        account.add_conversation(made["busy"], incoming=n % 2 == 0, private=False, body_text=f"message {n}",
                                 created_at=f"2026-08-{10 + n // 2:02d}T1{n % 10}:00:00Z")
    account.add_conversation(made["july"], incoming=False, private=False, body_text="Public reply: on my way.")
    account.add_time_entry(made["crossing"], "1:30", executed_at="2026-08-01T10:00:00Z")
    account.set_csat(made["surveyed"], created_at="2026-09-03T09:00:00Z", overall_rating=101)
    for n in range(others):
        account.add_ticket(theirs, f"2026-09-{1 + n % 28:02d}T10:00:00Z", subject=f"theirs {n}")
    return account, ours, made


@pytest.mark.parametrize("others", [0, 600], ids=["swept", "viewed"])
def test_single_pulls_come_out_the_same_with_and_without_the_memo(start_simulator, others):
    account, ours, _made = quarter_account(others)
    simulator = start_simulator(account)
    run = new_client(simulator)  # one run: every period through the same client
    shared = [pull(run, ours, month) for month in MONTHS] + [pull(run, ours, QUARTER), pull(run, ours, MONTHS[0], keep_text=True)]
    assert run.ticket_memo.reused > 0
    alone = [pull(new_client(simulator), ours, month) for month in MONTHS]
    alone += [pull(new_client(simulator), ours, QUARTER), pull(new_client(simulator), ours, MONTHS[0], keep_text=True)]
    assert [content(document) for document in shared] == [content(document) for document in alone]
    # A list read without text never served the pull that keeps the public conversations' text.
    assert "Public reply: on my way." in content(shared[-1]) and "Public reply" not in content(shared[0])
    # Each way of completing a ticket is covered: from the sweep, and by a view (for a month of few tickets, or where
    # the other client's many tickets make the quarter's sweep dearer than views).
    by_endpoint = simulator.counters()["by_endpoint"]
    assert by_endpoint["tickets.list"]["requests"] > 0 and by_endpoint["tickets.view"]["requests"] > 0


def batch(client: FreshserviceClient, client_ids: list[int], periods: list[Period]) -> list[dict]:
    """What pull_info.py does for a backfill (its months) or a quarter: one context, one sweep over the span, each client."""
    context = AccountContext(client)
    context.prepare_batch(Period(start=periods[0].start, end=periods[-1].end, timezone="UTC"))
    return [pull_client_month(context, str(client_id), period, now=NOW) for period in periods for client_id in client_ids]


@pytest.mark.parametrize("surveys_leave_feedback", [True, False])
def test_a_quarter_after_its_backfilled_months_reads_no_ticket_again(start_simulator, surveys_leave_feedback):
    account, ours, made = quarter_account(60)
    theirs = next(iter(set(account.departments) - {ours}))
    simulator = start_simulator(account, csat_without_feedback=not surveys_leave_feedback)
    run = new_client(simulator)
    months = batch(run, [ours, theirs], MONTHS)
    month_calls = ticket_calls(simulator.requested_paths())
    simulator.reset_counters()
    quarter = batch(run, [ours, theirs], [QUARTER])
    assert ticket_calls(simulator.requested_paths()) == Counter()  # no view, conversation, time entry or survey read again
    assert max(month_calls.values()) == 1  # the month-crossing tickets too: read in one month, reused in the next
    assert {ticket["id"] for document in quarter for ticket in document["tickets"]} == {
        ticket["id"] for document in months for ticket in document["tickets"]}
    assert [content(document) for document in quarter] == [content(document) for document in batch(new_client(simulator), [ours, theirs], [QUARTER])]
    surveyed = next(t for t in quarter[0]["tickets"] if t["id"] == made["surveyed"])
    assert (surveyed["csat"] or {}).get("overall_rating") == (101 if surveys_leave_feedback else None)  # the probes' luck, as without the memo


def test_a_ticket_whose_updated_at_moved_is_read_again(start_simulator):
    account, ours, made = quarter_account(60)
    simulator = start_simulator(account)
    run = new_client(simulator)
    batch(run, [ours], MONTHS)
    before = next(t for t in batch(run, [ours], [QUARTER])[0]["tickets"] if t["id"] == made["crossing"])
    entry = simulator.log_time(made["crossing"], "0:45")
    simulator.reset_counters()
    quarter = batch(run, [ours], [QUARTER])[0]
    calls = ticket_calls(simulator.requested_paths())
    assert set(calls) <= {(made["crossing"], what) for what in ("view", "/conversations", "/time_entries", "/csat_response")}
    assert calls[(made["crossing"], "/time_entries")] == 1 and calls[(made["crossing"], "/conversations")] == 1
    after = next(t for t in quarter["tickets"] if t["id"] == made["crossing"])
    assert after["updated_at"] > before["updated_at"]
    assert [e["id"] for e in after["time_entries"]] == [*(e["id"] for e in before["time_entries"]), entry["id"]]
    assert content(quarter) == content(batch(new_client(simulator), [ours], [QUARTER])[0])


def test_the_memo_hands_out_copies_and_forgets_tickets_without_updated_at():
    memo = TicketMemo()
    key = memo_key(7, "2026-09-01T10:00:00Z")
    memo.remember(key, TicketReads(time_entries=[{"id": 1}], conversations={False: [{"id": 2}]}))
    first, second = memo.recall(key), memo.recall(key)
    assert first.time_entries is not None and second.time_entries is not None
    first.time_entries.append({"id": 3})  # a document's list, mutated later: never the memo's, nor another period's
    assert second.time_entries == [{"id": 1}] and memo.recall(key).time_entries == [{"id": 1}]
    assert True not in memo.recall(key).conversations  # read without text: no text to give
    assert memo_key(7, "2026-09-02T10:00:00Z") != key
    assert memo_key(7, None) is None
    memo.remember(None, TicketReads(time_entries=[]))
    assert len(memo) == 1 and memo.recall(None) == TicketReads()
