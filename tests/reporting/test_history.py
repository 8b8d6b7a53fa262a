"""The report history: stored by every build, read back for the trend and month-over-month figures."""

from __future__ import annotations

import json
import re

import pytest

import build_report
from tests.helpers.history import CLIENT, month_raw, write_raw
from utils.reporting.history import history_path, load_history, previous_figures, store_history
from utils.reporting.metrics import compute_metrics
from utils.reporting.report import build_outputs


def test_two_months_built_in_order_give_previous_and_a_resolved_bar(home, tmp_path):
    september, october = month_raw(9, 12, 9), month_raw(10, 8, 7)
    assert build_report.main([str(write_raw(home, september)), "--out", str(tmp_path / "sep.html"), "--json", str(tmp_path / "sep.json")]) == 0
    stored = home / "history" / str(CLIENT) / "2026-09.json"
    first = json.loads((tmp_path / "sep.json").read_text())
    assert json.loads(stored.read_text()) == first
    assert first["previous"] is None

    assert build_report.main([str(write_raw(home, october)), "--out", str(tmp_path / "oct.html"), "--json", str(tmp_path / "oct.json")]) == 0
    second = json.loads((tmp_path / "oct.json").read_text())
    assert second["previous"] == {
        "month": "2026-09",
        "volume": {key: first["volume"][key] for key in ("created", "resolved", "open_at_end")},
        "first_response": {"median_s": first["first_response"]["median_s"]},
        "resolution": {"median_s": first["resolution"]["median_s"]},
        "sla": {"first_response": {"rate": first["sla"]["first_response"]["rate"]}, "resolution": {"rate": first["sla"]["resolution"]["rate"]}},
        "csat": {"responses": first["csat"]["responses"], "positive": first["csat"]["positive"], "positive_rate": first["csat"]["positive_rate"]},
        "time": {"total_minutes": first["time"]["total_minutes"]},
    }
    assert second["previous"]["volume"] == {"created": 12, "resolved": 9, "open_at_end": 3}
    september_entry = second["trend"][-2]
    assert september_entry == {"month": "2026-09", "created": 12, "resolved": 9,
                               "first_response_median_s": first["first_response"]["median_s"],
                               "resolution_median_s": first["resolution"]["median_s"],
                               "sla_resolution_rate": first["sla"]["resolution"]["rate"]}
    assert second["trend"][-3]["resolved"] is None and second["trend"][-3]["sla_resolution_rate"] is None  # August: no history
    assert (home / "history" / str(CLIENT) / "2026-10.json").exists()

    # The report draws September's resolved bar: the resolved colour appears for September and October.
    without = (tmp_path / "sep.html").read_text(encoding="utf-8").count('bgcolor="#0f766e"')  # the legend and its own month
    assert (tmp_path / "oct.html").read_text(encoding="utf-8").count('bgcolor="#0f766e"') == without + 1


def test_rebuilding_a_month_replaces_its_history_file(home, tmp_path):
    raw = month_raw(9, 5, 2)
    write_raw(home, raw)
    assert build_report.main(["--out", str(tmp_path / "a.html")]) == 0
    raw = month_raw(9, 6, 6)
    write_raw(home, raw)
    assert build_report.main(["--out", str(tmp_path / "b.html")]) == 0
    files = sorted(p.name for p in (home / "history" / str(CLIENT)).iterdir())
    assert files == ["2026-09.json"]  # no temporary files left beside it
    assert json.loads((home / "history" / str(CLIENT) / "2026-09.json").read_text())["volume"]["resolved"] == 6


def test_history_is_keyed_by_client_id_not_name(home):
    metrics = compute_metrics(month_raw(9, 3, 1))
    metrics["client"]["name"] = "Renamed Ltd"
    path = store_history(home, metrics)
    assert path == history_path(home, CLIENT, "2026-09")
    assert set(load_history(home, CLIENT, "2026-10")) == {"2026-09"}
    assert load_history(home, 999, "2026-10") == {}


def test_a_broken_or_foreign_history_file_is_ignored_with_a_warning(home, caplog):
    folder = home / "history" / str(CLIENT)
    folder.mkdir(parents=True)
    (folder / "2026-09.json").write_text("{not json", encoding="utf-8")
    other = compute_metrics(month_raw(8, 2, 1))
    (folder / "2026-07.json").write_text(json.dumps(other), encoding="utf-8")  # August's figures under July's name
    assert load_history(home, CLIENT, "2026-10") == {}
    assert "2026-09.json" in caplog.text and "2026-07.json" in caplog.text
    _, _, metrics = build_outputs(month_raw(10, 2, 1), history=load_history(home, CLIENT, "2026-10"))
    assert metrics["previous"] is None


