"""The settings tables of the built-in data sources, [ms365] and [sentinelone], as `TableSpec`s.

`load_settings` reads these unless it is handed others; a source's declaration (utils/sources) names
its own. A check takes the raw value (from the file or its environment variable) and returns the
value to keep, or raises ValueError with the reason the error shows after the key.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from utils.core.secrets import MS365_CLIENT_SECRET, SENTINELONE_API_TOKEN
from utils.core.settings_tables import TableSpec
from utils.core.settings_values import text_value
from utils.core.urls import checked_url

_TENANT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$")


def url_value(value: Any) -> str:
    """A service address: a string, a full https:// URL (http:// only to a loopback host), no credentials."""
    return checked_url(text_value(value))


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


def site_value(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # SentinelOne ids are strings of digits; accept the number too
    if not isinstance(value, str) or not re.fullmatch(r"\d+", value.strip()):
        raise ValueError(f"must be the SentinelOne site id, digits in quotes, not {value!r}")
    return value.strip()


MS365_TABLE = TableSpec(
    table="ms365",
    keys={"app_id": app_id_value, "login_url": url_value, "graph_url": url_value},
    required=frozenset({"app_id"}),
    secret=MS365_CLIENT_SECRET,
    client_key="ms365_tenant",
    client_check=tenant_value,
)

SENTINELONE_TABLE = TableSpec(
    table="sentinelone",
    keys={"url": url_value},
    required=frozenset({"url"}),
    secret=SENTINELONE_API_TOKEN,
    client_key="sentinelone_site",
    client_check=site_value,
    examples={"url": '"https://<your console>.sentinelone.net"'},
)

SOURCE_TABLES: tuple[TableSpec, ...] = (MS365_TABLE, SENTINELONE_TABLE)
