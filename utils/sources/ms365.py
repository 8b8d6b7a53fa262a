"""Microsoft 365 (Graph), declared once: the [ms365] app and its secret, each client's `ms365_tenant`, the
client made from them, its pull, its check, its section and attention rules."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from utils.core.errors import ConfigError
from utils.core.period import Period
from utils.core.secrets import SecretSpec
from utils.core.settings import Settings, TableSpec
from utils.core.settings_values import text_value, url_value
from utils.reporting import ms365_metrics
from utils.services import ms365_pull
from utils.services.graph_client import GRAPH_URL, LOGIN_URL, GraphClient
from utils.sources.source import Source, client_options

log = logging.getLogger(__name__)

MS365_CLIENT_SECRET = SecretSpec("MS365_CLIENT_SECRET", "ms365_secret.txt", "Microsoft 365 client secret")

_TENANT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$")


def app_id_value(value: Any) -> str:
    text = text_value(value)
    try:
        uuid.UUID(text)
    except ValueError:
        raise ValueError(f"must be the app registration's Application (client) ID, a GUID such as "
                         f"00000000-0000-0000-0000-000000000000, not {text!r}") from None
    return text


def tenant_value(value: Any) -> str:
    text = text_value(value)
    if not _TENANT.match(text):
        raise ValueError(f"must be a tenant domain such as contoso.onmicrosoft.com or its id, not {text!r}")
    return text


# [ms365] app_id, login_url, graph_url; MS365_CLIENT_SECRET or ms365_secret.txt; [clients.ID] ms365_tenant
MS365_TABLE = TableSpec(
    table="ms365",
    keys={"app_id": app_id_value, "login_url": url_value, "graph_url": url_value},
    required=frozenset({"app_id"}),
    secret=MS365_CLIENT_SECRET,
    client_key="ms365_tenant",
    client_check=tenant_value,
)


def make_client(settings: Settings, *, for_check: bool = False) -> GraphClient:
    """The [ms365] app with its secret (MS365_CLIENT_SECRET or ms365_secret.txt); ConfigError when either is
    missing. One serves the whole run, so each tenant gets one token (renewed only if the run outlives it).
    `for_check`: the one check policy and timeout."""
    app = settings.table(MS365_TABLE.table)
    if app is None:
        raise ConfigError(f"Microsoft 365 is not configured: add an [ms365] table with app_id to {settings.path}")
    secret = settings.secret(MS365_CLIENT_SECRET)
    return GraphClient(app.get("graph_url", GRAPH_URL), secret, app_id=app["app_id"],
                       login_url=app.get("login_url", LOGIN_URL), **client_options(for_check))


def pull(graph: GraphClient, settings: Settings, client_id: str, period: Period) -> dict:
    """One client's tenant for the month, with one log line of what it cost and what the tenant did not allow."""
    tenant = MS365.client_value(settings, client_id)
    document = ms365_pull.pull_client_month(graph, client_id, tenant, period)
    log.info("Microsoft 365 for %s (tenant %s): %d requests%s", client_id, tenant, document["requests"],
             ms365_pull.describe_unavailable(document["unavailable"]))
    return document


def check(settings: Settings) -> str | None:
    """A token for every configured tenant (ms365_pull.check); None when [ms365] is not set."""
    if settings.table(MS365_TABLE.table) is None:
        return None
    graph = make_client(settings, for_check=True)  # the one check policy: answers in seconds
    tenants = {client_id: tenant for client_id in settings.clients if (tenant := MS365.client_value(settings, client_id))}
    return ms365_pull.check(graph, tenants)


def shown(settings: Settings) -> str:
    """The app, for the settings page."""
    app = settings.table(MS365_TABLE.table)
    return f"app {app['app_id']}" if app is not None else "not configured"


MS365 = Source(
    name=ms365_pull.SOURCE,
    title="Microsoft 365",
    settings=MS365_TABLE,
    client_field="ms365_tenant",
    enabled=lambda settings: settings.table(MS365_TABLE.table) is not None,
    make_client=make_client,
    pull=pull,
    check=check,
    report=ms365_metrics.SECTION,
    attention=ms365_metrics.ATTENTION,
    demo="simulators.demo_ms365",
    shown=shown,
)
