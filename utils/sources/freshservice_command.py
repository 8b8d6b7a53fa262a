"""Freshservice's commands, by hand: one client's month (data_pullers/freshservice.py) and the client list
(utils/client_manager.py), each reading the settings with every declared source's table, so the whole
file is checked as every script checks it, and `--url` winning over them. The work is
utils.services.freshservice_pull's and client_list's.
"""

from __future__ import annotations

import argparse

from utils.core.cli import build_parser, run_main
from utils.core.errors import EXIT_OK, ConfigError
from utils.core.files import is_valid_id
from utils.core.home import ensure_writable_dir
from utils.core.period import add_period_arguments, period_of, resolve_timezone
from utils.core.settings import load_settings
from utils.services import client_list
from utils.services.freshservice_pull import DEFAULT_WORKERS, ENTITY_TYPES, positive_int, pull_into_raw_file
from utils.sources import settings_tables
from utils.sources.freshservice import add_url_argument, make_client, with_url


def pull_month(args: argparse.Namespace) -> int:
    settings = load_settings(tables=settings_tables())
    period = period_of(args, resolve_timezone(args.tz, settings.timezone))
    if not is_valid_id(args.client_id):
        raise ConfigError(f"client id must be a number, not {args.client_id!r} (see companies_list.json)")
    if args.url:
        settings = with_url(settings, args.url)
    pull_into_raw_file(make_client(settings), settings.home, args.client_id, period, args.type, args.workers,
                       keep_conversation_text=args.keep_conversation_text)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """python data_pullers/freshservice.py CLIENT_ID [--month YYYY-MM] ..."""
    parser = build_parser("Pull one client's month of Freshservice tickets into raw_data/freshservice_CLIENT_ID.json.")
    add_url_argument(parser)
    parser.add_argument("client_id", metavar="CLIENT_ID", help="the department, company or workspace id, from companies_list.json")
    parser.add_argument("--type", choices=ENTITY_TYPES,
                        help="what the id names (default: as companies_list.json says, else department); "
                             "workspace: a client of the Freshservice for MSPs edition")
    add_period_arguments(parser, "the month to pull")
    parser.add_argument("--tz", help="the report time zone, an IANA name (default: [report] timezone or $REPORT_TIMEZONE, else the machine's zone)")
    parser.add_argument("--workers", type=positive_int, default=DEFAULT_WORKERS,
                        help=f"tickets fetched at once (default {DEFAULT_WORKERS}); 1 sends one request at a time")
    parser.add_argument("--keep-conversation-text", action="store_true",
                        help="keep the text of public conversations in the raw file (never of private notes); "
                             "by default raw files keep only who wrote when")
    return run_main(parser, pull_month, argv)


def list_clients(args: argparse.Namespace) -> int:
    settings = load_settings(tables=settings_tables())
    if args.url:
        settings = with_url(settings, args.url)
    ensure_writable_dir(settings.home)
    client_list.refresh_and_report(make_client(settings), settings.home)
    return EXIT_OK


def list_clients_main(argv: list[str] | None = None) -> int:
    """python utils/client_manager.py [--url URL]"""
    parser = build_parser("List the helpdesk's clients (departments, companies or client workspaces) into companies_list.json.")
    add_url_argument(parser)
    return run_main(parser, list_clients, argv)
