"""The report: rendering, email safety, privacy, wording, and build_report.py as a command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lxml_html

from tests.helpers.reports import PRIVATE_MARKER, conversation, csat, raw_file, synthetic_month, ticket, time_entry
from utils.core.errors import DataError
from utils.core.settings import load_settings
from utils.reporting.email_checks import (
    SIZE_BUDGET,
    check_client_support,
    check_contrast,
    check_forbidden,
    check_markup,
    check_size,
    text_colours,
)
from utils.reporting.month_index import render_index
from utils.reporting.report import (
    ReportSettings,
    build_outputs,
    format_duration,
    format_pct,
    inline_css,
    load_raw,
    newest_raw_file,
    render_template,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_report_settings(monkeypatch):
    for name in ("INTEGOREPORT_MSP_NAME", "INTEGOREPORT_SHOW_CSAT_COMMENTS", "INTEGOREPORT_BUSINESS_HOURS", "INTEGOREPORT_PROACTIVE_TAGS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def month300():
    raw = synthetic_month(300)
    html, text, metrics = build_outputs(raw)
    return raw, html, text, metrics


def pull_demo_month(keep_conversation_text: bool = False) -> dict:
    """The biggest client of the simulator's demo account for October 2026, pulled over real HTTP by the puller."""
    from datetime import UTC, datetime

    from simulators.demo_freshservice import build_demo_account
    from simulators.freshservice import Simulator, SimulatorSettings
    from utils.core.period import report_period
    from utils.services.freshservice_client import FreshserviceClient
    from utils.services.freshservice_pull import AccountContext, pull_client_month

    now = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    simulator = Simulator(account=build_demo_account(now=now), settings=SimulatorSettings(api_key="report-test-key"))
    url = simulator.start()
    try:
        context = AccountContext(FreshserviceClient(url, "report-test-key"))
        period = report_period("2026-10", "America/New_York", now=now)
        return pull_client_month(context, "21000351601", period, "department", 4, now=now,
                                 keep_conversation_text=keep_conversation_text)
    finally:
        simulator.stop()


@pytest.fixture(scope="module", params=["synthetic", "demo"])
def month(request, month300):
    """A big month (about 300 tickets): the synthetic one, and the simulator's demo account pulled by the puller."""
    if request.param == "synthetic":
        return month300
    raw = pull_demo_month()
    html, text, metrics = build_outputs(raw)
    assert metrics["volume"]["created"] >= 250
    return raw, html, text, metrics


def visible_text(html: str) -> str:
    """The body's text as a reader sees it (the hidden preheader included), whitespace collapsed."""
    return re.sub(r"[ \t\r\n]+", " ", lxml_html.fromstring(html).find("body").text_content()).strip()


# ---------------------------------------------------------------------------------------------
# A full month


