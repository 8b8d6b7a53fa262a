"""Restyling needs no Python, and the metrics JSON is the one place a number is finished.

The colours live in templates/parts/palette.html and the bar macros in templates/parts/bars.html; the
accent colour reaches every header and chart; the metrics JSON holds every number the report shows,
the history stores exactly what --json writes, and the attention list is computed once.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html

import build_report
from tests.helpers.reports import OCTOBER_NY, raw_file, synthetic_month, ticket
from utils.reporting.branding import read_palette
from utils.reporting.metrics import compute_report_data
from utils.reporting.report import ReportSettings, build_outputs
from utils.reporting.report_format import format_count, format_pct
from utils.reporting.sample_sources import sample_ms365, sample_sentinelone
from utils.reporting.section import ReportSection

ROOT = Path(__file__).resolve().parents[2]
CLIENT = "21000351606"  # the synthetic month's client
ACCENT = "#aa0000"
COLOUR = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", lxml_html.fromstring(html).find("body").text_content()).strip()


def write_month(home: Path) -> Path:
    """A busy October with the same client's Microsoft 365 and SentinelOne files beside it; the Freshservice file's path."""
    folder = home / "raw_data"
    folder.mkdir(parents=True, exist_ok=True)
    period = dict(OCTOBER_NY)
    files = {"freshservice": synthetic_month(120, period=period), "ms365": sample_ms365(period, CLIENT),
             "sentinelone": sample_sentinelone(period, CLIENT)}
    for name, raw in files.items():
        (folder / f"{name}_{CLIENT}.json").write_text(json.dumps(raw), encoding="utf-8")
    return folder / f"freshservice_{CLIENT}.json"


def painted(doc) -> list[tuple[str, str]]:
    """(colour, where) for every filled area: bgcolor attributes and background or border colours in style attributes."""
    found = []
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        if element.get("bgcolor"):
            found.append((element.get("bgcolor").lower(), element.tag))
        for prop, value in re.findall(r"(background(?:-color)?|border(?:-top|-left|-bottom)?)\s*:\s*([^;]+)", element.get("style") or ""):
            found.extend((colour.lower(), prop) for colour in COLOUR.findall(value))
    return found


# ---------------------------------------------------------------------------------------------
# The accent reaches every header and chart


def test_an_accent_leaves_no_stock_blue_in_any_chart_or_header(home, tmp_path, monkeypatch):
    monkeypatch.setenv("INTEGOREPORT_ACCENT_COLOR", "#AA0000")
    out = tmp_path / "report.html"
    assert build_report.main([str(write_month(home)), "--out", str(out)]) == 0
    doc = lxml_html.fromstring(out.read_text(encoding="utf-8"))
    palette = read_palette()
    colours = {colour for colour, _ in painted(doc)}
    stock = {palette["bar"], palette["header"], palette["requesters"]}  # the blues; teal stays for resolved tickets
    assert colours & stock == set(), colours & stock
    assert ACCENT in colours
    words = visible_text(out.read_text(encoding="utf-8"))
    assert "Microsoft 365" in words and "Endpoint protection" in words  # both sections are there, and accented too

    def accented(heading: str) -> bool:
        """Whether the section that holds `heading` paints something in the accent."""
        cell = next(e for e in doc.iter("td") if "sec" in (e.get("class") or "").split() and heading in e.text_content()
                    and not any("sec" in (inner.get("class") or "").split() for inner in e.iter("td") if inner is not e))
        return ACCENT in {colour for colour, _ in painted(cell)}

    for heading in ("IT service report for", "New tickets", "Category", "Top requesters", "Secure Score at month end",
                    "Threats detected"):
        assert accented(heading), heading


def test_without_an_accent_the_palette_gives_the_stock_colours(home, tmp_path):
    out = tmp_path / "report.html"
    assert build_report.main([str(write_month(home)), "--out", str(out)]) == 0
    colours = {colour for colour, _ in painted(lxml_html.fromstring(out.read_text(encoding="utf-8")))}
    palette = read_palette()
    assert {palette["header"], palette["bar"], palette["requesters"], palette["security"], palette["resolved"]} <= colours


def test_a_restyled_palette_recolours_the_report_without_python(tmp_path):
    folder = tmp_path / "mine"
    (folder / "parts").mkdir(parents=True)
    stock = ROOT / "templates"
    (folder / "email_report_template.html").write_text((stock / "email_report_template.html").read_text(encoding="utf-8"), encoding="utf-8")
    palette = (stock / "parts" / "palette.html").read_text(encoding="utf-8")
    (folder / "parts" / "palette.html").write_text(palette.replace('set header = "#243b53"', 'set header = "#ffeecc"')
                                                   .replace('set old = "#c05621"', 'set old = "#5500aa"'), encoding="utf-8")
    raw = raw_file([ticket(1, "2026-08-01T12:00:00Z")])  # open for three months: an old bar
    html, _, _ = build_outputs(raw, template=folder / "email_report_template.html", settings=ReportSettings())
    colours = {colour for colour, _ in painted(lxml_html.fromstring(html))}
    assert {"#ffeecc", "#5500aa"} <= colours and "#243b53" not in colours and "#c05621" not in colours
    header = next(e for e in lxml_html.fromstring(html).iter("h1"))
    assert "#102a43" in header.get("style")  # a light header: the palette's dark heading, chosen for its contrast


def test_a_tile_change_is_coloured_by_its_tone_from_the_palette():
    september = compute_report_data(raw_file([ticket(i, "2026-09-05T12:00:00Z") for i in range(1, 6)],
                                             period={"start": "2026-09-01T04:00:00Z", "end": "2026-10-01T04:00:00Z",
                                                     "timezone": "America/New_York", "label": "September 2026"})).metrics
    html, _, _ = build_outputs(raw_file([ticket(1, "2026-10-05T12:00:00Z")]), settings=ReportSettings(),
                               history={"2026-09": september})
    tones = read_palette()["tones"]
    changes = [e.get("style") for e in lxml_html.fromstring(html).iter("div") if (e.text or "").startswith("▼ 4 fewer than Sep")]
    assert len(changes) == 2  # new tickets (neither better nor worse) and open at month end (fewer is better)
    assert tones["neutral"] in changes[0] and tones["better"] in changes[1]


# ---------------------------------------------------------------------------------------------
# The bar macros and the palette are for every template


def test_a_section_template_can_import_the_bar_macros(tmp_path):
    folder = tmp_path / "rmm"
    folder.mkdir()
    (folder / "rmm.html").write_text(
        '{% import "parts/bars.html" as bars %}{% import "parts/palette.html" as palette %}\n'
        '<tr><td class="sec"><h2 class="h2">{{ section.title }}</h2>\n'
        '{{ bars.bar_table("Device", section.view.rows, label="name", colour=brand.accent or palette.bar) }}\n</td></tr>\n',
        encoding="utf-8")
    (folder / "rmm.txt").write_text("{{ section.title|upper }}: {{ section.view.rows|length }} devices\n", encoding="utf-8")
    rmm = ReportSection(name="rmm", key="rmm", title="Devices", compute=lambda raw: {"patched": raw["patched"]},
                        context=lambda figures: {"rows": [{"name": "Patched", "value": str(figures["patched"]), "bar": 80, "rest": 20}]},
                        summary=lambda figures: None, templates=folder)
    settings = ReportSettings(accent_color="#AA0000")
    html, text, metrics = build_outputs(raw_file([]), settings=settings, extra_raw={"rmm": {"patched": 9}}, sections=[rmm])
    assert metrics["rmm"] == {"patched": 9}
    doc = lxml_html.fromstring(html)
    bars = [e for e in doc.iter("td") if (e.get("bgcolor") or "").lower() == ACCENT and e.get("width") == "80%"]
    assert len(bars) == 1 and "Patched" in visible_text(html)
    assert "DEVICES: 1 devices" in text


def test_no_production_python_under_utils_holds_a_colour_literal():
    found = []
    for path in sorted((ROOT / "utils").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and COLOUR.search(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {COLOUR.search(node.value).group()}")
    assert found == []


# ---------------------------------------------------------------------------------------------
# Every number finished in the metrics JSON; the history and --json the same; attention once


def test_the_metrics_hold_the_positive_share_and_the_30_day_count_and_the_view_shows_exactly_those(home, tmp_path):
    raw_path = write_month(home)
    out, text_out, json_out = tmp_path / "r.html", tmp_path / "r.txt", tmp_path / "r.json"
    assert build_report.main([str(raw_path), "--out", str(out), "--text", str(text_out), "--json", str(json_out)]) == 0
    metrics = json.loads(json_out.read_text(encoding="utf-8"))
    csat, ageing = metrics["csat"], metrics["ageing"]
    assert csat["responses"] and csat["positive_rate"] == csat["positive"] / csat["responses"]
    assert metrics["backlog"]["ge_30d"] == ageing["30_90d"] + ageing["ge_90d"] > 0
    words, text = visible_text(out.read_text(encoding="utf-8")), text_out.read_text(encoding="utf-8")
    share = format_pct(csat["positive_rate"])
    assert f"Positive ratings {share}" in words and f"{share} positive" in words and f"{share} positive" in text
    old = format_count(metrics["backlog"]["ge_30d"])
    assert f"{old} older than 30 days" in words and f"{old} of them older than 30 days" in words
    waiting = metrics["backlog"]["waiting_on_client"]
    assert f"{format_count(waiting)} tickets are waiting for your reply." in words


def test_a_null_share_stays_null():
    metrics = compute_report_data(raw_file([ticket(1, "2026-10-05T12:00:00Z")])).metrics
    assert metrics["csat"]["positive_rate"] is None and metrics["backlog"] == {"waiting_on_client": 0, "ge_30d": 0}


def test_the_history_file_equals_the_json_output_and_attention_is_the_same_everywhere(home, tmp_path):
    json_out, out, text_out = tmp_path / "r.json", tmp_path / "r.html", tmp_path / "r.txt"
    assert build_report.main([str(write_month(home)), "--out", str(out), "--text", str(text_out), "--json", str(json_out)]) == 0
    written = json_out.read_text(encoding="utf-8")
    stored = (home / "history" / CLIENT / "2026-10.json").read_text(encoding="utf-8")
    assert json.loads(stored) == json.loads(written)
    attention = json.loads(written)["attention"]
    kinds = [item["kind"] for item in attention]
    assert len(kinds) == len(set(kinds)) and {"threats_open", "users_without_mfa", "old_open_tickets"} <= set(kinds)
    words = visible_text(out.read_text(encoding="utf-8"))
    text = " ".join(text_out.read_text(encoding="utf-8").split())  # the text part wraps its lines
    for item in attention:
        assert words.count(item["text"]) == 1 and text.count(f"- {item['text']}") == 1, item["kind"]
    listed = " ".join(f"- {item['text']}" for item in attention)
    assert f"NEEDS YOUR ATTENTION {listed}" in text  # the report's list is the metrics' list, in order


@pytest.mark.parametrize("with_sections", [False, True])
def test_compute_report_data_gives_what_build_outputs_returns(with_sections):
    period = dict(OCTOBER_NY)
    raw = synthetic_month(80, period=period)
    extra = {"ms365": sample_ms365(period, CLIENT), "sentinelone": sample_sentinelone(period, CLIENT)} if with_sections else {}
    settings = ReportSettings()
    _, _, built = build_outputs(raw, settings=settings, extra_raw=extra)
    assert compute_report_data(raw, settings.metrics, extra_raw=extra).metrics == built
