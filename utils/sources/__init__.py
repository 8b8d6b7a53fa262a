"""The data sources, each declared once (Freshservice, Microsoft 365, SentinelOne): settings, client, pull, check, section.

May import utils.core, utils.services, utils.delivery, utils.reporting and utils.sources; the run and the scripts loop over them.
"""

from __future__ import annotations

from utils.core.settings import TableSpec
from utils.reporting.section import AttentionRule, ReportSection
from utils.sources.freshservice import FRESHSERVICE
from utils.sources.ms365 import MS365
from utils.sources.sentinelone import SENTINELONE
from utils.sources.source import Source

# The order of the check table, of the pulls for each client and of the report's sections.
SOURCES: tuple[Source, ...] = (FRESHSERVICE, MS365, SENTINELONE)


def declared_sources() -> tuple[Source, ...]:
    """Every declared source, read when called (a test may extend SOURCES)."""
    return SOURCES


def report_sections() -> tuple[ReportSection, ...]:
    """The report's sections, in the declared order (Freshservice is the main body, not a section)."""
    return tuple(source.report for source in declared_sources() if source.report is not None)


def attention_rules() -> tuple[AttentionRule, ...]:
    """Every declared source's kinds of "Needs your attention" items."""
    return tuple(rule for source in declared_sources() for rule in source.attention)


def settings_tables() -> tuple[TableSpec, ...]:
    """The declared sources' own settings tables, for `load_settings(home, tables=...)`."""
    return tuple(source.settings for source in declared_sources() if source.settings is not None)
