"""Pull one client's endpoint protection from SentinelOne into raw_data/sentinelone_CLIENT_ID.json, by hand.

    python data_pullers/sentinelone.py CLIENT_ID [--month YYYY-MM] [--tz ZONE] [--site SITE_ID]

Reads the settings with every declared source's table (so the whole file is checked, as every
script checks it), the client's `sentinelone_site` (`--site` overrides it) and the [sentinelone]
console with its token (utils/sources/sentinelone.py); the pull itself is utils.services.sentinelone_pull's.
"""

from __future__ import annotations

import argparse
import logging

from utils.core.cli import build_parser, run_main
from utils.core.errors import EXIT_OK, ConfigError
from utils.core.files import is_valid_id, write_json_atomic
from utils.core.home import RAW_DIR, ensure_writable_dir
from utils.core.period import add_period_arguments, period_of, resolve_timezone
from utils.core.settings import load_settings
from utils.services import sentinelone_pull
from utils.sources import settings_tables
from utils.sources.sentinelone import make_client, site_for

log = logging.getLogger(__name__)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(tables=settings_tables())
    if not is_valid_id(args.client_id):
        raise ConfigError(f"client id must be a number, not {args.client_id!r} (see companies_list.json)")
    site_id = site_for(settings, args.client_id, args.site)
    period = period_of(args, resolve_timezone(args.tz, settings.timezone))
    client = make_client(settings)
    ensure_writable_dir(settings.home / RAW_DIR, private=True)
    document = sentinelone_pull.pull_client_month(client, args.client_id, site_id, period)
    path = write_json_atomic(sentinelone_pull.raw_data_path(settings.home, args.client_id), document, private=True)
    log.info("%s; wrote %s", sentinelone_pull.describe(document), path)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("Pull one client's SentinelOne threats and endpoints into raw_data/sentinelone_CLIENT_ID.json.")
    parser.add_argument("client_id", metavar="CLIENT_ID", help="the client's id (its Freshservice department or company id)")
    add_period_arguments(parser, "the month to report on")
    parser.add_argument("--tz", help="the report time zone (default: [report] timezone, $REPORT_TIMEZONE or the machine's)")
    parser.add_argument("--site", help="the SentinelOne site id instead of the client's sentinelone_site")
    return run_main(parser, run, argv)