def test_previous_copies_values_as_stored_including_nulls():
    stored = {"volume": {"created": 4, "resolved": 0, "open_at_end": 4}, "first_response": {"median_s": None},
              "resolution": {"median_s": None}, "sla": {"first_response": {"rate": None}, "resolution": {"rate": 0.5}},
              "csat": {"responses": 0, "positive": 0}, "time": {"total_minutes": None}}
    previous = previous_figures({"2026-09": stored}, "2026-10")
    assert previous == {"month": "2026-09", **stored, "csat": {"responses": 0, "positive": 0, "positive_rate": None}}
    # A month stored by an older build has no positive_rate: its share is worked out from its counts, as its report showed it.
    older = {**stored, "csat": {"responses": 4, "positive": 3}}
    assert previous_figures({"2026-09": older}, "2026-10")["csat"] == {"responses": 4, "positive": 3, "positive_rate": 0.75}
    assert previous_figures({"2026-09": {**stored, "csat": {"responses": 4, "positive": 3, "positive_rate": 0.5}}},
                            "2026-10")["csat"]["positive_rate"] == 0.5  # as stored
    assert previous_figures({"2026-08": stored}, "2026-10") is None
    assert previous_figures({"2025-12": stored}, "2026-01")["month"] == "2025-12"


def test_trend_uses_history_only_where_it_exists():
    raw = month_raw(10, 3, 1)
    stored = compute_metrics(month_raw(6, 7, 7))
    metrics = compute_metrics(raw, history={"2026-06": stored})
    by_month = {item["month"]: item for item in metrics["trend"]}
    assert by_month["2026-06"]["created"] == 7 and by_month["2026-06"]["resolved"] == 7
    assert by_month["2026-06"]["sla_resolution_rate"] == stored["sla"]["resolution"]["rate"]
    assert by_month["2026-07"]["created"] == raw["trend"][2]["created"] and by_month["2026-07"]["resolved"] is None
    assert by_month["2026-10"]["created"] == metrics["volume"]["created"]


@pytest.mark.parametrize("path, value", [
    (("volume", "created"), "1e308"),
    (("time", "total_minutes"), "1e308"),
    (("sla", "resolution", "rate"), "NaN"),
    (("sla", "first_response", "rate"), "Infinity"),
    (("first_response", "median_s"), "-Infinity"),
    (("csat", "responses"), "1e999"),  # parses as inf
    (("volume", "open_at_end"), "1" + "0" * 400),  # a whole number far past any real count
    (("period", "label_note"), "NaN"),  # anywhere in the file, not only in the figures the report uses
], ids=lambda item: item if isinstance(item, str) and len(item) < 12 else None)
def test_a_history_month_with_inf_nan_or_1e308_is_ignored_with_a_warning(home, caplog, path, value):
    september = compute_metrics(month_raw(9, 12, 9))
    marker = 987654.25
    target = september
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = marker
    stored = history_path(home, CLIENT, "2026-09")
    stored.parent.mkdir(parents=True)
    stored.write_text(json.dumps(september).replace(str(marker), value), encoding="utf-8")

    assert load_history(home, CLIENT, "2026-10") == {}
    assert "ignoring the history file" in caplog.text and "2026-09.json" in caplog.text
    html, text, metrics = build_outputs(month_raw(10, 8, 7), history=load_history(home, CLIENT, "2026-10"))
    assert metrics["previous"] is None
    for output in (html, text, json.dumps(metrics)):
        assert not re.search(r"\b(inf|nan|infinity)\b", output, flags=re.I)


def test_a_history_file_that_is_a_pipe_is_ignored_with_a_warning(home, caplog):
    import os

    from tests.helpers.running import finishes

    stored = history_path(home, CLIENT, "2026-09")
    stored.parent.mkdir(parents=True)
    os.mkfifo(stored)
    assert finishes(lambda: load_history(home, CLIENT, "2026-10"), unblock=stored) == {}
    assert f"ignoring the history file {stored}" in caplog.text and "a named pipe" in caplog.text
    _, _, metrics = build_outputs(month_raw(10, 2, 1), history=load_history(home, CLIENT, "2026-10"))
    assert metrics["previous"] is None
