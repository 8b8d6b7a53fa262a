"""Today's report when a caller names no sections: Microsoft 365 and SentinelOne, and every attention rule.

`compute_report_data`, `build_outputs` and `load_source_files` use these when they are handed no
sections or rules. Once every caller passes them from the declared sources (utils.sources.SOURCES),
this module can go.
"""

from __future__ import annotations

from utils.reporting import ms365_metrics, sentinelone_metrics
from utils.reporting.attention import FRESHSERVICE_ATTENTION
from utils.reporting.section import AttentionRule, ReportSection

DEFAULT_SECTIONS: tuple[ReportSection, ...] = (ms365_metrics.SECTION, sentinelone_metrics.SECTION)
DEFAULT_ATTENTION: tuple[AttentionRule, ...] = (*FRESHSERVICE_ATTENTION, *ms365_metrics.ATTENTION, *sentinelone_metrics.ATTENTION)
