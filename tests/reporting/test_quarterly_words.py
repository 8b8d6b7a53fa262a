"""The quarterly review speaks of its own period, never of "this month", and has a plain-text part of its own.

The reviews are the demo's (the session's `demo_run`: pulled from the simulators and built as cron builds them),
the busy sample quarter (with the quarter before it stored, so the change has rows) and hand-made ranges.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

from lxml import html as lxml_html

from tests.helpers.delivery import parts
from tests.helpers.reports import build_outputs, period_for, synthetic_month
from utils.core.files import read_json
from utils.core.period import parse_period, period_from_key
from utils.core.settings import DEFAULT_SUBJECT, DeliverySettings, ReportSettings
from utils.delivery.message import build_message, find_reports
from utils.reporting.quarterly_view import change_against_previous
from utils.reporting.report_wording import period_words
from utils.reporting.sample_quarter import busy_quarter_sample, sample_quarter_period
from utils.reporting.sample_sources import hostile_sample, sample_ms365, sample_sentinelone

ZONE = "America/New_York"
LATER = datetime(2027, 2, 1, tzinfo=UTC)  # "now" for the periods built here: after each of them
MONTH_WORDS = re.compile(r"this month|month end|the month\b", re.IGNORECASE)  # "at month end" included
TEXT_WIDTH = 76  # as templates/email_report_template.txt wraps
# The review's sections in its text part, in the HTML's order (the two security sections are the sources' own .txt).
REVIEW_HEADINGS = ("Q3 2026 AT A GLANCE", "NEEDS YOUR ATTENTION", "THE MONTHS SIDE BY SIDE", "AGAINST Q2 2026", "MICROSOFT 365",
                   "ENDPOINT PROTECTION", "DEVICES", "RECOMMENDATIONS FOR NEXT QUARTER", "HOW THESE NUMBERS ARE COUNTED")
STATUS_WORDS = ("On track", "Watch", "Act now")


def visible_text(html: str) -> str:
    return " ".join(lxml_html.fromstring(html).text_content().split())


def month_words(text: str) -> list[str]:
    return [text[max(0, found.start() - 40):found.end() + 20] for found in MONTH_WORDS.finditer(text)]


def review_own_lines(text: str) -> list[str]:
    """The text part's lines the review's template writes itself: all but the sources' sections (their own .txt)."""
    before, _, rest = text.partition("\nMICROSOFT 365\n")
    _, _, after = rest.partition("\nDEVICES\n")
    return (before + after).splitlines()


def demo_folder(demo_run, name: str | None = None) -> Path:
    """The demo's reports of `name` (2026-Q3), or of its month (the tests' clock picks it)."""
    assert demo_run.exit_code == 0, demo_run.stderr
    if name:
        return demo_run.demo_home / "reports" / name
    return next(folder for folder in (demo_run.demo_home / "reports").iterdir() if re.fullmatch(r"\d{4}-\d{2}", folder.name))


def range_block(first: str, last: str) -> dict[str, str]:
    return parse_period(ZONE, date_from=first, date_to=last, now=LATER).as_dict()


# -- the words ------------------------------------------------------------------------------------------------------

def test_the_period_words_follow_the_kind_of_period():
    month = period_words(period_for(2026, 10, ZONE))
    assert (month["this"], month["at_end"], month["start"], month["next"]) == (
        "this month", "at month end", "the start of the month", "next month")
    quarter = period_words(sample_quarter_period().as_dict())
    assert (quarter["this"], quarter["the"], quarter["at_end"], quarter["start"], quarter["next"]) == (
        "this quarter", "the quarter", "at quarter end", "the start of the quarter", "next quarter")
    span = period_words(range_block("2026-07", "2026-10"))
    assert span == {"noun": "period", "this": "these four months", "the": "these four months", "at_end": "at the end of October 2026",
                    "start": "the start of July 2026", "next": "the next four months"}
    assert period_words(range_block("2025-11", "2026-10"))["at_end"] == "at the end of October 2026"
    assert period_words(None)["this"] == "this month"  # metrics stored before periods had a kind


