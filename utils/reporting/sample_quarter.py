"""The busy sample quarter `build_report.py --check-template` renders a quarterly review template with (issue 19)."""

from __future__ import annotations

import json
from typing import Any

from utils.core.period import Period, period_from_key
from utils.core.settings import ReportSettings
from utils.reporting.metrics import compute_metrics
from utils.reporting.sample_month import period_for, synthetic_month
from utils.reporting.sample_sources import SAMPLE_BRANDING, sample_ms365, sample_sentinelone

SAMPLE_QUARTER = "2026-Q3"
SAMPLE_ZONE = "America/New_York"


def sample_quarter_period() -> Period:
    return period_from_key(SAMPLE_QUARTER, SAMPLE_ZONE, now=period_from_key("2026-11", SAMPLE_ZONE).end)


def busy_quarter_sample() -> tuple[dict[str, Any], dict[str, dict], Any, dict[str, Any]]:
    """(raw, the other sources' raw files, ReportSettings, history) for a quarter with every part of the review at its longest:
    1,000 tickets touching Q3 2026, both security sections, each month and the quarter before stored, full branding."""
    period = sample_quarter_period()
    block = period.as_dict()
    history: dict[str, Any] = {}
    for month in range(4, 10):
        history[f"2026-{month:02d}"] = compute_metrics(synthetic_month(300, seed=month, period=period_for(2026, month, SAMPLE_ZONE)))
    previous = period_from_key("2026-Q2", SAMPLE_ZONE, now=period.end)
    history["2026-Q2"] = compute_metrics(synthetic_month(900, seed=2, period=previous.as_dict()))
    settings = ReportSettings(**json.loads(SAMPLE_BRANDING.read_text(encoding="utf-8")))
    extra = {"ms365": sample_ms365(block), "sentinelone": sample_sentinelone(block)}
    return synthetic_month(1000, period=block), extra, settings, history
