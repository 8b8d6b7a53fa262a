"""SentinelOne, declared once: the [sentinelone] console, each client's `sentinelone_site`, its section and attention rules."""

from __future__ import annotations

import logging
import re
from typing import Any

from utils.core.period import Period
from utils.core.settings import SecretSpec, Settings, TableSpec
from utils.reporting import sentinelone_metrics
from utils.reporting.section import ReportSection
from utils.services import sentinelone_client, sentinelone_pull
from utils.services.sentinelone_client import SentinelOneClient
from utils.sources.source import Source, checked_url

log = logging.getLogger(__name__)


def _site(value: Any) -> str:
    # SentinelOne ids are strings of digits; the number itself is accepted too.
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not re.fullmatch(r"\d+", text):
        raise ValueError("must be the SentinelOne site id, digits in quotes")
    return text


SETTINGS = TableSpec(
    table="sentinelone",
    keys={"url": checked_url},
    required=frozenset({"url"}),
    secret=SecretSpec(sentinelone_client.TOKEN_ENV, sentinelone_client.TOKEN_FILE, sentinelone_client.TOKEN_WHAT),
    client_key="sentinelone_site",
    client_check=_site,
)


def pull(console: SentinelOneClient, settings: Settings, client_id: str, period: Period) -> dict:
    """One client's site for the month, with one log line of what it held."""
    document = sentinelone_pull.pull_client_month(console, client_id, sentinelone_pull.site_for(settings, client_id), period)
    log.info("%s", sentinelone_pull.describe(document))
    return document


def check(settings: Settings) -> str | None:
    return sentinelone_pull.check(settings)


SENTINELONE = Source(
    name=sentinelone_pull.SOURCE,
    title="SentinelOne",
    settings=SETTINGS,
    client_field="sentinelone_site",
    enabled=lambda settings: settings.sentinelone is not None,
    make_client=lambda settings: SentinelOneClient.from_settings(settings),  # one token for the whole run
    pull=pull,
    check=check,
    report=ReportSection(name=sentinelone_pull.SOURCE, key="s1", title="Endpoint protection", compute=sentinelone_metrics.compute,
                         context=sentinelone_metrics.context, summary=sentinelone_metrics.summary),
    demo="simulators.demo_sentinelone",
)
