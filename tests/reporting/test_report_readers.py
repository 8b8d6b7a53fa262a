"""Issue 18, the report as its readers see it: a quiet month, a month with nothing resolved and the demo's busiest
client, checked in the HTML, the text part and the MSP's index; and a browser at 375 px finds nothing wider than the screen."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lxml import html as lxml_html

from tests.helpers.reports import build_outputs, raw_file, ticket
from utils.core.files import read_json
from utils.reporting.month_index import index_row, previous_records, render_index

OVERDUE_WORDS = "1 open ticket is past its resolution target"
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync"]


def visible_text(html: str) -> str:
    return " ".join(lxml_html.fromstring(html).text_content().split())


def empty_tables(html: str) -> list[str]:
    """Data tables (with a header cell) that have no row of data cells under their headers."""
    found = []
    for table in lxml_html.fromstring(html).iter("table"):
        rows = [row for row in table.iter("tr") if row.getparent() is table or row.getparent().getparent() is table]
        if any(row.findall("th") for row in rows) and not any(row.findall("td") for row in rows):
            found.append(" ".join(table.text_content().split())[:80])
    return found


@pytest.fixture(scope="module")
def quiet_month():
    """No tickets at all: nothing raised, resolved or open."""
    return build_outputs(raw_file([]))


@pytest.fixture(scope="module")
def nothing_resolved():
    """Two new tickets still open, and one from September past its resolution target: nothing resolved in October."""
    tickets = [
        ticket(1, "2026-09-20T14:00:00Z", due_by="2026-10-10T14:00:00Z"),
        ticket(2, "2026-10-06T14:00:00Z"),
        ticket(3, "2026-10-07T14:00:00Z"),
    ]
    return build_outputs(raw_file(tickets))


def test_a_quiet_month_states_no_rate_and_shows_no_empty_table(quiet_month):
    html, text, metrics = quiet_month
    assert metrics["sla"]["resolution"]["rate"] is None and metrics["sla"]["first_response"]["rate"] is None
    assert metrics["fcr"]["rate"] is None and metrics["csat"]["positive_rate"] is None
    words = visible_text(html)
    assert "quiet month" in words.lower()
    assert not re.search(r"\b0%", words) and not re.search(r"\b0%", text)
    assert empty_tables(html) == []
    assert not re.search(r"^\s+(Category|Priority|Type|Channel|Top requesters):\s*$", text, flags=re.M)


def test_nothing_resolved_says_the_overdue_ticket_in_words_never_a_rate(nothing_resolved):
    html, text, metrics = nothing_resolved
    resolution = metrics["sla"]["resolution"]
    assert metrics["volume"]["resolved"] == 0 and metrics["volume"]["created"] == 2
    assert resolution == {"met": 0, "breached": 1, "rate": None}  # the overdue ticket still counts as missed
    words = visible_text(html)
    tile = next(td for td in lxml_html.fromstring(html).iter("td") if td.get("class") == "kt"
                and "Resolved on time" in td.text_content())
    assert OVERDUE_WORDS in tile.text_content() and "%" not in tile.text_content()
    summary = words.split("Needs your attention")[0]
    assert OVERDUE_WORDS in summary
    assert "of resolutions met" not in words and "0% on time" not in words
    assert "No ticket with this target was resolved this month; " + OVERDUE_WORDS in words
    # the text part: the tile, the summary and the targets say it too
    assert "Resolved on time:           – (nothing resolved; " + OVERDUE_WORDS + ")" in text
    flowing = " ".join(text.split())  # the summary is wrapped at 76 columns
    assert flowing.count(OVERDUE_WORDS) >= 3 and "0% on time" not in flowing
    # the breakdowns have rows (two new tickets), so they show; nothing is an empty table
    assert "Category" in words and empty_tables(html) == []


def test_the_index_shows_a_dash_for_no_rate_and_the_overdue_words(quiet_month, nothing_resolved):
    page = render_index({"label": "October 2026"}, [
        {"client": {"id": 1, "name": "Quiet Co"}, "report": "quiet-co-1.html", "metrics": quiet_month[2], "tickets": 0, "error": None},
        {"client": {"id": 2, "name": "Stalled Ltd"}, "report": "stalled-ltd-2.html", "metrics": nothing_resolved[2], "tickets": 3,
         "error": None},
    ])
    rows = {name: next(row for row in page.split("<tr") if name in row) for name in ("Quiet Co", "Stalled Ltd")}
    assert "%" not in rows["Quiet Co"] and "n/a" not in rows["Quiet Co"] and "–" in rows["Quiet Co"]
    assert OVERDUE_WORDS in rows["Stalled Ltd"] and "0%" not in rows["Stalled Ltd"]
    # Stalled Ltd has something to act on (the waiting and the old ticket), so it comes first.
    assert page.index("Stalled Ltd") < page.index("Quiet Co")


@pytest.fixture(scope="module")
def demo_month(demo_run) -> Path:
    assert demo_run.exit_code == 0, demo_run.stderr
    # The month's folder (the demo also builds the previous quarter, as reports/YYYY-Qn/).
    return next(p for p in (demo_run.demo_home / "reports").glob("????-??") if re.fullmatch(r"\d{4}-\d{2}", p.name))


def busiest(folder: Path) -> Path:
    return max(folder.glob("*-*.html"), key=lambda p: read_json(p.with_suffix(".json"))["volume"]["created"])


def test_the_demo_busiest_client_in_words(demo_month):
    report = busiest(demo_month)
    html, text = report.read_text(encoding="utf-8"), report.with_suffix(".txt").read_text(encoding="utf-8")
    metrics = read_json(report.with_suffix(".json"))
    words = visible_text(html)
    assert len(html.encode("utf-8")) < 90_000
    kinds = [item["kind"] for item in metrics["attention"]]
    assert "agents_detect_only" in kinds and kinds.index("agents_detect_only") == kinds.index("agents_out_of_date") + 1
    detect_only = next(item["text"] for item in metrics["attention"] if item["kind"] == "agents_detect_only")
    assert detect_only in words and detect_only[:40] in " ".join(text.split())
    # Licence states in plain words, never Graph's status word
    assert "(Warning)" not in words and "(Warning)" not in text and "renewal due" in words and "renewal due" in text
    # The Secure Score chart starts at 0, and its caption says so with the first and last day's score
    assert re.search(r"Daily Secure Score this month: [\d.]+ on \w+ \d+, [\d.]+ on \w+ \d+ \(chart from 0 to [\d.]+", words)
    # Accounts and multifactor: the same count, or one clause on why not
    m365 = metrics["m365"]
    if m365["users"]["members"] != m365["mfa"]["eligible"]:
        assert f"Multifactor sign-in counts {m365['mfa']['eligible']:,} members" in words or "registration report" in words
    # one MSP everywhere: the report and its email
    email = next((demo_month / "outbox").glob(f"*{report.stem.rsplit('-', 1)[1]}*.eml")).read_text(encoding="utf-8", errors="replace")
    assert "Prepared by Demo MSP" in text and "From: Demo MSP <" in email and "Your IT team" not in html


def test_the_demo_quiet_client_reads_quiet(demo_month):
    report = next(demo_month.glob("alder-peak-outfitters-*.html"))  # nothing raised or resolved; one old ticket past target
    html, text = report.read_text(encoding="utf-8"), report.with_suffix(".txt").read_text(encoding="utf-8")
    words = visible_text(html)
    assert OVERDUE_WORDS in words and OVERDUE_WORDS in " ".join(text.split())
    assert "0% of resolutions" not in words and "0 of 1 on time" not in words and empty_tables(html) == []
    assert "No new tickets this month" in words and "No new tickets this month" in text
    index = (demo_month / "index.html").read_text(encoding="utf-8")
    row = next(row for row in index.split("<tr") if "Alder Peak" in row)
    assert OVERDUE_WORDS in row and "0%" not in row


def test_the_demo_index_puts_who_needs_a_look_first_with_security_figures(demo_month):
    rows = [index_row(demo_month, record) for record in previous_records(demo_month)]
    page = render_index({"label": "November 2026"}, rows)
    order = [name for name in re.findall(r'<a href="[^"]+">([^<]+)</a>', page)]
    counts = {row["client"]["name"].replace("&", "&amp;"): len(row["metrics"]["attention"]) for row in rows}
    assert [counts[name] for name in order] == sorted(counts.values(), reverse=True)
    heads = re.findall(r"<th[^>]*>([^<]+)</th>", page)
    assert "Needs a look" in heads and "Secure Score" in heads and "Open threats" in heads
    first = next(row for row in page.split("<tr") if order[0] in row)
    top = max(rows, key=lambda row: len(row["metrics"]["attention"]))
    assert top["metrics"]["attention"][0]["text"] in first.replace("&#39;", "'")


def overflowing(page, width: int) -> list[str]:
    """Elements whose box reaches past the viewport's right edge (what would make a phone scroll sideways)."""
    return page.evaluate("""(width) => {
        const wide = [];
        for (const el of document.body.querySelectorAll('*')) {
            const box = el.getBoundingClientRect();
            if (box.width && box.right > width + 0.5) wide.push(el.tagName + ' ' + (el.textContent || '').trim().slice(0, 40));
        }
        if (document.documentElement.scrollWidth > width) wide.push('page ' + document.documentElement.scrollWidth);
        return wide;
    }""", width)


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None and not Path(CHROMIUM).exists(),
                    reason="Chromium from the OS packages is not installed")
def test_nothing_in_the_index_or_a_report_is_wider_than_a_375_px_phone(demo_month):
    sync_api = pytest.importorskip("playwright.sync_api")
    pages = [demo_month / "index.html", *sorted(p for p in demo_month.glob("*-*.html"))]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            for width in (375, 700):
                page = browser.new_page(viewport={"width": width, "height": 800})
                for path in pages:
                    page.goto(path.as_uri())
                    assert overflowing(page, width) == [], (path.name, width)
                page.close()
        finally:
            browser.close()
