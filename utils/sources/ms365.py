"""Microsoft 365 (Graph), declared once: the [ms365] app, each client's `ms365_tenant`, its section and attention rules."""

from __future__ import annotations

import logging

from utils.core.period import Period
from utils.core.settings import Settings
from utils.core.source_tables import MS365_TABLE
from utils.reporting import ms365_metrics
from utils.services import ms365_pull
from utils.services.graph_client import GraphClient
from utils.sources.source import Source

log = logging.getLogger(__name__)


def pull(graph: GraphClient, settings: Settings, client_id: str, period: Period) -> dict:
    """One client's tenant for the month, with one log line of what it cost and what the tenant did not allow."""
    tenant = MS365.client_value(settings, client_id)
    document = ms365_pull.pull_client_month(graph, client_id, tenant, period)
    log.info("Microsoft 365 for %s (tenant %s): %d requests%s", client_id, tenant, document["requests"],
             ms365_pull.describe_unavailable(document["unavailable"]))
    return document


def check(settings: Settings) -> str | None:
    """A token for every configured tenant (ms365_pull.check); None when [ms365] is not set."""
    return ms365_pull.check(settings)


MS365 = Source(
    name=ms365_pull.SOURCE,
    title="Microsoft 365",
    settings=MS365_TABLE,  # [ms365] app_id, login_url, graph_url; MS365_CLIENT_SECRET; [clients.ID] ms365_tenant
    client_field="ms365_tenant",
    enabled=lambda settings: settings.ms365 is not None,
    # One GraphClient serves the whole run, so each tenant gets one token (renewed only if the run outlives it).
    make_client=lambda settings: GraphClient.from_settings(settings),
    pull=pull,
    check=check,
    report=ms365_metrics.SECTION,
    attention=ms365_metrics.ATTENTION,
    demo="simulators.demo_ms365",
)
