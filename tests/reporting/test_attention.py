""""Needs your attention": every kind, their order, sources that are absent, and the report section."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from tests.helpers.reports import ATTENTION_ORDER, build_outputs, raw_file, ticket
from utils.reporting.attention import NOTHING_TEXT
from utils.reporting.section import attention_items
from utils.sources import attention_rules

KINDS = ATTENTION_ORDER

# A metrics dict with every figure the list reads, each at a distinct count (by kind's position + 1).
FULL = {
    "backlog": {"waiting_on_client": 3, "ge_30d": 8},
    "m365": {"mfa": {"admins_without": 2, "eligible": 40, "registered": 36}, "users": {"disabled_licensed": 9},
             "licenses_unassigned": 10},
    "s1": {"threats": {"open_now": 1}, "agents": {"offline": 5, "out_of_date": 6, "detect_only": 7}},
}


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", lxml_html.fromstring(html).find("body").text_content()).strip()


def test_every_kind_in_the_fixed_order_with_its_count():
    items = attention_items(attention_rules(), FULL)
    assert [item["kind"] for item in items] == list(KINDS)
    assert [item["count"] for item in items] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert items[2] == {"kind": "waiting_on_client", "count": 3, "text": "3 tickets are waiting for your reply."}
    assert items[1]["text"] == "2 administrators have no multifactor authentication: please let us set it up."
    for item in items:
        assert item["text"].startswith(f"{item['count']:,} ") and item["text"].endswith(".") and "\n" not in item["text"]


@pytest.mark.parametrize("kind, metrics, text", [
    ("threats_open", {"s1": {"threats": {"open_now": 1}}}, "1 security threat is still open"),
    ("admins_without_mfa", {"m365": {"mfa": {"admins_without": 1}}}, "1 administrator has no multifactor authentication"),
    ("waiting_on_client", {"backlog": {"waiting_on_client": 1}}, "1 ticket is waiting for your reply."),
    ("users_without_mfa", {"m365": {"mfa": {"eligible": 12, "registered": 11}}}, "1 user has not registered for multifactor"),
    ("agents_offline", {"s1": {"agents": {"offline": 1}}}, "1 computer has not checked in"),
    ("agents_out_of_date", {"s1": {"agents": {"out_of_date": 1}}}, "1 computer runs an out-of-date"),
    ("agents_detect_only", {"s1": {"agents": {"detect_only": 1}}}, "1 computer's endpoint protection only reports threats"),
    ("old_open_tickets", {"backlog": {"ge_30d": 1}}, "1 ticket has been open for 30 days or more"),
    ("disabled_licensed", {"m365": {"users": {"disabled_licensed": 1}}}, "1 disabled account still holds a paid licence"),
    ("unassigned_licenses", {"m365": {"licenses_unassigned": 1}}, "1 Microsoft 365 licence is paid for"),
])
def test_each_kind_alone_in_the_singular(kind, metrics, text):
    items = attention_items(attention_rules(), metrics)
    assert [item["kind"] for item in items] == [kind]
    assert items[0]["count"] == 1 and items[0]["text"].startswith(text)


def test_zero_null_and_absent_sources_contribute_nothing():
    zeros = {"backlog": {"waiting_on_client": 0, "ge_30d": 0},
             "m365": {"mfa": {"admins_without": 0, "eligible": 5, "registered": 5}, "users": {"disabled_licensed": 0}, "licenses_unassigned": 0},
             "s1": {"threats": {"open_now": 0}, "agents": {"offline": 0, "out_of_date": 0}}}
    assert attention_items(attention_rules(), zeros) == []
    # A figure Graph could not read is null: never an item, never a crash.
    unreadable = {"m365": {"mfa": {"admins_without": None, "eligible": None, "registered": None}, "users": {"disabled_licensed": None},
                           "licenses_unassigned": None, "unavailable": {"mfa": "needs Entra ID P1 or P2"}}}
    assert attention_items(attention_rules(), unreadable) == []
    assert attention_items(attention_rules(), {}) == []  # no source configured, no Freshservice figures either
    assert attention_items(attention_rules(), {"m365": {"mfa": {"eligible": 4}}}) == []  # half the MFA pair


def test_ticket_kinds_come_from_the_month(home):
    tickets = [
        ticket(1, "2026-10-05T12:00:00Z", status=3, status_text="Pending"),
        ticket(2, "2026-10-06T12:00:00Z", status=6, status_text="Waiting on Customer"),
        ticket(3, "2026-10-07T12:00:00Z", status=7, status_text="Waiting on third party"),  # not on the client
        ticket(4, "2026-08-01T12:00:00Z"),  # open for three months
        ticket(5, "2026-10-08T12:00:00Z", status=4, status_text="Resolved", stats={"resolved_at": "2026-10-09T12:00:00Z"}),
    ]
    _, _, metrics = build_outputs(raw_file(tickets))
    assert metrics["attention"] == [
        {"kind": "waiting_on_client", "count": 2, "text": "2 tickets are waiting for your reply."},
        {"kind": "old_open_tickets", "count": 1, "text": "1 ticket has been open for 30 days or more: tell us if it can be closed."},
    ]


def test_section_sits_after_the_summary_and_before_the_numbers():
    tickets = [ticket(1, "2026-10-05T12:00:00Z", status=3, status_text="Pending")]
    html, text, _ = build_outputs(raw_file(tickets))
    words = visible_text(html)
    assert words.index("Your month at a glance") < words.index("Needs your attention") < words.index("New tickets")
    assert "1 ticket is waiting for your reply." in words
    assert "NEEDS YOUR ATTENTION" in text and "- 1 ticket is waiting for your reply." in text
    assert NOTHING_TEXT not in words


def test_nothing_to_do_says_so():
    html, text, metrics = build_outputs(raw_file([]))
    assert metrics["attention"] == []
    assert "Needs your attention" in visible_text(html) and NOTHING_TEXT in visible_text(html)
    assert NOTHING_TEXT in text
