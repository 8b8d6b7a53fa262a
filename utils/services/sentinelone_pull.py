"""Pull one client's endpoint protection from SentinelOne into raw_data/sentinelone_CLIENT_ID.json.

    python data_pullers/sentinelone.py CLIENT_ID [--month YYYY-MM] [--tz ZONE] [--site SITE_ID]

Given a SentinelOneClient (made by utils/sources/sentinelone.py from the `[sentinelone]` console URL
and its token; that module also runs the command) and the client's site id. Four requests for a site
under 1,000 endpoints and 1,000 threats: the site record, the threats created in the month (its
bounds sent as UTC instants of the report month in the report zone), the threats open now whatever
their age, and the endpoints that are not decommissioned.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from utils.core import clock
from utils.core.period import Period
from utils.services import raw_file
from utils.services.http import Usage, usage_block
from utils.services.sentinelone_client import SentinelOneClient

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SOURCE = "sentinelone"


def pull_client_month(client: SentinelOneClient, client_id: str, site_id: str, period: Period) -> dict[str, Any]:
    """The raw document for one client and month (what raw_data/sentinelone_<ID>.json holds)."""
    before = client.usage_for(site_id)
    site = client.site(site_id)
    threats = client.threats_created(site_id, period.start, period.end)
    open_threats = client.open_threats(site_id)
    agents = client.agents(site_id)
    return {
        "schema_version": SCHEMA_VERSION,
        "source": SOURCE,
        # In the report's zone, so the "as of" date the report prints is the local date of the pull.
        "generated_at": clock.now().astimezone(period.zone).isoformat(timespec="seconds"),
        "console_url": client.console_url,
        "period": period.as_dict(),
        "client": {"id": str(client_id), "site_id": site_id},
        "site": site,
        "threats": threats,
        "open_threats": open_threats,
        "agents": agents,
        **_usage(client.usage_for(site_id).minus(before)),
    }


def _usage(usage: Usage) -> dict[str, Any]:
    # `requests` as `usage.requests`, kept for the readers that predate `usage`.
    return {"requests": usage.requests, "usage": usage_block(usage)}


def check(console: SentinelOneClient, clients_with_a_site: int) -> str:
    """`pull_info.py --check`: prove the console URL and the token with one cheap call; what it reached.

    A refused token, a wrong URL or no answer raises the client's one-line error.
    """
    sites = console.check()
    return (f"{console.console_url}: token accepted, {_plural(sites, 'site')} visible; "
            f"{_plural(clients_with_a_site, 'client')} with a site in the settings")


def raw_data_path(home: Path, client_id: str) -> Path:
    """raw_data/sentinelone_<ID>.json; a DataError for an id that is not all digits (it names a file)."""
    return raw_file.raw_data_path(home, SOURCE, client_id)


def describe(document: dict[str, Any]) -> str:
    """One line about a pull: the site, what it held, and the requests it took."""
    site = document["site"]
    return (f"SentinelOne, client {document['client']['id']} (site {site.get('name') or '?'} {document['client']['site_id']}), "
            f"{document['period']['label']}: {_plural(len(document['threats']), 'threat')} created, {len(document['open_threats'])} open, "
            f"{_plural(len(document['agents']), 'endpoint')}; {_plural(document['requests'], 'request')}")


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