def test_full_month_has_every_section_in_order(month300):
    _, html, _, _ = month300
    text = visible_text(html)
    headings = ["Contoso Ltd", "Your month at a glance", "New tickets", "Six-month trend", "Agreed response and resolution targets",
                "Where the work went", "Time spent", "Satisfaction", "Open tickets handed to November", "Recent tickets",
                "How these numbers are counted", "Data pulled from Freshservice on November 1, 2026 at 05:00 (America/New York time)"]
    positions = [text.find(h) for h in headings]
    assert -1 not in positions, [h for h, p in zip(headings, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    assert "Your IT team" in text


# The email-safety checks are utils/reporting/email_checks.py, the same code as `build_report.py --check-template`.


def test_size_under_budget_for_300_tickets(month):
    _, html, _, _ = month
    assert check_size(html) == []
    assert len(html.encode("utf-8")) < SIZE_BUDGET


def test_no_forbidden_patterns_and_no_template_leftovers(month):
    _, html, text, _ = month
    assert check_forbidden(html) == []
    for output in (html, text):
        assert "{{" not in output and "{%" not in output and "{#" not in output


def test_document_structure_for_email(month):
    _, html, _, metrics = month
    assert check_markup(html) == []  # lang, title, alt, role="presentation" or <th>, scope, preheader first, px fonts, no leftovers
    doc = lxml_html.fromstring(html)
    assert doc.get("lang") == "en"
    # Charts are table cells: without a logo configured the report carries no image at all.
    assert list(doc.iter("img")) == []
    for th in doc.iter("th"):
        assert th.get("scope") == "col"
    # The preheader is the first thing in the body, hidden, and starts with the headline numbers.
    first = doc.find("body")[0]
    assert first.tag == "div" and "display:none" in first.get("style").replace(" ", "")
    volume = metrics["volume"]
    assert first.text_content().startswith(f"October 2026: {volume['created']:,} new, {volume['resolved']:,} resolved")


def test_media_rules_keep_important_and_css_is_inlined(month):
    _, html, _, _ = month
    head_style = lxml_html.fromstring(html).find(".//head/style").text
    assert "@media" in head_style and "!important" in head_style
    assert ".p {" not in head_style  # base rules were inlined, not left behind
    # The paragraph rule now sits on each paragraph (its class, used by no remaining rule, is dropped: utils/reporting/email_html.py).
    assert '<p style="margin:0 0 12px;font-size:15px;line-height:23px;color:#1f2933">' in html
    assert 'class="p"' not in html and 'class="container"' in html  # @media still reaches the classes it names


def test_inline_css_is_quiet(capfd):
    inline_css("<html><head><style>td{mso-line-height-rule:exactly;-webkit-text-size-adjust:100%}</style></head>"
               "<body><table role=\"presentation\"><tr><td>x</td></tr></table></body></html>")
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_text_contrast_at_least_4_5(month):
    _, html, _, _ = month
    assert len(list(text_colours(html))) > 100  # the check reads the report's texts, not an empty page
    assert check_contrast(html) == []


def test_no_feature_a_listed_client_does_not_support(month):
    # Gmail (desktop, iOS, Android), Outlook for Windows, Apple Mail: the caniemail table in the repository, no Node needed.
    _, html, _, _ = month
    errors = [finding.line() for finding in check_client_support(html) if finding.severity == "error"]
    assert errors == []


# ---------------------------------------------------------------------------------------------
# Privacy and escaping


def test_private_text_never_reaches_any_output(month300):
    raw, html, text, metrics = month300
    assert PRIVATE_MARKER in json.dumps(raw)  # planted in descriptions, bodies, private notes, time notes, custom fields
    for output in (html, text, json.dumps(metrics, ensure_ascii=False)):
        assert PRIVATE_MARKER not in output


def test_demo_month_bodies_and_descriptions_stay_out():
    raw = pull_demo_month(keep_conversation_text=True)  # raw files keep no text unless asked
    html, text, metrics = build_outputs(raw)
    subjects = " ".join(str(t.get("subject")) for t in raw["tickets"])
    secrets = {t.get("description_text") for t in raw["tickets"]}
    secrets |= {c.get("body_text") for t in raw["tickets"] for c in t.get("conversations") or []}
    secrets = {s.strip() for s in secrets if isinstance(s, str) and len(s.strip()) > 30 and s.strip() not in subjects}
    assert secrets
    outputs = (html, text, json.dumps(metrics, ensure_ascii=False))
    for secret in secrets:
        assert not any(secret in output for output in outputs), secret


def test_private_note_marker_on_a_single_ticket():
    marker = "SECRET-NOTE-42"
    t = ticket(1, "2026-10-05T12:00:00Z", description=f"<p>{marker}</p>", description_text=marker,
               stats={"first_responded_at": "2026-10-05T12:30:00Z", "resolved_at": "2026-10-05T14:00:00Z"},
               conversations=[conversation("2026-10-05T12:10:00Z", private=True, source=2, body=marker),
                              conversation("2026-10-05T12:30:00Z", body=f"public {marker}")],
               csat=csat("2026-10-06T08:00:00Z", 4, 4, comment="Fine"))
    html, text, metrics = build_outputs(raw_file([t]), settings=ReportSettings(show_csat_comments=True))
    for output in (html, text, json.dumps(metrics)):
        assert marker not in output


def test_ticket_text_is_escaped():
    hostile = "<script>alert(1)</script>"
    t = ticket(1, "2026-10-05T12:00:00Z", subject=hostile, category="<b>Cat</b>", type="<i>T</i>",
               requester={"id": 5, "name": "<img src=x onerror=alert(2)>", "email": "x@example.com"}, requester_id=5)
    raw = raw_file([t], client={"id": 1, "name": "Evil & <Co>"})
    html, text, _ = build_outputs(raw, settings=ReportSettings(msp_name="A&B <IT>"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "<img" not in html and "<b>Cat" not in html
    assert hostile in visible_text(html)  # shown as text
    assert "Evil &amp; &lt;Co&gt;" in html and "A&amp;B &lt;IT&gt;" in html
    assert hostile in text and "&lt;" not in text  # the plain-text version is not HTML-escaped


# ---------------------------------------------------------------------------------------------
# Months with little or missing data


def test_empty_month_is_short_and_friendly():
    raw = raw_file([])
    html, text, metrics = build_outputs(raw)
    words = visible_text(html)
    assert "A quiet month" in words
    assert "no tickets were raised or resolved in October 2026, and nothing is waiting" in words
    assert "Recent tickets" not in words and "Time spent" not in words
    assert "How these numbers are counted" in words
    assert metrics["volume"] == {"created": 0, "resolved": 0, "open_at_start": 0, "open_at_end": 0}
    assert "A QUIET MONTH" in text
    assert len(html.encode()) < 40_000


def test_empty_month_without_trend_history():
    raw = raw_file([], trend=[])
    html, _, metrics = build_outputs(raw)
    assert "Six-month trend" not in visible_text(html)
    assert metrics["trend"][-1] == {"month": "2026-10", "created": 0, "resolved": 0,
                                    "first_response_median_s": None, "resolution_median_s": None, "sla_resolution_rate": None}


def test_missing_data_says_not_available_with_the_reason():
    tickets = [ticket(i, "2026-10-05T12:00:00Z", requester=None) for i in range(1, 4)]
    raw = raw_file(tickets, warnings=["requester names are not available: the API key may not read requesters (403)"])
    html, text, metrics = build_outputs(raw)
    words = visible_text(html)
    assert "Not available: no satisfaction surveys were answered this month." in words
    assert "Not available: no time was logged on this client's tickets this month." in words
    assert "Names not available: the Freshservice API key may not read requesters" in words
    assert "requester names are not available" in words  # the puller's warning is in the footnote
    assert "Not available: no satisfaction surveys" in text
    # Nothing was measured for SLA, CSAT or first replies: no "0%" and no sentence about them.
    assert not re.search(r"(?<!\d)0%", words)
    assert "first reply within" not in words and "met their agreed target" not in words and "survey responses were" not in words
    assert metrics["csat"]["responses"] == 0 and metrics["time"]["total_minutes"] is None


def test_csat_comment_text_only_when_allowed():
    t = ticket(1, "2026-10-05T12:00:00Z", csat=csat("2026-10-06T08:00:00Z", 4, 4, comment="Lovely & quick"))
    raw = raw_file([t])
    html, _, _ = build_outputs(raw)
    assert "Lovely" not in html and "1 comment" in visible_text(html)
    html, text, _ = build_outputs(raw, settings=ReportSettings(show_csat_comments=True))
    assert "Lovely &amp; quick" in html and "Lovely & quick" in text


def test_recent_tickets_capped_with_a_count_of_the_rest():
    tickets = [ticket(i, f"2026-10-{i:02d}T12:00:00Z", subject=f"Subject number {i}") for i in range(1, 31)]
    html, text, _ = build_outputs(raw_file(tickets))
    words = visible_text(html)
    assert "Subject number 30" in words and "Subject number 6" in words and "Subject number 5 " not in words + " "
    assert "…and 5 more tickets created this month." in words
    assert "…and 5 more tickets created this month." in text


def test_summary_compares_with_last_month_and_skips_nulls():
    tickets = [ticket(i, "2026-10-05T12:00:00Z", stats={"first_responded_at": "2026-10-05T12:42:00Z"}) for i in range(1, 13)]
    raw = raw_file(tickets)
    raw["trend"][-2] = {"month": "2026-09", "created": 10, "resolved": 9}
    html, text, _ = build_outputs(raw)
    words = visible_text(html)
    assert "In October 2026 your team raised 12 tickets and we resolved 0." in words
    assert "That is 2 more new tickets than in September (10)." in words
    assert "Half of the new tickets had a first reply within 42\u00a0min." in words
    assert "fixed within" not in words  # no resolution time: no sentence
    assert "▲ 20% more than Sep" in words  # the tile: new tickets compared in percent from 10 up


def test_msp_name_and_settings_from_environment(monkeypatch):
    monkeypatch.setenv("INTEGOREPORT_MSP_NAME", "Northwind IT")
    monkeypatch.setenv("INTEGOREPORT_SHOW_CSAT_COMMENTS", "yes")
    monkeypatch.setenv("INTEGOREPORT_BUSINESS_HOURS", "Mon-Fri 09:00-17:00")
    settings = load_settings().report
    assert settings.msp_name == "Northwind IT" and settings.show_csat_comments
    html, _, _ = build_outputs(raw_file([ticket(1, "2026-10-05T12:00:00Z")]), settings=settings)
    assert "Northwind IT" in html and "Monday to Friday, 09:00 to 17:00" in visible_text(html)


def test_time_section_lists_agents():
    t = ticket(1, "2026-10-05T12:00:00Z", time_entries=[time_entry("105:30", "2026-10-06T12:00:00Z"),
                                                         time_entry("00:30", "2026-10-06T12:00:00Z", agent_id=9002, billable=False)])
    words = visible_text(build_outputs(raw_file([t]))[0])
    assert "106\u00a0h logged in 2 time entries: 105.5\u00a0h billable, 30\u00a0min non-billable." in words
    assert "Sam Agent" in words and "Riley Tech" in words


def test_footnote_speaks_to_the_client_and_the_edge_cases_live_in_the_docs(month300):
    from utils.reporting.metrics import SETTLED_CASES

    _, html, text, _ = month300
    for version in (visible_text(html), text):
        assert "Edge cases" not in version and "proactive_case" not in version
    assert "How these numbers are counted" in visible_text(html) and "HOW THESE NUMBERS ARE COUNTED" in text
    docs = (PROJECT_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert [case for case in SETTLED_CASES if case not in docs] == []
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/metrics.md" in readme
    for name, content in (("README.md", readme), ("docs/metrics.md", docs)):
        assert "../shared" not in content, f"{name} sends readers outside the repository"


def test_one_of_anything_is_singular_in_both_versions():
    # One survey response, one ticket more than last month, one ticket resolved that was already open.
    t = ticket(1, "2026-10-05T12:00:00Z", csat=csat("2026-10-06T08:00:00Z", 4, 4))
    raw = raw_file([t])
    raw["trend"][-2] = {"month": "2026-09", "created": 0, "resolved": 0}
    html, text, _ = build_outputs(raw)
    words = visible_text(html)
    for version in (words, re.sub(r"\s+", " ", text)):
        assert "1 survey response," in version and "1 survey responses" not in version
    assert "That is 1 more new ticket than in September (0)." in words
    assert "none of the new tickets; business hours are" in words  # not "none of new tickets"
    old = ticket(2, "2026-09-20T12:00:00Z", status=4, stats={"resolved_at": "2026-10-03T12:00:00Z"})
    words = visible_text(build_outputs(raw_file([old]))[0])
    assert "we resolved 1 ticket that was already open." in words


def test_html_and_text_say_the_same_sentences(month300):
    # Both versions render one context: every summary sentence and footnote line reads the same in each.
    raw, html, text, _ = month300
    context_text = re.sub(r"[ \t\r\n]+", " ", text)  # as visible_text: a no-break space stays one
    words = visible_text(html)
    from utils.reporting.metrics import compute_report_data
    from utils.reporting.report import build_context

    result = compute_report_data(raw)
    context = build_context(result.metrics, result.details, ReportSettings())
    for line in [*context["summary"], *context["definitions"], context["csat"]["lead"], context["backlog"]["lead"]]:
        line = re.sub(r"[ \t\r\n]+", " ", line)
        assert line in words and line in context_text, line


def test_backlog_sentence_is_the_same_in_html_and_text():
    tickets = [ticket(i, "2026-10-05T12:00:00Z", status=3, status_text="Pending") for i in (1, 2)]
    html, text, _ = build_outputs(raw_file(tickets))
    sentence = "2 open at the end of the month, by how long they have been open. 2 are waiting for your reply."
    assert sentence in visible_text(html) and sentence in re.sub(r"\s+", " ", text)


@pytest.mark.parametrize(("seconds", "text"), [(None, "n/a"), (45, "45\u00a0sec"), (2520, "42\u00a0min"), (5400, "1.5\u00a0h"),
                                               (7200, "2\u00a0h"), (3 * 86400, "3\u00a0days")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize(("rate", "text"), [(None, "n/a"), (0, "0%"), (0.001, "1%"), (0.996, "99%"), (1, "100%"), (0.5, "50%")])
def test_format_pct_never_overstates(rate, text):
    assert format_pct(rate) == text


# ---------------------------------------------------------------------------------------------
# Templates and files


def test_template_errors_are_one_line_data_errors(tmp_path):
    with pytest.raises(DataError, match="template not found"):
        render_template("missing_template.html", {})
    broken = tmp_path / "broken.html"
    broken.write_text("<p>{{ no_such_variable }}</p>")
    with pytest.raises(DataError, match="failed to render") as caught:
        render_template(broken, {})
    assert "\n" not in str(caught.value)
    bad_syntax = tmp_path / "syntax.html"
    bad_syntax.write_text("<p>{% if %}</p>")
    with pytest.raises(DataError, match="syntax error on line 1"):
        render_template(bad_syntax, {})


def test_load_raw_and_newest_file(tmp_path):
    older = raw_file([], generated_at="2026-11-01T06:00:00+00:00")
    newer = raw_file([], generated_at="2026-11-02T06:00:00+00:00")
    (tmp_path / "freshservice_2.json").write_text(json.dumps(newer))
    (tmp_path / "freshservice_1.json").write_text(json.dumps(older))  # written last, so the newest by mtime
    assert newest_raw_file(tmp_path).name == "freshservice_2.json"
    assert load_raw(tmp_path / "freshservice_2.json")["generated_at"] == "2026-11-02T06:00:00+00:00"
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(DataError, match=r"bad\.json: not an IntegoReport raw data file"):
        load_raw(tmp_path / "bad.json")
    with pytest.raises(DataError, match="no raw data file found"):
        newest_raw_file(tmp_path / "nothing")


# ---------------------------------------------------------------------------------------------
# build_report.py as a command


def run_build(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTEGOREPORT_", "FRESHSERVICE_"))}
    env["INTEGOREPORT_HOME"] = str(home)
    return subprocess.run([sys.executable, str(PROJECT_ROOT / "build_report.py"), *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    (home / "raw_data").mkdir(parents=True)
    return home


def test_cli_builds_from_the_newest_raw_file_from_any_directory(home, tmp_path):
    (home / "raw_data" / "freshservice_1.json").write_text(json.dumps(raw_file([ticket(1, "2026-10-05T12:00:00Z")])))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_build("--json", str(tmp_path / "m.json"), "--text", str(tmp_path / "r.txt"), home=home, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    html = (home / "output_report.html").read_text(encoding="utf-8")
    assert "Contoso Ltd" in html
    assert json.loads((tmp_path / "m.json").read_text())["volume"]["created"] == 1
    assert "YOUR MONTH AT A GLANCE" in (tmp_path / "r.txt").read_text(encoding="utf-8")


def test_cli_out_option_and_help(home, tmp_path):
    raw_path = tmp_path / "raw.json"
    raw_path.write_text(json.dumps(raw_file([])))
    result = run_build(str(raw_path), "--out", str(tmp_path / "x.html"), home=home, cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "x.html").exists()
    assert not (home / "output_report.html").exists()
    assert run_build("--help", home=home, cwd=tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("content", "template", "expected"),
    [
        (None, None, "no raw data file found"),
        ("{not json", None, "is not valid JSON"),
        ('{"schema_version": 1, "tickets": "nope"}', None, "wrong shape"),
        ('{"schema_version": 2, "tickets": []}', None, "schema_version 2 is newer"),
        ("VALID", "no_such_template.html", "template not found"),
        ("VALID", "BROKEN", "failed to render"),
        (json.dumps(raw_file([ticket(7, "2026-10-05T12:00:00Z", requester_id={"id": 5})])), None,
         "ticket 7: 'requester_id' must be a number or text, not an object"),
        (json.dumps(raw_file([], generated_at="9999-12-31T23:59:59Z")), None, "'generated_at' is out of range"),
    ],
)
def test_cli_errors_are_one_line_and_keep_the_old_report(home, tmp_path, content, template, expected):
    old_report = home / "output_report.html"
    old_report.write_text("OLD REPORT")
    args = []
    if content is not None:
        raw_path = home / "raw_data" / "freshservice_5.json"
        raw_path.write_text(json.dumps(raw_file([])) if content == "VALID" else content)
    if template == "BROKEN":
        broken = tmp_path / "broken.html"
        broken.write_text("<p>{{ missing_value }}</p>")
        template = str(broken)
    if template:
        args += ["--template", template]
    result = run_build(*args, home=home, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    if content not in (None, "VALID"):
        assert "freshservice_5.json" in lines[0]  # the message names the file
    assert "Traceback" not in result.stderr
    assert old_report.read_text() == "OLD REPORT"
    assert [p.name for p in home.iterdir() if p.name.startswith(".output_report")] == []


def test_building_never_touches_the_network(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the report builder tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    raw = synthetic_month(40)
    html, _, _ = build_outputs(raw, template=PROJECT_ROOT / "templates" / "email_report_template.html")
    assert "Contoso Ltd" in html


def test_cli_debug_shows_a_traceback(home, tmp_path):
    (home / "raw_data" / "freshservice_9.json").write_text("{broken")
    quiet = run_build(home=home, cwd=tmp_path)
    loud = run_build("--debug", home=home, cwd=tmp_path)
    assert quiet.returncode == loud.returncode == 1
    assert "Traceback" not in quiet.stderr and "Traceback" in loud.stderr


def test_render_index_for_the_batch():
    _, _, metrics = build_outputs(raw_file([ticket(1, "2026-10-05T12:00:00Z")]))
    page = render_index({"label": "October 2026"}, [
        {"client": {"id": 1, "name": "Contoso <Ltd>"}, "report": "contoso-ltd-1.html", "metrics": metrics, "tickets": 1, "error": None},
        {"client": {"id": 2, "name": "Fabrikam"}, "report": None, "metrics": None, "tickets": 0, "error": "403 on its tickets"},
    ])
    assert "Client reports for October 2026" in page
    assert 'href="contoso-ltd-1.html"' in page and "Contoso &lt;Ltd&gt;" in page
    assert "failed: 403 on its tickets" in page and "1 built, 1 failed" in page
    assert "{{" not in page
