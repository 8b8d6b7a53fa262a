"""Issue 19: the quarterly review: the status per area, the recommendations, the months side by side, the change."""

from __future__ import annotations

import copy

import pytest

import build_report
from tests.helpers.reports import period_for, raw_file, synthetic_month, ticket
from utils.core.period import parse_period, period_from_key
from utils.core.settings import ReportSettings
from utils.reporting.metrics import compute_metrics
from utils.reporting.quarterly_status import (
    AMBER,
    GREEN,
    RED,
    endpoint_status,
    microsoft_365_status,
    recommendations,
    recurring_issues,
    service_desk_status,
)
from utils.reporting.quarterly_view import change_against_previous, months_side_by_side
from utils.reporting.report import build_outputs
from utils.reporting.sample_quarter import busy_quarter_sample

ZONE = "America/New_York"
QUARTER = period_from_key("2026-Q3", ZONE, now=period_from_key("2026-11", ZONE).end)


def desk(rate=0.97, ge_90d=0, days_30_90=0, positive=0.9):
    return {"sla": {"resolution": {"rate": rate}}, "ageing": {"ge_90d": ge_90d, "30_90d": days_30_90}, "csat": {"positive_rate": positive}}


@pytest.mark.parametrize("metrics, status, words", [
    (desk(), GREEN, "on time"),
    (desk(rate=None), GREEN, "on time"),
    (desk(rate=0.79), RED, "79% of tickets were resolved on time"),
    (desk(ge_90d=2), RED, "2 tickets have been open for 90 days"),
    (desk(rate=0.94), AMBER, "94%"),
    (desk(days_30_90=1), AMBER, "1 ticket has been open for 30 days"),
    (desk(positive=0.7), AMBER, "70% of ratings were positive"),
])
def test_service_desk_status_follows_the_documented_rules(metrics, status, words):
    result = service_desk_status(metrics)
    assert result["status"] == status and words in result["reason"]


def m365(admins=0, rate=1.0, change=0.5, disabled=0):
    return {"mfa": {"eligible": 10, "admins_without": admins, "rate": rate}, "secure_score": {"end": {"score": 50}, "change": change},
            "users": {"disabled_licensed": disabled}}


@pytest.mark.parametrize("section, status, words", [
    (m365(), GREEN, "Every user"),
    (m365(admins=1), RED, "1 administrator account without"),
    (m365(rate=0.75), RED, "Only 75%"),
    (m365(rate=0.95), AMBER, "95% of users"),
    (m365(change=-2.0), AMBER, "fell by 2.0 points"),
    (m365(disabled=2), AMBER, "2 disabled accounts still hold"),
])
def test_microsoft_365_status_follows_the_documented_rules(section, status, words):
    result = microsoft_365_status(section)
    assert result is not None and result["status"] == status and words in result["reason"]


def s1(open_now=0, not_mitigated=0, infected=0, out_of_date=0, created=3):
    return {"threats": {"open_now": open_now, "not_mitigated": not_mitigated, "created": created},
            "agents": {"infected": infected, "out_of_date": out_of_date, "offline": 0, "detect_only": 0}}


@pytest.mark.parametrize("section, status, words", [
    (s1(), GREEN, "Every one of the 3 threats found was stopped"),
    (s1(created=0), GREEN, "No threats were found"),
    (s1(open_now=1), RED, "1 threat is still open"),
    (s1(infected=2), RED, "2 threats are still open"),
    (s1(out_of_date=3), AMBER, "3 computers are out of date"),
])
def test_endpoint_status_follows_the_documented_rules(section, status, words):
    result = endpoint_status(section)
    assert result is not None and result["status"] == status and words in result["reason"]


def test_an_area_without_data_has_no_status():
    assert microsoft_365_status(None) is None and endpoint_status(None) is None and endpoint_status({"threats": None}) is None


def _ticket(number, created, category, requester):
    item = ticket(number, created, category=category)
    item["requester"] = {"id": requester, "name": f"Person {requester}"}
    return item


def test_issues_that_keep_coming_back_are_the_same_category_and_requester_three_times():
    tickets = [_ticket(1, "2026-07-02T15:00:00Z", "Printing", 1), _ticket(2, "2026-08-02T15:00:00Z", "Printing", 1),
               _ticket(3, "2026-09-02T15:00:00Z", "Printing", 1), _ticket(4, "2026-09-03T15:00:00Z", "Printing", 2),
               _ticket(5, "2026-07-03T15:00:00Z", "Email", 2), _ticket(6, "2026-07-04T15:00:00Z", "Email", 2),
               _ticket(7, "2026-06-04T15:00:00Z", "Email", 2),  # before the quarter
               _ticket(8, "2026-07-05T15:00:00Z", "Email", 2)]
    found = recurring_issues({"tickets": tickets}, QUARTER)
    assert found == [{"category": "Email", "requester": "Person 2", "tickets": 3},
                     {"category": "Printing", "requester": "Person 1", "tickets": 3}]
    assert recurring_issues({"tickets": tickets[:2]}, QUARTER) == []


