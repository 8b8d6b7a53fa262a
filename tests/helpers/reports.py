"""Hand-made raw data for the report builder's tests and benchmark.

`raw_file` and `ticket` build small files whose right answers a test can work out by hand;
`synthetic_month` builds a realistic month of any size (seeded, so the same every run). They live in
utils/reporting/sample_month.py, because `build_report.py --check-template` renders the same busy month.
"""

from __future__ import annotations

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

# "Needs your attention": the list's fixed order, most urgent first (utils/reporting/defaults.py's rules by rank).
ATTENTION_ORDER = ("threats_open", "admins_without_mfa", "waiting_on_client", "users_without_mfa", "agents_offline",
                   "agents_out_of_date", "agents_detect_only", "old_open_tickets", "disabled_licensed", "unassigned_licenses")

__all__ = ["ATTENTION_ORDER", "OCTOBER_NY", "PRIVATE_MARKER", "conversation", "csat", "period_for", "raw_file", "stable_id", "stamp", "synthetic_month",
           "ticket", "time_entry", "utc"]
