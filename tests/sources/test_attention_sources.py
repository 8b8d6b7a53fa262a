""""Needs your attention" from the Microsoft 365 and SentinelOne simulators' demo data, pulled over HTTP."""

from __future__ import annotations

import pytest

from simulators.demo_ms365 import DEMO_TENANTS
from simulators.demo_ms365 import start_demo_source as start_ms365
from simulators.demo_sentinelone import start_demo_source as start_sentinelone
from tests.helpers.reports import ATTENTION_ORDER as KINDS
from tests.helpers.reports import build_outputs, period_for, raw_file, ticket
from utils.core.period import report_period

# kind -> how its count reads off the sections, as security-metrics.md defines them
FROM_SECTIONS = {
    "threats_open": lambda m: m["s1"]["threats"]["open_now"],
    "admins_without_mfa": lambda m: m["m365"]["mfa"]["admins_without"],
    "users_without_mfa": lambda m: (None if m["m365"]["mfa"]["eligible"] is None or m["m365"]["mfa"]["registered"] is None
                                    else m["m365"]["mfa"]["eligible"] - m["m365"]["mfa"]["registered"]),
    "agents_offline": lambda m: m["s1"]["agents"]["offline"],
    "agents_out_of_date": lambda m: m["s1"]["agents"]["out_of_date"],
    "agents_detect_only": lambda m: m["s1"]["agents"]["detect_only"],
    "disabled_licensed": lambda m: m["m365"]["users"]["disabled_licensed"],
    "unassigned_licenses": lambda m: m["m365"]["licenses_unassigned"],
}


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory):
    """Each demo client's month: a small Freshservice file plus its Microsoft 365 and SentinelOne pulls."""
    home = tmp_path_factory.mktemp("home")
    graph, ms365_step = start_ms365(home)
    s1, s1_step = start_sentinelone(home)
    try:
        period = report_period(None, "America/New_York")
        reports = {}
        for tenant in DEMO_TENANTS:
            client_id = tenant.department_id
            extra = {"ms365": ms365_step.pull(client_id, period)}
            if s1_step.configured(client_id):
                extra["sentinelone"] = s1_step.pull(client_id, period)
            year, month = period.start.year, period.start.month
            tickets = [ticket(1, period.start.strftime("%Y-%m-05T15:00:00Z"), status=3, status_text="Pending")]
            raw = raw_file(tickets, period=period_for(year, month, "America/New_York"))
            raw["client"]["id"] = int(client_id)
            reports[client_id] = build_outputs(raw, extra_raw=extra)[2]
    finally:
        graph.stop()
        s1.stop()
    return reports


def test_every_kind_matches_its_section_figure(demo_reports):
    seen = set()
    for client_id, metrics in demo_reports.items():
        items = {item["kind"]: item for item in metrics["attention"]}
        assert [item["kind"] for item in metrics["attention"]] == [k for k in KINDS if k in items], client_id  # the fixed order
        assert items["waiting_on_client"]["count"] == 1  # the Pending ticket
        for kind, read in FROM_SECTIONS.items():
            source = "s1" if kind in ("threats_open", "agents_offline", "agents_out_of_date", "agents_detect_only") else "m365"
            figure = read(metrics) if source in metrics else None
            if figure:
                assert items[kind]["count"] == figure, (client_id, kind)
                assert items[kind]["text"].startswith(f"{figure:,} ")
                seen.add(kind)
            else:
                assert kind not in items, (client_id, kind)  # zero, unreadable or not configured: nothing
    # The demo data exercises every security kind somewhere (if one disappears, this says which).
    assert seen == set(FROM_SECTIONS), set(FROM_SECTIONS) - seen


def test_a_tenant_without_p1_adds_no_mfa_items(demo_reports):
    metrics = demo_reports["21000351604"]  # its MFA registration needs Entra ID P1 or P2: unreadable
    assert metrics["m365"]["mfa"]["eligible"] is None
    kinds = {item["kind"] for item in metrics["attention"]}
    assert "users_without_mfa" not in kinds and "admins_without_mfa" not in kinds


def test_a_client_without_sentinelone_adds_no_endpoint_items(demo_reports):
    without = [metrics for metrics in demo_reports.values() if "s1" not in metrics]
    assert without  # the accounting firm has Microsoft 365 but no SentinelOne site
    for metrics in without:
        assert not {"threats_open", "agents_offline", "agents_out_of_date", "agents_detect_only"} & {item["kind"] for item in metrics["attention"]}
