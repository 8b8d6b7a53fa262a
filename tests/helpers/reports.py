"""Hand-made raw data for the report builder's tests and benchmark.

`raw_file` and `ticket` build small files whose right answers a test can work out by hand;
`synthetic_month` builds a realistic month of any size (seeded, so the same every run). They live in
utils/reporting/sample_month.py, because `build_report.py --check-template` renders the same busy month.
"""

from __future__ import annotations

from typing import Any

from utils.reporting import email_checks, report
from utils.reporting.metrics import compute_report_data
from utils.reporting.sample_month import (
    OCTOBER_NY,
    PRIVATE_MARKER,
    conversation,
    csat,
    period_for,
    raw_file,
    stable_id,
    stamp,
    synthetic_month,
    ticket,
    time_entry,
    utc,
)
from utils.sources import attention_rules, report_sections

# "Needs your attention": the list's fixed order, most urgent first (the declared sources' rules by rank).
ATTENTION_ORDER = ("threats_open", "admins_without_mfa", "waiting_on_client", "users_without_mfa", "agents_offline",
                   "agents_out_of_date", "agents_detect_only", "old_open_tickets", "disabled_licensed", "unassigned_licenses")

__all__ = ["ATTENTION_ORDER", "build_outputs", "check_template", "compute_metrics", "OCTOBER_NY", "PRIVATE_MARKER", "conversation", "csat", "period_for", "raw_file", "stable_id", "stamp", "synthetic_month",
           "ticket", "time_entry", "utc"]


def build_outputs(raw: dict, **options: Any) -> tuple[str, str, dict]:
    """The report as the scripts build it: with every declared source's section and attention rules (utils.sources)."""
    options.setdefault("sections", report_sections())
    options.setdefault("attention", attention_rules())
    return report.build_outputs(raw, **options)


def compute_metrics(raw: dict, settings: Any = None, history: Any = None) -> Any:
    """The metrics JSON as the scripts make it: every declared source's sections and attention rules."""
    return compute_report_data(raw, settings, history=history, sections=report_sections(), attention=attention_rules()).metrics


def check_template(path: Any) -> list:
    """`--check-template` as build_report.py runs it: with the declared sources' sections."""
    return email_checks.check_template(path, report_sections(), attention_rules())