def test_every_demo_review_speaks_of_its_quarter_and_the_months_report_of_its_month(demo_run):
    reviews = sorted(demo_folder(demo_run, "2026-Q3").glob("*-[0-9]*.html"))
    assert len(reviews) == 6
    for review in reviews:
        html, text = visible_text(review.read_text(encoding="utf-8")), review.with_suffix(".txt").read_text(encoding="utf-8")
        assert not month_words(html), (review.name, month_words(html))
        assert not month_words(text), (review.name, month_words(text))
        assert "Recommendations for next quarter" in html and "RECOMMENDATIONS FOR NEXT QUARTER" in text
        assert "The quarter runs from midnight on July 1" in html and "this quarter" in html + text
    busiest = demo_folder(demo_run, "2026-Q3") / "harrow-vance-llp-21000351601.html"
    words = visible_text(busiest.read_text(encoding="utf-8"))
    for phrase in ("Secure Score at quarter end", "the start of the quarter", "Daily Secure Score this quarter",
                   "detected on your endpoints this quarter", "the daily scores rebuild the quarter"):
        assert phrase in words
    # The month's report keeps its month's words, in both parts.
    month = demo_folder(demo_run) / "harrow-vance-llp-21000351601.html"
    words, text = visible_text(month.read_text(encoding="utf-8")), month.with_suffix(".txt").read_text(encoding="utf-8")
    for phrase in ("this month", "Secure Score at month end", "since the start of the month", "at month end"):
        assert phrase in words
    assert "this month" in text and "Secure Score at month end" in text


def test_a_range_review_words_its_own_months():
    block = range_block("2026-07", "2026-10")
    html, text, metrics = build_outputs(synthetic_month(200, period=block), settings=ReportSettings(),
                                        extra_raw={"ms365": sample_ms365(block), "sentinelone": sample_sentinelone(block)})
    words = visible_text(html)
    assert metrics["period"]["kind"] == "range"
    assert not month_words(words) and not month_words(text), month_words(words) + month_words(text)
    for phrase in ("Recommendations for the next four months", "Secure Score at the end of October 2026",
                   "since the start of July 2026", "on your endpoints these four months", "The period runs from midnight on July 1"):
        assert phrase in words
    assert "RECOMMENDATIONS FOR THE NEXT FOUR MONTHS" in text and "Secure Score at the end of October 2026" in text
    assert re.search(r"^  Threats detected: +\d+  these four months$", text, re.MULTILINE)


# -- the text part --------------------------------------------------------------------------------------------------

