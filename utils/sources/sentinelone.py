"""SentinelOne, declared once: the [sentinelone] console, each client's `sentinelone_site`, its section and attention rules."""

from __future__ import annotations

import logging

from utils.core.period import Period
from utils.core.settings import Settings
from utils.core.source_tables import SENTINELONE_TABLE
from utils.reporting import sentinelone_metrics
from utils.services import sentinelone_pull
from utils.services.sentinelone_client import SentinelOneClient
from utils.sources.source import Source

log = logging.getLogger(__name__)


def pull(console: SentinelOneClient, settings: Settings, client_id: str, period: Period) -> dict:
    """One client's site for the month, with one log line of what it held."""
    document = sentinelone_pull.pull_client_month(console, client_id, sentinelone_pull.site_for(settings, client_id), period)
    log.info("%s", sentinelone_pull.describe(document))
    return document


def check(settings: Settings) -> str | None:
    """The console URL and the token, with one cheap call (sentinelone_pull.check); None when not configured."""
    return sentinelone_pull.check(settings)


SENTINELONE = Source(
    name=sentinelone_pull.SOURCE,
    title="SentinelOne",
    settings=SENTINELONE_TABLE,  # [sentinelone] url; SENTINELONE_API_TOKEN; [clients.ID] sentinelone_site
    client_field="sentinelone_site",
    enabled=lambda settings: settings.sentinelone is not None,
    make_client=lambda settings: SentinelOneClient.from_settings(settings),  # one token for the whole run
    pull=pull,
    check=check,
    report=sentinelone_metrics.SECTION,
    attention=sentinelone_metrics.ATTENTION,
    demo="simulators.demo_sentinelone",
)