def test_recommendations_are_ranked_at_most_five_each_with_why():
    metrics = {
        "attention": [{"kind": "threats_open", "text": "1 threat is open."}, {"kind": "waiting_on_client", "text": "3 tickets wait."},
                      {"kind": "admins_without_mfa", "text": "1 admin lacks MFA."}, {"kind": "old_open_tickets", "text": "Old tickets."}],
        "m365": {"improvement_actions": [{"title": "Small step", "gap": 1.0}, {"title": "Big step", "gap": 9.0}, {"title": "Mid", "gap": 5.0}]},
    }
    recurring = [{"category": "Printing", "requester": "Pat", "tickets": 4}]
    ranked = recommendations(metrics, recurring, {"warranty_ended": 2, "warranty_ending": 1})
    assert [item["text"] for item in ranked] == ["1 threat is open.", "1 admin lacks MFA.", "Look into Printing for Pat: 4 tickets this period.",
                                                 "Big step.", "Mid."]
    assert all(item["why"] for item in ranked) and "9 points" in ranked[3]["why"]
    calm = recommendations({"attention": [{"kind": "waiting_on_client", "text": "3 tickets wait."}]}, [], {"warranty_ended": 2, "warranty_ending": 1})
    assert [item["text"] for item in calm] == ["Plan to replace or extend the warranty of 3 devices.", "3 tickets wait."]
    assert recommendations({"attention": []}, []) == []


# ---- the months side by side and the change, from history


def _history():
    months = {f"2026-{month:02d}": compute_metrics(synthetic_month(40, seed=month, period=period_for(2026, month, ZONE)))
              for month in range(4, 10)}
    return months


def test_the_months_come_from_history_and_the_quarter_from_its_own_tickets():
    history = _history()
    quarter = compute_metrics(synthetic_month(120, period=QUARTER.as_dict()))
    table = months_side_by_side(quarter, history, QUARTER)
    assert table["headings"] == ["Jul", "Aug", "Sep", "Q3"] and table["note"] == ""
    new = next(row for row in table["rows"] if row["label"] == "New")
    assert new["cells"] == [str(history[m]["volume"]["created"]) for m in ("2026-07", "2026-08", "2026-09")] + [str(quarter["volume"]["created"])]
    del history["2026-08"]
    table = months_side_by_side(quarter, history, QUARTER)
    assert table["rows"][0]["cells"][1] == "–" and "August" in table["note"]


def test_the_change_shows_medians_and_rates_only_against_a_period_built_whole():
    history = _history()
    quarter = compute_metrics(synthetic_month(120, period=QUARTER.as_dict()))
    summed = change_against_previous(quarter, history, QUARTER)
    labels = [row["label"] for row in summed["rows"]]
    assert summed["label"] == "Q2 2026" and "New" in labels and "Median time to resolve" not in labels and "not built as a whole" in summed["note"]
    before = sum(history[m]["volume"]["created"] for m in ("2026-04", "2026-05", "2026-06"))
    assert summed["rows"][0]["before"] == str(before)
    whole = dict(history, **{"2026-Q2": compute_metrics(synthetic_month(100, seed=2, period=period_from_key("2026-Q2", ZONE, now=QUARTER.end).as_dict()))})
    built = change_against_previous(quarter, whole, QUARTER)
    assert "Median time to resolve" in [row["label"] for row in built["rows"]] and built["note"] == ""
    assert change_against_previous(quarter, {}, QUARTER)["available"] is False


def test_the_quarterly_review_renders_under_100_kb_and_passes_the_email_checks(capsys):
    raw, extra, settings, history = busy_quarter_sample()
    html, text, metrics = build_outputs(copy.deepcopy(raw), settings=settings, extra_raw=extra, history=history)
    assert len(html.encode("utf-8")) < 100 * 1024
    for words in ("IT service review for Q3 2026", "Q3 2026 at a glance", "The months side by side", "Against Q2 2026",
                  "Recommendations for next quarter", "Service desk"):
        assert words in html
    assert metrics["period"]["kind"] == "quarter"
    assert build_report.main(["--check-template", "templates/quarterly_review_template.html"]) == 0
    assert "0 errors" in capsys.readouterr().out


def test_a_month_still_gets_the_monthly_report():
    html, _, _ = build_outputs(raw_file([]), settings=ReportSettings())
    assert "IT service report for October 2026" in html and "The months side by side" not in html
    assert parse_period(ZONE, month="2026-10", now=QUARTER.end.replace(year=2027)).is_month