def test_the_reviews_email_text_part_has_each_of_its_sections(demo_run):
    reports = find_reports(demo_folder(demo_run, "2026-Q3"))
    busiest = max(reports.values(), key=lambda report: read_json(report.html_path.with_suffix(".json"))["volume"]["created"])
    delivery = DeliverySettings(method="outbox", from_address="Demo MSP <reports@demo-msp.example.com>", subject=DEFAULT_SUBJECT)
    outgoing = build_message(busiest, delivery, "Demo MSP", "2026-Q3", ["IT contact <it@harrow-vance.example.com>"])
    text_bytes, _ = parts(message_from_bytes(outgoing.wire, policy=policy.default))  # type: ignore[arg-type]
    text = text_bytes.decode("utf-8").replace("\r\n", "\n")  # SMTP's line ends on the wire
    assert text == busiest.text_path.read_text(encoding="utf-8")  # the .txt build_report writes is the email's text part
    html = visible_text(busiest.html_path.read_text(encoding="utf-8"))

    assert text.startswith("Harrow & Vance LLP: IT service review for Q3 2026\n")
    lines = text.splitlines()
    where = [lines.index(heading) for heading in REVIEW_HEADINGS]
    assert where == sorted(where), "the text part's sections are in the HTML's order"
    for monthly_only in ("KEY NUMBERS", "SIX-MONTH TREND", "RECENT TICKETS", "TIME SPENT", "YOUR MONTH AT A GLANCE"):
        assert monthly_only not in lines
    # Each area's state and its reason, as the HTML's table shows them.
    areas = re.findall(r"^  (Service desk|Microsoft 365|Endpoint protection): +(\S.*)\n    (\S.*)$", text, re.MULTILINE)
    assert [area for area, _, _ in areas] == ["Service desk", "Microsoft 365", "Endpoint protection"]
    for area, state, reason in areas:
        assert state in STATUS_WORDS and f"{area} ● {state} {reason}" in html
    # The months side by side: a column per month and the quarter's own.
    assert re.search(r"^ +Jul +Aug +Sep +Q3$", text, re.MULTILINE)
    assert re.search(r"^  New +\d[\d,]* +\d[\d,]* +\d[\d,]* +\d[\d,]*$", text, re.MULTILINE)
    assert "Against Q2 2026" in html and "No stored figures for Q2 2026" in text  # the demo stores no Q2 of its own
    assert "60 devices recorded in the helpdesk for you" in text and "out of warranty" in text
    recommendations = " ".join(text.split("RECOMMENDATIONS FOR NEXT QUARTER\n")[1].split("HOW THESE NUMBERS")[0].split())
    assert re.match(r"1\. .+? Why: .+ 2\. ", recommendations)
    assert all(len(line) <= TEXT_WIDTH for line in review_own_lines(text)), [wide for wide in review_own_lines(text) if len(wide) > TEXT_WIDTH]


def test_the_text_part_carries_the_change_against_the_previous_quarter():
    raw, extra, settings, history = busy_quarter_sample()
    html, text, metrics = build_outputs(copy.deepcopy(raw), settings=settings, extra_raw=extra, history=history)
    change = change_against_previous(metrics, history, sample_quarter_period())
    assert change["available"] and change["rows"]
    assert "AGAINST Q2 2026" in text.splitlines()
    for row in change["rows"]:
        assert re.search(rf"^  {re.escape(row['label'])} +{re.escape(row['now'])} +{re.escape(row['before'])} +{re.escape(row['change'])}$",
                         text, re.MULTILINE), row
    assert not month_words(visible_text(html)) and not month_words(text)
    assert all(len(line) <= TEXT_WIDTH for line in review_own_lines(text))


# -- escaping -------------------------------------------------------------------------------------------------------

def test_the_reviews_words_are_escaped_like_the_rest():
    raw, extra, settings, probes = hostile_sample()  # every name holds <script>pN</script>
    quarter = period_from_key("2026-Q4", raw["period"]["timezone"], now=LATER).as_dict()
    for document in (raw, *extra.values()):
        document["period"] = quarter
    failure = "<script>p0</script>\nrefused"  # a reason from a server: markup, and a line break made a space
    html, text, metrics = build_outputs(raw, settings=settings, extra_raw={"sentinelone": extra["sentinelone"]},
                                        source_failures={"ms365": failure})
    assert metrics["period"]["kind"] == "quarter"
    assert "<script" not in html and "&lt;script&gt;p1&lt;/script&gt;" in html  # the client's name, escaped
    assert "The Microsoft 365 data could not be read this quarter: &lt;script&gt;p0&lt;/script&gt; refused" in html
    assert "Threats SentinelOne detected on your endpoints this quarter" in visible_text(html)
    # The plain text is not HTML: the names as they are, each on the line the template gives it.
    assert "&lt;" not in text and "<script>p1</script>: IT service review for Q4 2026" in text
    assert "The Microsoft 365 data could not be read this quarter: <script>p0</script> refused" in " ".join(text.split())
    assert not month_words(visible_text(html)) and not month_words(text)
