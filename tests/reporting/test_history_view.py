"""Month-over-month in the report (tile changes, the on-time line) and the MSP's branding."""

from __future__ import annotations

import json
import re

import pytest
from lxml import html as lxml_html

import build_report
from tests.helpers.history import CLIENT, month_raw, write_raw
from tests.helpers.reports import build_outputs, compute_metrics, raw_file, ticket
from utils.reporting.branding import brand_context, contrast
from utils.reporting.history_view import count_change, duration_change, minutes_change, rate_change, sla_line, tile_changes
from utils.reporting.report import ReportSettings


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", lxml_html.fromstring(html).find("body").text_content()).strip()


# ---------------------------------------------------------------------------------------------
# Changes against last month, worded so that better reads as better


def test_counts_change_in_percent_from_ten_and_in_units_below():
    assert count_change(46, 41, "Sep", "neutral") == {"arrow": "▲", "text": "12% more than Sep", "tone": "neutral"}
    assert count_change(2, 5, "Sep", "worse")["text"] == "3 fewer than Sep"
    assert count_change(2, 5, "Sep", "worse")["tone"] == "better"  # fewer open tickets is better
    assert count_change(30, 40, "Sep", "better")["tone"] == "worse"  # fewer resolved is worse
    assert count_change(7, 7, "Sep", "better")["text"] == "same as Sep"
    assert count_change(7, None, "Sep", "better") is None
    assert minutes_change(900, 600, "Sep")["text"] == "50% more than Sep"
    assert minutes_change(90, 30, "Sep")["text"] == "1\u00a0h more than Sep"


def test_a_shorter_time_is_faster_and_better():
    faster = duration_change(2400, 3000, "Sep")
    assert faster["arrow"] == "▼" and faster["text"] == "20% faster than Sep" and faster["tone"] == "better"
    slower = duration_change(3600, 3000, "Sep")
    assert slower["text"] == "20% slower than Sep" and slower["tone"] == "worse"
    assert duration_change(100, 0, "Sep") is None and duration_change(None, 30, "Sep") is None


def test_rates_change_in_points():
    assert rate_change(0.9, 0.85, "Sep")["text"] == "5 pts better than Sep"
    assert rate_change(0.8, 0.85, "Sep")["tone"] == "worse"
    assert rate_change(0.851, 0.849, "Sep")["text"] == "same as Sep"


def test_tiles_compare_with_previous_and_fall_back_to_the_trend():
    october = compute_metrics(month_raw(10, 8, 7))
    assert set(tile_changes(october)) == {"created", "resolved"}  # no stored month: only the trend's counts
    september = compute_metrics(month_raw(9, 12, 9))
    october = compute_metrics(month_raw(10, 8, 7), history={"2026-09": september})
    changes = tile_changes(october)
    assert changes["created"]["text"] == "33% fewer than Sep"
    assert changes["open_at_end"] == {"arrow": "▼", "text": "2 fewer than Sep", "tone": "better"}
    assert set(changes) == {"created", "resolved", "open_at_end", "hours", "first_response", "resolution", "sla", "csat"}


def test_second_month_report_shows_changes_and_the_on_time_line(home, tmp_path):
    assert build_report.main([str(write_raw(home, month_raw(9, 12, 9))), "--out", str(tmp_path / "sep.html")]) == 0
    first = visible_text((tmp_path / "sep.html").read_text())
    assert "Resolved on time (scale" not in first  # no history yet: one month, no line
    assert build_report.main([str(write_raw(home, month_raw(10, 8, 7))), "--out", str(tmp_path / "oct.html"),
                              "--text", str(tmp_path / "oct.txt")]) == 0
    words = visible_text((tmp_path / "oct.html").read_text())
    assert "▼ 33% fewer than Sep" in words and "▼ 2 fewer than Sep" in words
    assert "Resolved on time (scale" in words  # September and October: a line
    text = (tmp_path / "oct.txt").read_text()
    assert "fewer than Sep" in text and "resolved on time)" in text


def test_on_time_line_places_each_dot_by_its_rate():
    line = sla_line([{"sla_resolution_rate": 1.0}, {"sla_resolution_rate": 0.0}, {"sla_resolution_rate": None}, {"sla_resolution_rate": 0.5}])
    assert line["has_data"] and line["axis"] == "0% to 100%"
    top, bottom, missing, middle = line["points"]
    assert top["pad"] == 0 and bottom["below"] == 0 and not missing["known"] and missing["label"] == "–"
    assert middle["pad"] == middle["below"] == (line["height"] - line["dot"]) // 2
    assert [p["label"] for p in line["points"]] == ["100%", "0%", "–", "50%"]
    # Rates between 80% and 90%: the axis starts at 70%, so they do not sit on one flat line.
    close = sla_line([{"sla_resolution_rate": 0.8}, {"sla_resolution_rate": 0.9}])
    assert close["axis"] == "70% to 100%"
    assert close["points"][0]["pad"] - close["points"][1]["pad"] == round((close["height"] - close["dot"]) / 3)
    assert not sla_line([{"sla_resolution_rate": None}, {"sla_resolution_rate": 0.9}])["has_data"]  # one month is no line


