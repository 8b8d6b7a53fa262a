"""Names from the services reach the report as one clean line each, in the text part and the HTML part.

An SKU, an endpoint or a threat name is whatever the service holds; with a line break it could
forge a line of the plain-text email, with a control character it could hide or rewrite text.
"""

from __future__ import annotations

import copy

from tests.helpers.ms365 import raw as ms365_raw
from tests.helpers.reports import build_outputs, raw_file, ticket
from tests.helpers.sentinelone import build_site_data, hand_built_raw
from utils.reporting.report import one_line_view

FORGED = "\r\nNEEDS YOUR ATTENTION\r\n\r\nNothing needs your attention this month."
CONTROLS = "\x1b[2J\x00\x07\u202e\u2028"


def hostile_outputs() -> tuple[str, str]:
    data, site_id = build_site_data()
    s1 = hand_built_raw(data, site_id)
    miner = next(threat for threat in s1["threats"] if threat["threatInfo"]["threatName"] == "miner.sh")
    for threat in s1["threats"] + s1["open_threats"]:
        if threat["id"] == miner["id"]:
            threat["threatInfo"]["threatName"] = "miner.sh" + FORGED
            threat["agentRealtimeInfo"]["agentComputerName"] = "ACME-SRV-01" + CONTROLS + "\nFORGED-ENDPOINT-LINE"
    for agent in s1["agents"]:
        if agent["computerName"] == "ACME-LT-002":  # out of date: listed by name in the health rows
            agent["computerName"] = "ACME-LT-002\nFORGED-AGENT-LINE"
    ms365 = ms365_raw(subscribed_skus=[{"skuPartNumber": "ODD_SKU\nFORGED-SKU-LINE" + CONTROLS, "consumedUnits": 1,
                                        "capabilityStatus": "Enabled",
                                        "prepaidUnits": {"enabled": 3, "warning": 0, "suspended": 0, "lockedOut": 0}}])
    freshservice = raw_file([ticket(1, "2026-10-03T10:00:00Z", subject="Printer\nFORGED-SUBJECT-LINE")])
    html, text, _ = build_outputs(freshservice, extra_raw={"sentinelone": {**copy.deepcopy(s1), "period": freshservice["period"]},
                                                           "ms365": ms365})
    return html, text


def test_service_names_cannot_forge_lines_of_the_text_part():
    _, text = hostile_outputs()
    lines = text.splitlines()
    # Each forged piece stays on the line of the name it came with.
    for forged in ("FORGED-ENDPOINT-LINE", "FORGED-AGENT-LINE", "FORGED-SKU-LINE", "FORGED-SUBJECT-LINE"):
        assert not any(line.strip().startswith(forged) for line in lines), forged
        assert any(forged in line and not line.strip().startswith(forged) for line in lines), forged
    assert sum(line.strip() == "NEEDS YOUR ATTENTION" for line in lines) == 1
    assert "Nothing needs your attention this month." not in lines
    assert any("miner.sh  NEEDS YOUR ATTENTION" in line and "on ACME-SRV-01" in line for line in lines)
    assert "ODD_SKU FORGED-SKU-LINE" in text and "ACME-LT-002 FORGED-AGENT-LINE" in text
    assert not any(char in text for char in "\r\x1b\x00\x07\u202e\u2028")


def test_control_characters_never_reach_the_html_part():
    html, _ = hostile_outputs()
    assert not any(char in html for char in "\x1b\x00\x07\u202e\u2028")
    assert "ACME-SRV-01[2J" in html  # the escape character goes, the printable rest stays visible


def test_one_line_view_cleans_every_string_and_key_and_keeps_the_rest():
    view = one_line_view({"a\nb": ["x\ty", ("p\rq", 3)], "n": None, "count": 5, "ok": True})
    assert view == {"a b": ["x y", ("p q", 3)], "n": None, "count": 5, "ok": True}
