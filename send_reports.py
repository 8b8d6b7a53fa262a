"""Email each client its built report for the month, by SMTP or Mailchimp Transactional, never twice.

    python send_reports.py [--month YYYY-MM] [--client ID ...] [--dry-run] [--test-to ADDRESS] [--resend (--client ID | --all)]

Reads the reports in reports/<YYYY-MM>/ and the [delivery] and [clients.ID] tables of
integoreport.toml. What was sent is kept in reports/<YYYY-MM>/delivery.json: a rerun sends only
what provably did not go out. Exit 0: every selected client sent; 1: any partial, failed or unknown;
2: a usage or settings error (found before anything is sent).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

if __name__ == "__main__":  # run as `python path/to/script.py` from any folder: import from the project root
    # Replace, not prepend: with the script's own folder first on the path, utils/services/http.py would hide
    # the standard library's http package.
    sys.path[0] = str(Path(__file__).resolve().parent)

from utils.core.cli import EXIT_CODES_HELP, build_parser, run_main
from utils.core.errors import EXIT_FAILURE, EXIT_OK, ConfigError
from utils.core.files import is_valid_id
from utils.core.home import home_dir
from utils.core.period import add_period_arguments, period_of, resolve_timezone
from utils.core.settings import load_settings
from utils.delivery.outbound import Options, check_addresses, deliver_month, make_sender
from utils.monthly.send_step import refresh_index
from utils.sources import settings_tables

log = logging.getLogger("send_reports")


def make_parser() -> argparse.ArgumentParser:
    parser = build_parser("Email each client its built report for the month (SMTP or Mailchimp Transactional), never twice.",
                          exit_codes=EXIT_CODES_HELP.replace(
                              "1 a runtime failure (API, data, file)", "1 any client's email partial, failed or unknown (or another runtime failure)"))
    add_period_arguments(parser)
    parser.add_argument("--client", action="append", metavar="ID", default=[], type=client_id, help="only this client (repeatable)")
    parser.add_argument("--dry-run", action="store_true", help="send nothing: write each message to reports/<YYYY-MM>/outbox/*.eml")
    parser.add_argument("--test-to", metavar="ADDRESS", help="send every selected report to this one address, subject prefixed [TEST]; "
                                                             "the delivery record is not touched")
    parser.add_argument("--resend", action="store_true", help="send again even to clients already sent (pick them with --client, "
                                                              "or --all for every client)")
    parser.add_argument("--all", action="store_true", help="with --resend: send again to every client")
    return parser


def client_id(text: str) -> str:
    """A --client value: a client id (digits only), as in the other scripts."""
    if not is_valid_id(text.strip()):
        raise argparse.ArgumentTypeError(f"must be a client id (a number from companies_list.json), not {text!r}")
    return text.strip()


def run(args: argparse.Namespace) -> int:
    if args.resend and not args.client and not args.all:
        # Sending every client's report a second time is never what a bare --resend should mean.
        raise ConfigError("--resend sends reports again: name the clients with --client ID, or add --all for every client")
    if args.all and not args.resend:
        raise ConfigError("--all goes with --resend (without it every client with recipients is already selected)")
    home = home_dir()
    settings = load_settings(home, tables=settings_tables())
    period = period_of(args, resolve_timezone(None, settings.timezone))
    month = period.month
    if args.test_to is not None:  # an empty --test-to "" must not fall back to the real recipients
        check_addresses([args.test_to])
    options = Options(month=month, client_ids=tuple(args.client), dry_run=args.dry_run, test_to=args.test_to, resend=args.resend,
                      period=period.as_dict())
    sender = make_sender(settings, home, options)  # settings and secrets checked before anything is sent
    summary = deliver_month(settings, home, options, sender)
    if sender is not None and not args.test_to:
        refresh_index(home, period)  # the month's index.html shows each client's outcome
    log.info("%s: %s", month, summary.counts())
    return EXIT_OK if summary.ok else EXIT_FAILURE


def main(argv: list[str] | None = None) -> int:
    return run_main(make_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
