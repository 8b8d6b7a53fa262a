"""Metrics on small hand-built ticket lists whose right answers are worked out here."""

from __future__ import annotations

from datetime import time

import pytest

from tests.helpers.reports import conversation, csat, period_for, raw_file, synthetic_month, ticket, time_entry
from utils.core.errors import ConfigError, DataError
from utils.core.settings import load_settings
from utils.reporting.metrics import (
    check_raw,
    compute_metrics,
    compute_report_data,
    duration_summary,
    parse_business_hours,
    parse_time_spent,
)

# October 2026 in New York runs from 2026-10-01T04:00:00Z to 2026-11-01T04:00:00Z (EDT, UTC-4).
START = "2026-10-01T04:00:00Z"
END = "2026-11-01T04:00:00Z"


def metrics_of(tickets, **fields):
    return compute_metrics(raw_file(tickets, **fields))


# ---------------------------------------------------------------------------------------------
# The period


def test_period_boundaries_new_york():
    tickets = [
        ticket(1, "2026-10-01T03:30:00Z"),  # 23:30 on 30 September in New York: September
        ticket(2, "2026-10-01T04:00:00Z"),  # midnight on 1 October: the first instant, included
        ticket(3, "2026-11-01T03:59:59Z"),  # 23:59:59 on 31 October: included
        ticket(4, "2026-11-01T04:00:00Z"),  # midnight on 1 November: the end is exclusive
    ]
    assert metrics_of(tickets)["volume"]["created"] == 2


@pytest.mark.parametrize(
    ("zone", "year", "month", "inside", "outside"),
    [
        ("Asia/Tokyo", 2026, 10, ["2026-09-30T15:00:00Z", "2026-10-31T14:59:59Z"], ["2026-09-30T14:59:59Z", "2026-10-31T15:00:00Z"]),
        ("Asia/Kolkata", 2026, 10, ["2026-09-30T18:30:00Z"], ["2026-09-30T18:29:59Z", "2026-10-31T18:30:00Z"]),
        ("UTC", 2026, 10, ["2026-10-01T00:00:00Z", "2026-10-31T23:59:59Z"], ["2026-09-30T23:59:59Z", "2026-11-01T00:00:00Z"]),
        # November 2026 in New York: DST ends on 1 November, so the month starts at UTC-4 and ends at UTC-5.
        ("America/New_York", 2026, 11, ["2026-11-01T04:00:00Z", "2026-12-01T04:30:00Z"], ["2026-11-01T03:59:59Z", "2026-12-01T05:00:00Z"]),
        # March 2026 in London: GMT at the start, BST (UTC+1) at the end.
        ("Europe/London", 2026, 3, ["2026-03-01T00:00:00Z", "2026-03-31T22:59:59Z"], ["2026-02-28T23:59:59Z", "2026-03-31T23:00:00Z"]),
    ],
)
def test_period_boundaries_in_other_zones(zone, year, month, inside, outside):
    tickets = [ticket(i, stamp) for i, stamp in enumerate(inside + outside)]
    metrics = compute_metrics(raw_file(tickets, period=period_for(year, month, zone)))
    assert metrics["volume"]["created"] == len(inside)
    assert metrics["period"]["timezone"] == zone


def test_period_is_reported_in_the_report_zone():
    metrics = metrics_of([])
    assert metrics["period"] == {"kind": "month", "start": "2026-10-01T00:00:00-04:00", "end": "2026-11-01T00:00:00-04:00",
                                 "timezone": "America/New_York", "label": "October 2026"}


# ---------------------------------------------------------------------------------------------
# Volume, open and resolved


def test_resolved_in_month_but_created_before():
    t = ticket(1, "2026-09-20T12:00:00Z", stats={"resolved_at": "2026-10-05T12:00:00Z", "first_responded_at": "2026-09-20T13:00:00Z"})
    metrics = metrics_of([t])
    assert metrics["volume"] == {"created": 0, "resolved": 1, "open_at_start": 1, "open_at_end": 0}
    assert metrics["resolution"]["count"] == 1
    assert metrics["resolution"]["median_s"] == 15 * 86400
    assert metrics["first_response"]["count"] == 0  # first response counts tickets created in the period only
    assert metrics["fcr"]["resolved"] == 1


