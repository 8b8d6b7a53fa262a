""""Needs your attention": what the client's owner can act on, in one short list near the top of the report.

The list is the `attention` key of the metrics JSON, computed once by the metrics
(`section.attention_items`) from the rules they are handed: `{"kind", "count", "text"}` items, only
counts above 0, most urgent first. Each source keeps its rules beside its figures
(`ms365_metrics.ATTENTION`, `sentinelone_metrics.ATTENTION`); Freshservice's are here. A rule reads
its count from the metrics JSON only, so a figure a rule needs is a key of it (report-metrics.md,
security-metrics.md define them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from utils.reporting.report_wording import period_words
from utils.reporting.section import AttentionRule, count_at, one_of


def nothing_text(period: Mapping[str, Any] | None = None) -> str:
    """The list's one line when nothing needs attention, in the period's words ("this quarter")."""
    return f"Nothing needs your attention {period_words(period)['this']}."


NOTHING_TEXT = nothing_text()  # a month's

# Ranks leave room between kinds, so a new source's rule slots in without renumbering: lower is more urgent.
FRESHSERVICE_ATTENTION = (
    AttentionRule(
        kind="waiting_on_client", rank=30, count=count_at("backlog", "waiting_on_client"),
        text=lambda n: one_of(n, "1 ticket is waiting for your reply.", "{n} tickets are waiting for your reply."),
    ),
    AttentionRule(
        kind="old_open_tickets", rank=70, count=count_at("backlog", "ge_30d"),
        text=lambda n: one_of(n, "1 ticket has been open for 30 days or more: tell us if it can be closed.",
                              "{n} tickets have been open for 30 days or more: tell us if they can be closed."),
    ),
)


def attention_view(items: Sequence[Mapping[str, Any]], period: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the report's "Needs your attention" section shows: the metrics' sentences, as they are."""
    return {"lines": [str(item["text"]) for item in items], "nothing": nothing_text(period) if not items else ""}
