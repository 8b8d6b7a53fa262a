"""Issue 19: `pull_info.py --demo` also builds the demo's previous quarter and prints its path."""

from __future__ import annotations

import json
import re
from pathlib import Path

from utils.reporting.email_checks import check_html
from utils.reporting.email_rules import ERROR


def test_the_demo_builds_its_previous_quarter_beside_the_month(demo_run):
    assert demo_run.exit_code == 0, demo_run.stderr
    match = re.search(r"^Quarterly review for Harrow & Vance LLP: (.+\.html)$", demo_run.stdout, re.MULTILINE)
    assert match, demo_run.stdout
    review = Path(match.group(1))
    assert review.parent == demo_run.demo_home / "reports" / "2026-Q3" and review.is_file()
    html = review.read_text(encoding="utf-8")
    assert len(html.encode("utf-8")) < 100 * 1024
    assert not [finding for finding in check_html(html) if finding.severity == ERROR]
    for words in ("IT service review for Q3 2026", "The months side by side", "Devices</h2>", "Recommendations for next quarter"):
        assert words in html
    assert (review.parent / "index.html").is_file()
    # The quarter is kept apart: its history file, its archived raw files; the month's raw files stay in raw_data/.
    history = demo_run.demo_home / "history" / "21000351601"
    assert (history / "2026-Q3.json").is_file() and (history / "2026-09.json").is_file()
    stored = json.loads((history / "2026-09.json").read_text(encoding="utf-8"))
    assert stored["period"]["kind"] == "month" and stored["period"]["label"] == "September 2026"
    raw = json.loads((demo_run.demo_home / "raw_data" / "freshservice_21000351601.json").read_text(encoding="utf-8"))
    assert raw["period"]["kind"] == "month" and "devices" not in raw
    archived = demo_run.demo_home / "raw_data" / "archive" / "2026-Q3" / "freshservice_21000351601.json"
    assert json.loads(archived.read_text(encoding="utf-8"))["period"]["kind"] == "quarter"
