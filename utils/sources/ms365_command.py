"""Pull one client's Microsoft 365 posture into raw_data/ms365_CLIENT_ID.json, by hand.

    python data_pullers/ms365.py CLIENT_ID [--month YYYY-MM] [--tz ZONE] [--tenant TENANT]

Reads the settings with every declared source's table (so the whole file is checked, as every
script checks it), the client's `ms365_tenant` (`--tenant` overrides it) and the [ms365] app with
its secret (utils/sources/ms365.py); the pull itself is utils.services.ms365_pull's.
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
from utils.services import ms365_pull
from utils.sources import settings_tables
from utils.sources.ms365 import MS365, make_client

log = logging.getLogger(__name__)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(tables=settings_tables())
    if not is_valid_id(args.client_id):
        raise ConfigError(f"client id must be a number, not {args.client_id!r} (see companies_list.json)")
    tenant = (args.tenant or MS365.client_value(settings, args.client_id)).strip()
    if not tenant:
        raise ConfigError(f"client {args.client_id} has no Microsoft 365 tenant: set ms365_tenant in "
                          f"[clients.{args.client_id}] of {settings.path} or pass --tenant")
    period = period_of(args, resolve_timezone(args.tz, settings.timezone))
    graph = make_client(settings)
    ensure_writable_dir(settings.home / RAW_DIR, private=True)
    document = ms365_pull.pull_client_month(graph, args.client_id, tenant, period)
    path = write_json_atomic(ms365_pull.raw_data_path(settings.home, args.client_id), document, private=True)
    log.info("Microsoft 365, client %s (tenant %s), %s: %d requests%s; wrote %s", args.client_id, tenant, period.label,
             document["requests"], ms365_pull.describe_unavailable(document["unavailable"]), path)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("Pull one client's Microsoft 365 Secure Score, licences, users and MFA into raw_data/ms365_CLIENT_ID.json.")
    parser.add_argument("client_id", help="the client's id (its Freshservice department or company id)")
    add_period_arguments(parser, "the month to report on")
    parser.add_argument("--tz", help="the report time zone (default: [report] timezone, $REPORT_TIMEZONE or the machine's)")
    parser.add_argument("--tenant", help="the tenant (GUID or name.onmicrosoft.com) instead of the client's ms365_tenant")
    return run_main(parser, run, argv)
