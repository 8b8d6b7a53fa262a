"""Issue 19, periods beyond a month: the parser and its errors, every script's flags, and where a period is kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

import build_report
import pull_info
import send_reports
from utils.core.errors import ConfigError
from utils.core.period import key_label, parse_period, period_from_block, period_from_key
from utils.reporting.history import has_month, history_path, metrics_month, store_history
from utils.sources import freshservice_command, ms365_command, sentinelone_command

NOW = datetime(2026, 11, 5, 9, tzinfo=UTC)


# ---- the parser


@pytest.mark.parametrize("options, kind, key, label, start, end", [
    ({}, "month", "2026-10", "October 2026", "2026-10-01", "2026-11-01"),
    ({"month": "2026-07"}, "month", "2026-07", "July 2026", "2026-07-01", "2026-08-01"),
    ({"quarter": "2026-Q3"}, "quarter", "2026-Q3", "Q3 2026", "2026-07-01", "2026-10-01"),
    ({"quarter": "2026-q1"}, "quarter", "2026-Q1", "Q1 2026", "2026-01-01", "2026-04-01"),
    ({"quarter": "previous"}, "quarter", "2026-Q3", "Q3 2026", "2026-07-01", "2026-10-01"),
    ({"date_from": "2026-07", "date_to": "2026-09"}, "range", "2026-07..2026-09", "July \u2013 September 2026", "2026-07-01", "2026-10-01"),
    ({"date_from": "2025-11", "date_to": "2026-01"}, "range", "2025-11..2026-01", "November 2025 \u2013 January 2026", "2025-11-01", "2026-02-01"),
    ({"date_from": "2025-11", "date_to": "2026-10"}, "range", "2025-11..2026-10", "November 2025 \u2013 October 2026", "2025-11-01", "2026-11-01"),
    ({"date_from": "2026-05", "date_to": "2026-05"}, "month", "2026-05", "May 2026", "2026-05-01", "2026-06-01"),
])
def test_each_form_gives_whole_months_in_the_report_zone(options, kind, key, label, start, end):
    period = parse_period("America/New_York", now=NOW, **options)
    assert (period.kind, period.key, period.month, period.label) == (kind, key, key, label)
    assert period.start.isoformat()[:10] == start and period.end.isoformat()[:10] == end
    assert period.start.utcoffset() == period.start.astimezone(period.zone).utcoffset()  # midnight in New York
    assert period_from_key(key, "America/New_York", now=NOW) == period and key_label(key) == label
    assert period_from_block(json.loads(json.dumps(period.as_dict()))) == period


def test_previous_quarter_in_january_is_the_last_quarter_of_the_year_before():
    period = parse_period("UTC", quarter="previous", now=datetime(2027, 1, 2, tzinfo=UTC))
    assert period.key == "2026-Q4" and period.months == ["2026-10", "2026-11", "2026-12"]


@pytest.mark.parametrize("options, message", [
    ({"month": "2026-10", "quarter": "2026-Q3"}, "choose one period: --month and --quarter"),
    ({"quarter": "2026-Q3", "date_from": "2026-07", "date_to": "2026-09"}, "choose one period"),
    ({"month": "2026-10", "date_to": "2026-09"}, "choose one period"),
    ({"date_from": "2026-07"}, "--from and --to go together"),
    ({"date_to": "2026-07"}, "--from and --to go together"),
    ({"date_from": "2026-09", "date_to": "2026-07"}, "is before --from"),
    ({"date_from": "2025-07", "date_to": "2026-07"}, "spans 13 months: at most 12"),
    ({"date_from": "2026-7", "date_to": "2026-09"}, "malformed --from"),
    ({"quarter": "2026-Q5"}, "malformed --quarter"),
    ({"quarter": "Q3"}, "malformed --quarter"),
    ({"quarter": "2027-Q1"}, "in the future"),
    ({"month": "2026-13"}, "malformed month"),
])
def test_mistakes_are_one_line_settings_errors(options, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_period("UTC", now=NOW, **options)
    assert "\n" not in str(caught.value) and caught.value.exit_code == 2


def test_a_period_not_over_yet_is_covered_up_to_now(caplog):
    period = parse_period("UTC", quarter="2026-Q4", now=NOW)
    assert period.key == "2026-Q4" and "not over yet" in caplog.text


# ---- every script takes the same flags


def _script_mains():
    return [("freshservice puller", lambda argv: freshservice_command.main(["123", "--tz", "UTC", *argv])),
            ("Microsoft 365 puller", lambda argv: ms365_command.main(["123", "--tz", "UTC", "--tenant", "x.onmicrosoft.com", *argv])),
            ("SentinelOne puller", lambda argv: sentinelone_command.main(["123", "--tz", "UTC", "--site", "657613730168123595", *argv])),
            ("pull_info", lambda argv: pull_info.main(["--tz", "UTC", *argv])),
            ("pull_info --backfill", lambda argv: pull_info.main(["--tz", "UTC", "--backfill", "2", *argv])),
            ("pull_info --send", lambda argv: pull_info.main(["--tz", "UTC", "--send", *argv])),
            ("send_reports", lambda argv: send_reports.main(argv))]


@pytest.mark.parametrize("name, main", _script_mains(), ids=[name for name, _ in _script_mains()])
@pytest.mark.parametrize("argv, message", [
    (["--quarter", "2026-Q3", "--month", "2026-10"], "choose one period"),
    (["--from", "2026-01"], "--from and --to go together"),
    (["--from", "2025-01", "--to", "2026-06"], "at most 12"),
    (["--quarter", "2026-Q9"], "malformed --quarter"),
])
def test_every_script_refuses_a_bad_period_with_exit_2_and_one_line(home, name, main, argv, message, capsys):
    (home / "integoreport.toml").write_text('[sentinelone]\nurl = "https://x.sentinelone.net"\n', encoding="utf-8")
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1, (name, error)


def test_build_report_refuses_a_raw_file_of_another_period(home, capsys):
    raw = home / "raw.json"
    raw.write_text(json.dumps({"schema_version": 1, "client": {"id": 7, "name": "Seven"}, "tickets": [],
                               "period": parse_period("UTC", quarter="2026-Q3", now=NOW).as_dict()}))
    assert build_report.main([str(raw), "--month", "2026-09"]) == 2
    error = capsys.readouterr().err
    assert "covers 2026-Q3, not 2026-09" in error and len(error.strip().splitlines()) == 1


# ---- history keeps periods apart from months


def _stored(period_key: str, created: int) -> dict:
    period = period_from_key(period_key, "UTC", now=NOW)
    return {"client": {"id": 7}, "period": period.as_dict(), "volume": {"created": created, "resolved": 0, "open_at_end": 0}}


def test_a_quarter_never_overwrites_a_month_in_history(home):
    july = store_history(home, _stored("2026-07", 5))
    quarter = store_history(home, _stored("2026-Q3", 40))
    the_range = store_history(home, _stored("2026-07..2026-09", 41))
    assert (july.name, quarter.name, the_range.name) == ("2026-07.json", "2026-Q3.json", "2026-07..2026-09.json")
    assert json.loads(july.read_text())["volume"]["created"] == 5
    assert metrics_month(json.loads(quarter.read_text())) == "2026-Q3"
    assert has_month(home, 7, "2026-07") and has_month(home, 7, "2026-Q3") and not has_month(home, 7, "2026-08")
    with pytest.raises(ValueError):
        history_path(home, 7, "../2026-Q3")
