"""The data sources, each declared once (Freshservice, Microsoft 365, SentinelOne): settings, client, pull, check, section.

May import utils.core, utils.services, utils.delivery, utils.reporting and utils.sources; the run and the scripts loop over them.
"""

from __future__ import annotations

from utils.sources.freshservice import FRESHSERVICE
from utils.sources.ms365 import MS365
from utils.sources.sentinelone import SENTINELONE
from utils.sources.source import Source

# The order of the check table, of the pulls for each client and of the report's sections.
SOURCES: tuple[Source, ...] = (FRESHSERVICE, MS365, SENTINELONE)


def declared_sources() -> tuple[Source, ...]:
    """Every declared source, read when called (a test may extend SOURCES)."""
    return SOURCES