def test_open_at_start_and_end():
    tickets = [
        ticket(1, "2026-09-01T04:00:00Z"),  # open all along: open at start and at end, 61 days old at the end
        ticket(2, "2026-09-15T00:00:00Z", stats={"resolved_at": START}),  # resolved at the very first instant: still open at start
        ticket(3, "2026-10-10T00:00:00Z", stats={"resolved_at": "2026-11-03T00:00:00Z"}),  # resolved after the end: open at end
        ticket(4, "2026-10-10T00:00:00Z", stats={"resolved_at": None, "closed_at": "2026-10-12T00:00:00Z"}),  # closed_at stands in
        ticket(5, "2026-10-31T20:00:00Z"),  # 8 hours old at the end
    ]
    metrics = metrics_of(tickets)
    assert metrics["volume"] == {"created": 3, "resolved": 2, "open_at_start": 2, "open_at_end": 3}
    assert metrics["ageing"] == {"lt_1d": 1, "1_3d": 0, "3_7d": 0, "7_30d": 1, "30_90d": 1, "ge_90d": 0}


def test_ageing_bucket_includes_its_lower_bound():
    tickets = [
        ticket(1, "2026-10-31T04:00:00Z"),  # exactly 1 day before the end
        ticket(2, "2026-10-29T04:00:00Z"),  # exactly 3 days
        ticket(3, "2026-08-03T04:00:00Z"),  # exactly 90 days
    ]
    ageing = metrics_of(tickets)["ageing"]
    assert ageing == {"lt_1d": 0, "1_3d": 1, "3_7d": 1, "7_30d": 0, "30_90d": 0, "ge_90d": 1}


def test_spam_and_deleted_are_excluded_everywhere():
    tickets = [
        ticket(1, "2026-10-05T12:00:00Z", spam=True, time_entries=[time_entry("01:00", "2026-10-05T13:00:00Z")],
               csat=csat("2026-10-06T12:00:00Z", 4, 4)),
        ticket(2, "2026-10-05T12:00:00Z", deleted=True),
        ticket(3, "2026-10-05T12:00:00Z"),
    ]
    metrics = metrics_of(tickets)
    assert metrics["volume"]["created"] == 1
    assert metrics["time"]["total_minutes"] is None
    assert metrics["csat"]["responses"] == 0


def test_custom_statuses_and_labels():
    tickets = [
        ticket(1, "2026-10-05T12:00:00Z", status=6, status_text="Waiting on Customer"),
        ticket(2, "2026-10-05T12:00:00Z", status=7, status_text=None),  # no label from the puller
        ticket(3, "2026-10-05T12:00:00Z", status=3, status_text=None, type=None, category=None, priority=4, priority_text=None,
               source=1001, source_text=None),
    ]
    result = compute_report_data(raw_file(tickets))
    breakdown = result.metrics["breakdown"]
    assert breakdown["status"] == {"Pending": 1, "Status 7": 1, "Waiting on Customer": 1}
    assert breakdown["type"] == {"Incident": 2, "Unspecified": 1}
    assert breakdown["category"] == {"Software": 2, "Uncategorized": 1}
    assert breakdown["priority"] == {"Medium": 2, "Urgent": 1}
    assert breakdown["source"] == {"Email": 2, "Source 1001": 1}
    assert result.metrics["backlog"]["waiting_on_client"] == 2  # Pending and "Waiting on Customer"; "Status 7" says nothing


def test_missing_stats_make_times_unknown_not_zero():
    tickets = [
        ticket(1, "2026-10-05T12:00:00Z", stats=None, status=2, fr_due_by="2026-10-05T13:00:00Z"),  # open, stats missing
        ticket(2, "2026-10-06T12:00:00Z", stats=None, status=5, due_by="2026-10-07T12:00:00Z"),  # closed, stats missing
    ]
    metrics = metrics_of(tickets)
    assert metrics["volume"] == {"created": 2, "resolved": 0, "open_at_start": 0, "open_at_end": 1}
    assert metrics["first_response"] == {"count": 0, "median_s": None, "mean_s": None, "p90_s": None, "awaiting": 0}
    assert metrics["sla"]["first_response"] == {"met": 0, "breached": 0, "rate": None}
    assert metrics["sla"]["resolution"]["breached"] == 0  # the closed one is not "open past its target"
    assert any("without statistics" in w for w in metrics["warnings"])