# ---------------------------------------------------------------------------------------------
# Branding


def write_settings(home, text: str) -> None:
    (home / "integoreport.toml").write_text(text, encoding="utf-8")


def test_branding_settings_reach_the_report(home, tmp_path):
    write_settings(home, '[report]\nmsp_name = "Northwind IT"\nlogo_url = "https://northwind.example/logo.png"\n'
                         'accent_color = "#7A1F5C"\ncontact = "Call 555-0100 or write to help@northwind.example"\n')
    path = write_raw(home, month_raw(10, 4, 2))
    assert build_report.main([str(path), "--out", str(tmp_path / "r.html"), "--text", str(tmp_path / "r.txt")]) == 0
    html = (tmp_path / "r.html").read_text()
    doc = lxml_html.fromstring(html)
    images = list(doc.iter("img"))
    assert len(images) == 1 and images[0].get("src") == "https://northwind.example/logo.png" and images[0].get("alt") == "Northwind IT"
    assert 'bgcolor="#7a1f5c"' in html.lower()
    assert "Call 555-0100 or write to help@northwind.example" in visible_text(html)
    assert "Call 555-0100 or write to help@northwind.example" in (tmp_path / "r.txt").read_text()


def test_without_branding_the_stock_look_and_no_image(home, tmp_path):
    html, text, _ = build_outputs(month_raw(10, 4, 2), settings=ReportSettings())
    assert "<img" not in html and 'bgcolor="#243b53"' in html


@pytest.mark.parametrize("accent", ["#FFD700", "#F5F7FA", "#1F6FEB", "#000000", "#7A1F5C"])
def test_header_text_keeps_its_contrast_on_any_accent(accent):
    brand = brand_context("MSP", None, accent, None)
    assert contrast(brand["heading"], brand["header"]) >= 4.5 and contrast(brand["quiet"], brand["header"]) >= 4.5
    assert brand["bar"] == accent.lower()


@pytest.mark.parametrize("line, problem", [
    ('accent_color = "blue"', "accent_color"),
    ('accent_color = "#12345"', "accent_color"),
    ('logo_url = "http://northwind.example/logo.png"', "logo_url"),
])
def test_bad_branding_settings_exit_2_with_one_line(home, tmp_path, capsys, line, problem):
    write_settings(home, f"[report]\n{line}\n")
    path = write_raw(home, raw_file([ticket(1, "2026-10-05T12:00:00Z")]))
    capsys.readouterr()
    assert build_report.main([str(path), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert problem in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.html").exists() and not (home / "history").exists()


def test_history_file_holds_the_metrics_json(home, tmp_path):
    assert build_report.main([str(write_raw(home, month_raw(9, 3, 1))), "--out", str(tmp_path / "r.html"),
                              "--json", str(tmp_path / "m.json")]) == 0
    assert json.loads((home / "history" / str(CLIENT) / "2026-09.json").read_text()) == json.loads((tmp_path / "m.json").read_text())


def test_a_300_ticket_month_with_history_branding_and_attention_stays_under_90_kb():
    from tests.helpers.reports import period_for, synthetic_month

    history = {f"2026-{m:02d}": compute_metrics(synthetic_month(60, seed=m, period=period_for(2026, m, "America/New_York")))
               for m in range(5, 10)}
    settings = ReportSettings(msp_name="Northwind IT", logo_url="https://northwind.example/logo.png", accent_color="#7A1F5C",
                              contact="Call 555-0100 or write to help@northwind.example")
    html, _, metrics = build_outputs(synthetic_month(300), settings=settings, history=history)
    assert metrics["previous"]["month"] == "2026-09" and metrics["attention"]
    assert all(item["resolved"] is not None for item in metrics["trend"])
    words = visible_text(html)
    assert "Resolved on time (scale" in words and "than Sep" in words and "Needs your attention" in words
    assert len(html.encode("utf-8")) < 90_000


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_figure_that_is_not_finite_shows_no_change_and_no_dot(bad):
    assert count_change(12, bad, "Sep", "neutral") is None and count_change(bad, 12, "Sep", "neutral") is None
    assert minutes_change(600, bad, "Sep") is None and duration_change(bad, 3600, "Sep") is None
    assert rate_change(0.5, bad, "Sep") is None
    line = sla_line([{"sla_resolution_rate": bad}, {"sla_resolution_rate": 0.8}, {"sla_resolution_rate": 0.9}])
    assert [point["label"] for point in line["points"]] == ["–", "80%", "90%"]
