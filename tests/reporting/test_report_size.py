"""The report stays under issue 13's 90 KB (Gmail clips past ~102 KB) with every section it can have,
and the slimming of premailer's output (utils/reporting/email_html.py) changes no text and no rendering."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from simulators.demo_ms365 import start_demo_source as start_ms365
from simulators.demo_sentinelone import start_demo_source as start_sentinelone
from tests.helpers.reports import build_outputs, compute_metrics, period_for, synthetic_month
from utils.core.period import report_period
from utils.reporting.email_html import tidy_inlined_html, tidy_style
from utils.reporting.report import ReportSettings, inline_css

SIZE_BUDGET = 90_000
LARGEST_DEMO_CLIENT = "21000351601"  # Harrow & Vance: the most tickets, licences and endpoints of the demo


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    """300+ new tickets (366 touching the month, as in Harrow & Vance's demo month), history, branding,
    attention and both security sections, pulled from the demo simulators over HTTP."""
    home = tmp_path_factory.mktemp("home")
    graph, ms365_step = start_ms365(home)
    s1, s1_step = start_sentinelone(home)
    try:
        period = report_period(None, "America/New_York")
        extra = {"ms365": ms365_step.pull(LARGEST_DEMO_CLIENT, period),
                 "sentinelone": s1_step.pull(LARGEST_DEMO_CLIENT, period)}
    finally:
        graph.stop()
        s1.stop()
    year, month = period.start.year, period.start.month
    raw = synthetic_month(366, period=period_for(year, month, "America/New_York"))
    raw["client"]["id"] = int(LARGEST_DEMO_CLIENT)
    earlier = [(year - (month - k <= 0), (month - k - 1) % 12 + 1) for k in range(1, 6)]
    history = {f"{y}-{m:02d}": compute_metrics(synthetic_month(60, seed=m, period=period_for(y, m, "America/New_York")))
               for y, m in earlier}
    settings = ReportSettings(msp_name="Northwind IT", logo_url="https://northwind.example/logo.png", accent_color="#7A1F5C",
                              contact="Call 555-0100 or write to help@northwind.example")
    html, _, metrics = build_outputs(raw, settings=settings, extra_raw=extra, history=history)
    return html, metrics


def test_a_full_300_plus_ticket_report_with_both_security_sections_stays_under_90_kb(full_report):
    html, metrics = full_report
    assert metrics["volume"]["created"] >= 300 and metrics["attention"] and metrics["previous"] is not None
    assert metrics["m365"]["licenses"] and metrics["s1"]["agents"]["total"]
    text = " ".join(lxml_html.fromstring(html).text_content().split())
    for heading in ("Needs your attention", "Six-month trend", "Where the work went", "Recent tickets", "Microsoft 365",
                    "Endpoint protection"):
        assert heading in text, heading
    size = len(html.encode("utf-8"))
    assert size < SIZE_BUDGET, size


def test_style_attributes_lose_only_optional_whitespace():
    assert tidy_style("font-family:Arial, Helvetica, sans-serif; padding:0 0 4px; border-bottom:1px solid #d9e2ec;") == (
        "font-family:Arial,Helvetica,sans-serif;padding:0 0 4px;border-bottom:1px solid #d9e2ec")
    assert tidy_style("width:100% !important") == "width:100% !important"
    assert tidy_style('font-family:"Segoe UI", Arial') == 'font-family:"Segoe UI", Arial'  # a quoted name: left alone


def test_tidy_touches_attributes_only_never_text():
    page = ('<html><head><style>@media (max-width:600px){.col{width:100%!important}}</style></head><body>'
            '<td class="col lbl" style="padding:4px; color:#111;" title=\'say style="a: b;"\'>'
            'style="c: d;" class="lbl"</td><p class="lbl">x</p></body></html>')
    tidied = tidy_inlined_html(page)
    assert '<td class="col" style="padding:4px;color:#111" title=\'say style="a: b;"\'>' in tidied
    assert 'style="c: d;" class="lbl"</td><p>x</p>' in tidied  # text as it was; an emptied class attribute goes


def test_inline_css_output_is_tidied_and_keeps_media_classes():
    html = inline_css('<html><head><style>.a { color: #111; margin: 0 0 4px; } .b { padding: 2px; }'
                      '@media only screen and (max-width: 600px) { .b { padding: 0 !important; } }</style></head>'
                      '<body><p class="a b">Hi: there; you</p></body></html>')
    assert '<p class="b" style="color:#111;margin:0 0 4px;padding:2px">Hi: there; you</p>' in html
