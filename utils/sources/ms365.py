"""Microsoft 365 (Graph), declared once: the [ms365] app, each client's `ms365_tenant`, its section and attention rules."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from utils.core.period import Period
from utils.core.settings import DEFAULT_GRAPH_URL, DEFAULT_LOGIN_URL, SecretSpec, Settings, TableSpec
from utils.reporting import ms365_metrics
from utils.reporting.section import ReportSection
from utils.services import graph_client, ms365_pull
from utils.services.graph_client import GraphClient
from utils.sources.source import Source, checked_url

log = logging.getLogger(__name__)

_TENANT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$")


def _app_id(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValueError("must be the app registration's Application (client) ID, a GUID such as "
                         "00000000-0000-0000-0000-000000000000") from None


def _tenant(value: Any) -> str:
    if not isinstance(value, str) or not _TENANT.match(value.strip()):
        raise ValueError("must be a tenant domain such as contoso.onmicrosoft.com or its id")
    return value.strip()


SETTINGS = TableSpec(
    table="ms365",
    keys={"app_id": _app_id, "login_url": checked_url, "graph_url": checked_url},
    required=frozenset({"app_id"}),
    secret=SecretSpec(graph_client.SECRET_ENV, graph_client.SECRET_FILE, graph_client.SECRET_WHAT),
    client_key="ms365_tenant",
    client_check=_tenant,
)
DEFAULTS = {"login_url": DEFAULT_LOGIN_URL, "graph_url": DEFAULT_GRAPH_URL}


def pull(graph: GraphClient, settings: Settings, client_id: str, period: Period) -> dict:
    """One client's tenant for the month, with one log line of what it cost and what the tenant did not allow."""
    tenant = MS365.client_value(settings, client_id)
    document = ms365_pull.pull_client_month(graph, client_id, tenant, period)
    log.info("Microsoft 365 for %s (tenant %s): %d requests%s", client_id, tenant, document["requests"],
             ms365_pull.describe_unavailable(document["unavailable"]))
    return document


def check(settings: Settings) -> str | None:
    return ms365_pull.check(settings)


MS365 = Source(
    name=ms365_pull.SOURCE,
    title="Microsoft 365",
    settings=SETTINGS,
    client_field="ms365_tenant",
    enabled=lambda settings: settings.ms365 is not None,
    # One GraphClient serves the whole run, so each tenant gets one token (renewed only if the run outlives it).
    make_client=lambda settings: GraphClient.from_settings(settings),
    pull=pull,
    check=check,
    report=ReportSection(name=ms365_pull.SOURCE, key="m365", title="Microsoft 365", compute=ms365_metrics.compute,
                         context=ms365_metrics.context, summary=ms365_metrics.summary),
    demo="simulators.demo_ms365",
)
