"""SentinelOne, declared once: the [sentinelone] console and its token, each client's `sentinelone_site`, the
client made from them, its pull, its check, its section and attention rules."""

from __future__ import annotations

import logging
import re
from typing import Any

from utils.core.errors import ConfigError
from utils.core.period import Period
from utils.core.secrets import SecretSpec
from utils.core.settings import Settings, TableSpec
from utils.core.settings_values import url_value
from utils.reporting import sentinelone_metrics
from utils.services import sentinelone_pull
from utils.services.sentinelone_client import SentinelOneClient
from utils.sources.source import Source, client_options

log = logging.getLogger(__name__)

SENTINELONE_API_TOKEN = SecretSpec("SENTINELONE_API_TOKEN", "sentinelone_token.txt", "SentinelOne API token")


def site_value(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # SentinelOne ids are strings of digits; accept the number too
    if not isinstance(value, str) or not re.fullmatch(r"\d+", value.strip()):
        raise ValueError(f"must be the SentinelOne site id, digits in quotes, not {value!r}")
    return value.strip()


# [sentinelone] url; SENTINELONE_API_TOKEN or sentinelone_token.txt; [clients.ID] sentinelone_site
SENTINELONE_TABLE = TableSpec(
    table="sentinelone",
    keys={"url": url_value},
    required=frozenset({"url"}),
    secret=SENTINELONE_API_TOKEN,
    client_key="sentinelone_site",
    client_check=site_value,
    examples={"url": '"https://<your console>.sentinelone.net"'},
)


def make_client(settings: Settings, *, for_check: bool = False) -> SentinelOneClient:
    """The [sentinelone] console with its token (SENTINELONE_API_TOKEN or sentinelone_token.txt), one for the
    whole run; ConfigError when either is missing. `for_check`: the one check policy and timeout."""
    console = settings.table(SENTINELONE_TABLE.table)
    if console is None:
        raise ConfigError(f'SentinelOne is not configured: add a [sentinelone] table with url = '
                          f'"https://<console>.sentinelone.net" to {settings.path}')
    token = settings.secret(SENTINELONE_API_TOKEN)
    return SentinelOneClient(console["url"], token, **client_options(for_check))


def site_for(settings: Settings, client_id: str, override: str | None = None) -> str:
    """The client's site id (`--site`, else `sentinelone_site`); ConfigError when there is none."""
    site = (override or SENTINELONE.client_value(settings, client_id)).strip()
    if not site:
        raise ConfigError(f"client {client_id} has no SentinelOne site: set sentinelone_site in [clients.{client_id}] "
                          f"of {settings.path} or pass --site")
    if not site.isdigit():
        raise ConfigError(f"SentinelOne site ids are digits (such as 657613730168123595), not {site!r}")
    return site


def pull(console: SentinelOneClient, settings: Settings, client_id: str, period: Period) -> dict:
    """One client's site for the month, with one log line of what it held."""
    document = sentinelone_pull.pull_client_month(console, client_id, site_for(settings, client_id), period)
    log.info("%s", sentinelone_pull.describe(document))
    return document


def check(settings: Settings) -> str | None:
    """The console URL and the token, with one cheap call (sentinelone_pull.check); None when not configured."""
    if settings.table(SENTINELONE_TABLE.table) is None:
        return None
    console = make_client(settings, for_check=True)  # the one check policy: answers in seconds
    with_site = sum(1 for client_id in settings.clients if SENTINELONE.client_value(settings, client_id))
    return sentinelone_pull.check(console, with_site)


def shown(settings: Settings) -> str:
    """The console, for the settings page."""
    console = settings.table(SENTINELONE_TABLE.table)
    return str(console["url"]) if console is not None else "not configured"


SENTINELONE = Source(
    name=sentinelone_pull.SOURCE,
    title="SentinelOne",
    settings=SENTINELONE_TABLE,
    client_field="sentinelone_site",
    enabled=lambda settings: settings.table(SENTINELONE_TABLE.table) is not None,
    make_client=make_client,
    pull=pull,
    check=check,
    report=sentinelone_metrics.SECTION,
    attention=sentinelone_metrics.ATTENTION,
    demo="simulators.demo_sentinelone",
    shown=shown,
)
