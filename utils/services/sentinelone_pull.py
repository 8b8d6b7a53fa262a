"""Pull one client's endpoint protection from SentinelOne into raw_data/sentinelone_CLIENT_ID.json.

    python data_pullers/sentinelone.py CLIENT_ID [--month YYYY-MM] [--tz ZONE] [--site SITE_ID]

Reads the client's `sentinelone_site` and the `[sentinelone]` console URL from integoreport.toml
(`--site` overrides the site) and the API token from SENTINELONE_API_TOKEN or sentinelone_token.txt.
Four requests for a site under 1,000 endpoints and 1,000 threats: the site record, the threats
created in the month (its bounds sent as UTC instants of the report month in the report zone), the
threats open now whatever their age, and the endpoints that are not decommissioned.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from utils.core import clock
from utils.core.cli import build_parser, run_main
from utils.core.config import RAW_DIR, ensure_writable_dir
from utils.core.errors import EXIT_OK, ConfigError
from utils.core.files import is_valid_id, write_json_atomic
from utils.core.period import Period, add_period_arguments, period_of, resolve_timezone
from utils.core.settings import Settings, load_settings
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


def site_for(settings: Settings, client_id: str, override: str | None = None) -> str:
    """The client's site id (`--site`, else `sentinelone_site`); ConfigError when there is none."""
    site = (override or settings.client(client_id).sentinelone_site or "").strip()
    if not site:
        raise ConfigError(f"client {client_id} has no SentinelOne site: set sentinelone_site in [clients.{client_id}] "
                          f"of {settings.path} or pass --site")
    if not site.isdigit():
        raise ConfigError(f"SentinelOne site ids are digits (such as 657613730168123595), not {site!r}")
    return site


def check(settings: Settings, client: SentinelOneClient | None = None) -> str | None:
    """`pull_info.py --check`: prove the console URL and the token with one cheap call; None when not configured.

    Returns what it reached; a refused token, a wrong URL or no answer raises the client's one-line error.
    """
    if settings.sentinelone is None:
        return None
    console = client or SentinelOneClient.from_settings(settings, for_check=True)  # the one check policy: answers in seconds
    sites = console.check()
    with_site = sum(1 for entry in settings.clients.values() if entry.sentinelone_site)
    return (f"{console.console_url}: token accepted, {_plural(sites, 'site')} visible; "
            f"{_plural(with_site, 'client')} with a site in the settings")


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


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not is_valid_id(args.client_id):
        raise ConfigError(f"client id must be a number, not {args.client_id!r} (see companies_list.json)")
    site_id = site_for(settings, args.client_id, args.site)
    period = period_of(args, resolve_timezone(args.tz, settings.timezone))
    client = SentinelOneClient.from_settings(settings)
    ensure_writable_dir(settings.home / RAW_DIR, private=True)
    document = pull_client_month(client, args.client_id, site_id, period)
    path = write_json_atomic(raw_data_path(settings.home, args.client_id), document, private=True)
    log.info("%s; wrote %s", describe(document), path)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("Pull one client's SentinelOne threats and endpoints into raw_data/sentinelone_CLIENT_ID.json.",
                          network=False)
    parser.add_argument("client_id", metavar="CLIENT_ID", help="the client's id (its Freshservice department or company id)")
    add_period_arguments(parser, "the month to report on")
    parser.add_argument("--tz", help="the report time zone (default: [report] timezone, $REPORT_TIMEZONE or the machine's)")
    parser.add_argument("--site", help="the SentinelOne site id instead of the client's sentinelone_site")
    return run_main(parser, run, argv)