def test_tickets_missing_keys_do_not_break_the_metrics():
    bare = {"id": 9, "created_at": "2026-10-05T12:00:00Z"}  # nothing else at all
    metrics = metrics_of([bare])
    assert metrics["volume"]["created"] == 1
    assert metrics["breakdown"]["priority"] == {"Unspecified": 1}
    assert metrics["top_requesters"] == [{"name": "Unknown requester", "tickets": 1}]


# ---------------------------------------------------------------------------------------------
# Durations and percentiles


def test_first_response_and_awaiting_as_pulled():
    tickets = [
        ticket(1, "2026-10-05T12:00:00Z", stats={"first_responded_at": "2026-10-05T12:30:00Z"}),  # 1800 s
        ticket(2, "2026-10-31T23:00:00Z", stats={"first_responded_at": "2026-11-02T23:00:00Z"}),  # after the end: still counts
        ticket(3, "2026-10-06T12:00:00Z"),  # no reply, not resolved: awaiting
        ticket(4, "2026-10-06T12:00:00Z", stats={"resolved_at": "2026-10-07T12:00:00Z"}),  # resolved without reply: not awaiting
        ticket(5, "2026-10-06T12:00:00Z", stats={"first_responded_at": "2026-10-06T11:00:00Z"}),  # reply before creation: left out
    ]
    fr = metrics_of(tickets)["first_response"]
    assert fr == {"count": 2, "median_s": (1800 + 172800) // 2, "mean_s": (1800 + 172800) // 2, "p90_s": 172800, "awaiting": 1}


def test_p90_at_70_uses_integer_nearest_rank():
    # 70 replies after 1, 2, ..., 70 minutes. ceil(9 * 70 / 10) = 63, the 63rd value: 63 minutes.
    # (Floating ceil(0.9 * 70) is 64, which is wrong.)
    tickets = [ticket(i, "2026-10-05T12:00:00Z", stats={"first_responded_at": f"2026-10-05T{12 + i // 60:02d}:{i % 60:02d}:00Z"})
               for i in range(1, 71)]
    fr = metrics_of(tickets)["first_response"]
    assert fr["count"] == 70
    assert fr["p90_s"] == 63 * 60
    assert fr["median_s"] == 2130  # mean of the 35th and 36th: 35.5 minutes
    assert fr["mean_s"] == 2130


def test_duration_summary_rounds_half_up_and_handles_empty():
    second = 1_000_000
    assert duration_summary([]) == {"count": 0, "median_s": None, "mean_s": None, "p90_s": None}
    assert duration_summary([1 * second, 2 * second]) == {"count": 2, "median_s": 2, "mean_s": 2, "p90_s": 2}
    assert duration_summary([second // 2 - 1]) == {"count": 1, "median_s": 0, "mean_s": 0, "p90_s": 0}
    values = [s * second for s in range(1, 11)]  # n = 10: p90 is the 9th value
    assert duration_summary(values)["p90_s"] == 9
    assert duration_summary([5 * second])["p90_s"] == 5  # n = 1: the only value


def test_resolution_by_priority():
    tickets = [
        ticket(1, "2026-10-05T12:00:00Z", priority_text="High", stats={"resolved_at": "2026-10-05T13:00:00Z"}),
        ticket(2, "2026-10-05T12:00:00Z", priority_text="High", stats={"resolved_at": "2026-10-05T15:00:00Z"}),
        ticket(3, "2026-10-05T12:00:00Z", priority_text="Low", stats={"resolved_at": "2026-10-06T12:00:00Z"}),
    ]
    resolution = metrics_of(tickets)["resolution"]
    assert resolution["by_priority"] == {"High": {"count": 2, "median_s": 7200}, "Low": {"count": 1, "median_s": 86400}}
    assert resolution["median_s"] == 3 * 3600
    assert resolution["mean_s"] == (3600 + 3 * 3600 + 86400) // 3


# ---------------------------------------------------------------------------------------------
# SLA and first contact


def test_sla_first_response_met_breached_and_pending():
    due = "2026-10-05T14:00:00Z"
    tickets = [
        ticket(1, "2026-10-05T12:00:00Z", fr_due_by=due, stats={"first_responded_at": "2026-10-05T14:00:00Z"}),  # met (on the dot)
        ticket(2, "2026-10-05T12:00:00Z", fr_due_by=due, stats={"first_responded_at": "2026-10-05T14:00:01Z"}),  # breached
        ticket(3, "2026-10-05T12:00:00Z", fr_due_by=due),  # no reply, open, target before the end: breached
        ticket(4, "2026-10-31T23:00:00Z", fr_due_by="2026-11-01T05:00:00Z"),  # no reply, target after the end: pending
        ticket(5, "2026-10-05T12:00:00Z", fr_due_by=due, stats={"resolved_at": "2026-10-05T13:00:00Z"}),  # resolved without reply
        ticket(6, "2026-10-05T12:00:00Z", stats={"first_responded_at": "2026-10-05T20:00:00Z"}),  # no target
    ]
    result = compute_report_data(raw_file(tickets))
    assert result.metrics["sla"]["first_response"] == {"met": 1, "breached": 2, "rate": 1 / 3}
    assert result.details["sla_first_response_pending"] == 1
    assert result.details["sla_first_response_resolved_without_reply"] == 1


def test_sla_resolution_met_breached_and_overdue():
    tickets = [
        ticket(1, "2026-10-05T12:00:00Z", due_by="2026-10-06T12:00:00Z", stats={"resolved_at": "2026-10-06T12:00:00Z"}),  # met
        ticket(2, "2026-10-05T12:00:00Z", due_by="2026-10-06T12:00:00Z", stats={"resolved_at": "2026-10-07T12:00:00Z"}),  # late
        ticket(3, "2026-07-01T12:00:00Z", due_by="2026-07-03T12:00:00Z"),  # open since July, long overdue: breached again
        ticket(4, "2026-10-30T12:00:00Z", due_by="2026-11-03T12:00:00Z"),  # open, target after the end: not counted
        ticket(5, "2026-10-05T12:00:00Z", stats={"resolved_at": "2026-10-06T12:00:00Z"}),  # resolved, no target
        ticket(6, "2026-09-05T12:00:00Z", due_by="2026-09-06T12:00:00Z", stats={"resolved_at": "2026-09-07T12:00:00Z"}),  # last month
    ]
    result = compute_report_data(raw_file(tickets))
    assert result.metrics["sla"]["resolution"] == {"met": 1, "breached": 2, "rate": 1 / 3}
    assert result.details["sla_resolution_overdue_open"] == 1


def test_sla_rates_are_null_when_nothing_was_measured():
    sla = metrics_of([ticket(1, "2026-10-05T12:00:00Z")])["sla"]
    assert sla == {"first_response": {"met": 0, "breached": 0, "rate": None}, "resolution": {"met": 0, "breached": 0, "rate": None}}


def test_first_contact_resolution():
    resolved = {"resolved_at": "2026-10-06T12:00:00Z"}
    reply = conversation("2026-10-05T13:00:00Z")
    tickets = [
        ticket(1, "2026-10-05T12:00:00Z", stats=resolved, conversations=[reply]),  # one reply: first contact
        ticket(2, "2026-10-05T12:00:00Z", stats=resolved, conversations=[reply, conversation("2026-10-05T14:00:00Z")]),  # two
        ticket(3, "2026-10-05T12:00:00Z", stats=resolved, conversations=[
            conversation("2026-10-05T12:10:00Z", incoming=True),  # the requester
            reply,
            conversation("2026-10-05T13:10:00Z", private=True, source=2),  # private note
            conversation("2026-10-05T13:20:00Z", source=3), conversation("2026-10-05T13:30:00Z", source=4),  # status, meta
            conversation("2026-10-06T13:00:00Z", incoming=True, source=5),  # the survey
        ]),  # still one agent public reply: first contact
        ticket(4, "2026-10-05T12:00:00Z", stats={**resolved, "opened_at": "2026-10-06T10:00:00Z"}, conversations=[reply]),  # reopened
        ticket(5, "2026-10-05T12:00:00Z", stats={**resolved, "outbound_count": 1}),  # no conversations: outbound count 1
        ticket(6, "2026-10-05T12:00:00Z", stats={**resolved, "outbound_count": 2}),  # no conversations: outbound count 2
        ticket(7, "2026-10-05T12:00:00Z", stats=resolved, conversations=[reply, conversation("2026-10-05T15:00:00Z", source=2)]),  # public note
    ]
    assert metrics_of(tickets)["fcr"] == {"resolved": 7, "first_contact": 3, "rate": 3 / 7}


# ---------------------------------------------------------------------------------------------
# Satisfaction, time, after-hours, proactive


def test_csat_by_score_and_by_rating_code():
    def with_csat(i, response):
        return ticket(i, "2026-10-05T12:00:00Z", stats={"resolved_at": "2026-10-05T13:00:00Z"}, csat=response)

    tickets = [
        with_csat(1, csat("2026-10-06T08:15:12.343Z", 4, 4)),  # p = 1: positive (milliseconds in the stamp)
        with_csat(2, csat("2026-10-06T08:15:12Z", 3, 4)),  # p = 0.75: positive (the bound)
        with_csat(3, csat("2026-10-06T08:15:12Z", 2, 4, rating=101)),  # p = 0.5: negative (the bound; score beats rating)
        with_csat(4, csat("2026-10-06T08:15:12Z", 3, 5)),  # p = 0.6: neutral
        with_csat(5, csat("2026-10-06T08:15:12Z", rating=101, comment="Great work")),  # no score: 101 positive
        with_csat(6, csat("2026-10-06T08:15:12Z", rating=100)),  # 100 neutral
        with_csat(7, csat("2026-10-06T08:15:12Z", rating=103)),  # 103 positive
        with_csat(8, csat("2026-10-06T08:15:12Z", rating=-103)),  # otherwise negative
        with_csat(9, csat("2026-10-01T03:00:00Z", 4, 4)),  # 30 September in New York: not this month
        with_csat(10, csat("2026-10-06T08:15:12Z", rating=None)),  # neither score nor rating: not counted
    ]
    result = compute_report_data(raw_file(tickets))
    assert result.metrics["csat"] == {
        "responses": 8, "positive": 4, "neutral": 2, "negative": 2,
        "average_pct": pytest.approx((1 + 0.75 + 0.5 + 0.6) / 4), "positive_rate": 0.5,
    }
    assert result.details["csat_comments"] == 1
    assert result.details["csat_comment_texts"] == []  # text only when a setting allows it
    assert compute_report_data(raw_file(tickets), csat_comment_text=True).details["csat_comment_texts"] == ["Great work"]


def test_csat_average_is_null_without_scores():
    t = ticket(1, "2026-10-05T12:00:00Z", csat=csat("2026-10-06T08:15:12Z", rating=101))
    assert metrics_of([t])["csat"]["average_pct"] is None
    assert metrics_of([ticket(2, "2026-10-05T12:00:00Z")])["csat"] == {
        "responses": 0, "positive": 0, "neutral": 0, "negative": 0, "average_pct": None, "positive_rate": None}


def test_time_spent_over_99_hours_billable_and_by_agent():
    tickets = [
        ticket(1, "2026-09-01T12:00:00Z", time_entries=[  # an old ticket: its time in October still counts
            time_entry("105:30", "2026-10-10T12:00:00Z", agent_id=9001),  # 6330 minutes
            time_entry("00:45", "2026-10-11T12:00:00Z", agent_id=9001, billable=False),
            time_entry("02:00", "2026-09-30T12:00:00Z", agent_id=9001),  # September
            time_entry("01:00", None, agent_id=9555, start_time="2026-10-12T12:00:00Z"),  # no executed_at: start_time
            time_entry("00:30", None, agent_id=None, created_at="2026-10-12T12:00:00Z", billable=None),  # only created_at
        ]),
    ]
    time_spent = metrics_of(tickets)["time"]
    assert time_spent["total_minutes"] == 6330 + 45 + 60 + 30
    assert time_spent["billable_minutes"] == 6330 + 60 + 30
    assert time_spent["non_billable_minutes"] == 45
    assert time_spent["by_agent"] == {
        "Sam Agent": {"total_minutes": 6375, "billable_minutes": 6330, "non_billable_minutes": 45},
        "Agent 9555": {"total_minutes": 60, "billable_minutes": 60, "non_billable_minutes": 0},
        "Unknown agent": {"total_minutes": 30, "billable_minutes": 30, "non_billable_minutes": 0},
    }


def test_no_time_entries_is_unknown_not_zero():
    time_spent = metrics_of([ticket(1, "2026-10-05T12:00:00Z")])["time"]
    assert time_spent == {"total_minutes": None, "billable_minutes": None, "non_billable_minutes": None, "by_agent": {}}


@pytest.mark.parametrize(("text", "minutes"), [("105:30", 6330), ("00:01", 1), ("1:05", 65), ("999:59", 59999), ("bad", None), (None, None)])
def test_parse_time_spent(text, minutes):
    assert parse_time_spent(text) == minutes


def test_after_hours_default_and_configured(home):
    # 1 October 2026 is a Thursday; 3 October a Saturday. New York is UTC-4 then.
    tickets = [
        ticket(1, "2026-10-01T11:59:59Z"),  # 07:59:59: after hours
        ticket(2, "2026-10-01T12:00:00Z"),  # 08:00: business hours (the start is included)
        ticket(3, "2026-10-01T21:59:59Z"),  # 17:59:59: business hours
        ticket(4, "2026-10-01T22:00:00Z"),  # 18:00: after hours (the end is excluded)
        ticket(5, "2026-10-03T16:00:00Z"),  # Saturday noon: after hours
    ]
    raw = raw_file(tickets)
    assert compute_metrics(raw)["after_hours"]["created"] == 3
    six_days = load_settings(home, {"INTEGOREPORT_BUSINESS_HOURS": "Mon-Sat 07:00-19:00"}).report.metrics
    assert compute_metrics(raw, six_days)["after_hours"]["created"] == 0


def test_business_hours_setting_parser(home):
    assert parse_business_hours("Mon-Fri 08:00-18:00") == (frozenset({0, 1, 2, 3, 4}), time(8), time(18))
    assert parse_business_hours("mon,wed,Sun 09:30-17:00") == (frozenset({0, 2, 6}), time(9, 30), time(17))
    for bad in ("Mon-Fri", "Funday 08:00-18:00", "Mon-Fri 18:00-08:00", "Mon-Fri 8-18"):
        with pytest.raises(ConfigError):
            parse_business_hours(bad)
    with pytest.raises(ConfigError):
        load_settings(home, {"INTEGOREPORT_BUSINESS_HOURS": "always"})


def test_proactive_tags_whole_word_case_insensitive(home):
    tickets = [
        ticket(1, "2026-10-05T12:00:00Z", tags=["Maintenance"]),  # counts
        ticket(2, "2026-10-05T12:00:00Z", tags=["maintenance-window"]),  # not a whole tag
        ticket(3, "2026-10-05T12:00:00Z", tags=["PROACTIVE"]),  # counts
        ticket(4, "2026-10-05T12:00:00Z", tags=["unproactive", "vip"]),
        ticket(5, "2026-10-05T12:00:00Z", custom_fields={"proactive_case": True}),  # counts
        ticket(6, "2026-10-05T12:00:00Z", custom_fields={"proactive_case": "false"}),
        ticket(7, "2026-10-05T12:00:00Z", custom_fields={"proactive_case": None}),
        ticket(8, "2026-09-05T12:00:00Z", tags=["proactive"]),  # created last month
    ]
    raw = raw_file(tickets)
    assert compute_metrics(raw)["proactive"]["created"] == 3
    patching = load_settings(home, {"INTEGOREPORT_PROACTIVE_TAGS": "vip, patching"}).report.metrics
    assert compute_metrics(raw, patching)["proactive"]["created"] == 2  # vip on 4, plus the custom field on 5


# ---------------------------------------------------------------------------------------------
# Lists: requesters, trend, recent tickets


def test_top_requesters_ties_by_name_and_missing_names():
    def by(i, requester_id, name):
        return ticket(i, "2026-10-05T12:00:00Z", requester_id=requester_id,
                      requester={"id": requester_id, "name": name, "email": "x@example.com"} if name else None)

    tickets = [by(1, 1, "Zoe"), by(2, 1, "Zoe"), by(3, 2, "Adam"), by(4, 2, "Adam"), by(5, 3, None), by(6, 4, "Bea"),
               by(7, 5, "Cy"), by(8, 6, "Dee")]
    assert metrics_of(tickets)["top_requesters"] == [
        {"name": "Adam", "tickets": 2}, {"name": "Zoe", "tickets": 2}, {"name": "Bea", "tickets": 1},
        {"name": "Cy", "tickets": 1}, {"name": "Dee", "tickets": 1},
    ]
    hidden = [by(1, 77, None)]
    result = compute_report_data(raw_file(hidden, warnings=["requester names are not available: the API key may not read requesters (403)"]))
    assert result.metrics["top_requesters"] == [{"name": "Requester 77", "tickets": 1}]
    assert result.details["requester_names_missing"] is True
    assert result.metrics["warnings"] == ["requester names are not available: the API key may not read requesters (403)"]


def test_trend_ends_with_this_reports_own_counts():
    tickets = [ticket(1, "2026-10-05T12:00:00Z", stats={"resolved_at": "2026-10-06T12:00:00Z"}), ticket(2, "2026-10-06T12:00:00Z")]
    raw = raw_file(tickets)
    raw["trend"][-1] = {"month": "2026-10", "created": 99, "resolved": None}
    del raw["trend"][0]  # May is missing
    trend = compute_metrics(raw)["trend"]
    assert [item["month"] for item in trend] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    no_figures = {"first_response_median_s": None, "resolution_median_s": None, "sla_resolution_rate": None}
    assert trend[0] == {"month": "2026-05", "created": None, "resolved": None, **no_figures}
    assert trend[-1] == {"month": "2026-10", "created": 2, "resolved": 1,
                         "first_response_median_s": None, "resolution_median_s": 86400, "sla_resolution_rate": None}


def test_recent_tickets_newest_first_at_most_25():
    tickets = [ticket(i, f"2026-10-{i:02d}T12:00:00Z", subject=f"Subject {i}") for i in range(1, 31)]
    tickets[29]["stats"]["resolved_at"] = "2026-10-30T14:30:00Z"
    recent = metrics_of(tickets)["recent_tickets"]
    assert len(recent) == 25
    assert [r["id"] for r in recent[:3]] == [30, 29, 28]
    assert recent[0] == {"id": 30, "subject": "Subject 30", "status_text": "Open", "priority_text": "Medium",
                         "created_at": "2026-10-30T08:00:00-04:00", "resolved_at": "2026-10-30T10:30:00-04:00", "resolution_s": 9000}
    assert recent[1]["resolved_at"] is None and recent[1]["resolution_s"] is None


# ---------------------------------------------------------------------------------------------
# The contract and bad input


def test_metrics_keys_are_the_contract():
    metrics = compute_metrics(synthetic_month(60))
    assert set(metrics) == {"schema_version", "client", "period", "volume", "breakdown", "first_response", "resolution", "sla", "fcr",
                            "csat", "time", "after_hours", "proactive", "ageing", "backlog", "top_requesters", "trend", "previous", "attention",
                            "recent_tickets", "warnings"}
    assert set(metrics["breakdown"]) == {"type", "priority", "source", "category", "status"}
    assert set(metrics["first_response"]) == {"count", "median_s", "mean_s", "p90_s", "awaiting"}
    assert set(metrics["resolution"]) == {"count", "median_s", "mean_s", "p90_s", "by_priority"}
    assert set(metrics["sla"]["first_response"]) == set(metrics["sla"]["resolution"]) == {"met", "breached", "rate"}
    assert set(metrics["fcr"]) == {"resolved", "first_contact", "rate"}
    assert set(metrics["csat"]) == {"responses", "positive", "neutral", "negative", "average_pct", "positive_rate"}
    assert set(metrics["backlog"]) == {"waiting_on_client", "ge_30d"}
    assert set(metrics["time"]) == {"total_minutes", "billable_minutes", "non_billable_minutes", "by_agent"}
    assert set(metrics["ageing"]) == {"lt_1d", "1_3d", "3_7d", "7_30d", "30_90d", "ge_90d"}
    assert set(metrics["recent_tickets"][0]) == {"id", "subject", "status_text", "priority_text", "created_at", "resolved_at", "resolution_s"}
    assert metrics["schema_version"] == 1 and metrics["client"] == {"id": 21000351606, "name": "Contoso Ltd"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "expected a JSON object"),
        ({"schema_version": 2, "tickets": []}, "newer than this IntegoReport reads"),
        ({"tickets": []}, "no valid schema_version"),
        ({**raw_file([]), "tickets": {}}, "'tickets' must be a list"),
        ({**raw_file([]), "tickets": [1]}, "every ticket must be a JSON object"),
        ({**raw_file([]), "period": {"start": "x", "end": "y", "timezone": "America/New_York"}}, "start before end"),
        ({**raw_file([]), "period": {**period_for(2026, 10, "UTC"), "timezone": "Mars/Olympus"}}, "unknown time zone"),
    ],
)
def test_bad_raw_data_is_a_one_line_data_error(raw, message):
    with pytest.raises(DataError) as caught:
        check_raw(raw)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def _with(mutate):
    """A one-ticket raw file (with a survey and a time entry) changed by `mutate`."""
    raw = raw_file([ticket(12, "2026-10-05T12:00:00Z", csat=csat("2026-10-06T08:00:00Z", 4, 4),
                           time_entries=[time_entry("1:00", "2026-10-06T12:00:00Z")])])
    mutate(raw)
    return raw


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["tickets"][0].update(requester_id={"id": 5}), "ticket 12: 'requester_id' must be a number or text, not an object"),
        (lambda r: r["tickets"][0].update(requester_id=[5]), "ticket 12: 'requester_id' must be a number or text, not a list"),
        (lambda r: r["tickets"][0].update(requester={"id": {"x": 1}, "name": "A"}), "ticket 12: 'requester.id' must be"),
        (lambda r: r["tickets"][0].update(id={"x": 1}), "ticket #1 in the file: 'id' must be a number or text"),
        (lambda r: r.update(generated_at="9999-12-31T23:59:59Z"), "'generated_at' is out of range: '9999-12-31T23:59:59Z'"),
        (lambda r: r.update(generated_at="0001-01-01T00:00:00+05:00"), "'generated_at' is out of range"),
        (lambda r: r["tickets"][0].update(created_at="9999-12-31T23:59:59-12:00"), "ticket 12: 'created_at' is out of range"),
        (lambda r: r["tickets"][0]["stats"].update(resolved_at="9999-01-01T00:00:00Z"), "ticket 12: 'stats.resolved_at' is out of range"),
        (lambda r: r["tickets"][0].update(due_by="1900-01-01T00:00:00Z"), "ticket 12: 'due_by' is out of range"),
        (lambda r: r["tickets"][0]["time_entries"][0].update(executed_at="9999-12-31T00:00:00Z"),
         "ticket 12: 'time_entries[0].executed_at' is out of range"),
        (lambda r: r["tickets"][0]["time_entries"][0].update(time_spent=float("nan")), "'time_entries[0].time_spent' must be a finite number"),
        (lambda r: r["tickets"][0]["time_entries"][0].update(agent_id={"id": 1}), "'time_entries[0].agent_id' must be a number or text"),
        (lambda r: r["tickets"][0]["csat"].update(score={"acquired_score": float("nan"), "total_score": 4}), "'csat.score.acquired_score' must be a finite"),
        (lambda r: r["tickets"][0]["csat"].update(score={"acquired_score": 1, "total_score": float("inf")}), "'csat.score.total_score' must be a finite"),
        (lambda r: r["tickets"][0]["csat"].update(created_at="9999-12-31T00:00:00Z"), "ticket 12: 'csat.created_at' is out of range"),
        (lambda r: r["client"].update(id={"id": 1}), "'client.id' must be a number or text"),
        (lambda r: r["period"].update(start="0001-01-01T00:00:00Z", end="0001-02-01T00:00:00Z"), "'period.start' is out of range"),
    ],
)
def test_malformed_raw_values_name_the_field(mutate, message):
    # Each of these crashed deep in the metrics ("unexpected TypeError/OverflowError/ValueError") before.
    raw = _with(mutate)
    with pytest.raises(DataError) as caught:
        compute_metrics(raw)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_odd_but_harmless_values_still_build():
    # Unreadable times stay "missing" (with a warning where it matters); a duration with absurd hours is unreadable.
    raw = _with(lambda r: r["tickets"][0]["time_entries"].append(time_entry("9" * 5000 + ":00", "2026-10-07T12:00:00Z")))
    raw["tickets"].append(ticket(13, "not a time"))
    metrics = compute_metrics(raw)
    assert metrics["volume"]["created"] == 1 and metrics["time"]["total_minutes"] == 60
    assert "1 time entry with an unreadable duration was left out" in metrics["warnings"]
    assert "1 ticket without a readable creation time was left out" in metrics["warnings"]
