"""Build a client's monthly report from a raw data file: HTML email, and optionally metrics JSON and plain text.

    python build_report.py [RAW_JSON] [--out PATH] [--json PATH] [--text PATH] [--template NAME]
    python build_report.py --check-template PATH [-v]

With no RAW_JSON it takes the newest raw_data/freshservice_*.json in the project home (by the
`generated_at` inside, then modification time) and writes output_report.html there. It never
calls the network. Each build also keeps the month's metrics in history/<CLIENT_ID>/<YYYY-MM>.json
in the home, and the report compares with the earlier months kept there. Settings: the [report]
table of integoreport.toml, or the environment variables that override it (see the README).

--check-template renders a template with a busy sample month and prints what would break in Gmail,
Outlook or Apple Mail (utils/reporting/email_checks.py): exit 0 with no errors, 1 with errors, 2 when the file
cannot be read. -v also lists the warnings.
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

from utils.core.cli import build_parser, run_main
from utils.core.errors import ConfigError
from utils.core.files import write_json_atomic, write_text_atomic
from utils.core.home import OUTPUT_REPORT, RAW_DIR, REPORTS_DIR, home_dir
from utils.core.period import add_period_arguments, period_of
from utils.core.settings import load_settings
from utils.delivery.sent_copy import rebuild_notice
from utils.reporting.email_checks import check_template, print_findings
from utils.reporting.history import history_for_raw, raw_month, store_history
from utils.reporting.report import DEFAULT_TEMPLATE, build_outputs, load_raw, newest_raw_file
from utils.reporting.source_files import load_source_files
from utils.sources import attention_rules, report_sections, settings_tables

log = logging.getLogger("build_report")


def make_parser() -> argparse.ArgumentParser:
    parser = build_parser("Build a client's monthly HTML email report from a raw Freshservice data file (no network).")
    parser.add_argument("raw", nargs="?", metavar="RAW_JSON", help="raw data file (default: the newest raw_data/freshservice_*.json in the home)")
    parser.add_argument("--out", metavar="PATH", help=f"where to write the HTML report (default: {OUTPUT_REPORT} in the home)")
    parser.add_argument("--json", metavar="PATH", help="also write the metrics JSON here")
    parser.add_argument("--text", metavar="PATH", help="also write the plain-text version here")
    parser.add_argument("--template", metavar="NAME", default=DEFAULT_TEMPLATE,
                        help=f"HTML template: a file name in templates/ or a path (default: {DEFAULT_TEMPLATE})")
    parser.add_argument("--check-template", metavar="PATH",
                        help="check an HTML template for email safety with a sample month, build nothing (-v: warnings too)")
    add_period_arguments(parser, "the month the raw file must cover")
    return parser


def check_raw_period(args: argparse.Namespace, raw: dict, raw_path: Path) -> None:
    """With --month, --quarter or --from/--to: the raw file must cover exactly that period (one line, exit 2, if not)."""
    if not any((args.month, args.quarter, args.date_from, args.date_to)):
        return
    wanted = period_of(args, str(raw["period"]["timezone"]))
    if raw_month(raw) != wanted.key:
        raise ConfigError(f"{raw_path.name} covers {raw_month(raw)}, not {wanted.key}: pull that period first")


def run(args: argparse.Namespace) -> int:
    if args.check_template:  # needs no home, settings or raw data: a restyler checks a copy anywhere
        return print_findings(args.check_template, check_template(args.check_template, report_sections(), attention_rules()), show_warnings=args.verbose)
    home = home_dir()
    settings = load_settings(home, tables=settings_tables()).report
    sections = report_sections()
    raw_path = Path(args.raw) if args.raw else newest_raw_file(home / RAW_DIR)
    raw = load_raw(raw_path)
    check_raw_period(args, raw, raw_path)
    # The other sources' files for the same client and month sit beside the Freshservice file.
    extra_raw, problems = load_source_files(raw_path.parent, str(raw["client"]["id"]), raw["period"], sections)
    for problem in problems:
        log.warning("%s", problem)
    html, text, metrics = build_outputs(raw, template=args.template, settings=settings, extra_raw=extra_raw,
                                        history=history_for_raw(home, raw), sections=sections, attention=attention_rules())
    # Everything is built before anything is written, so a failure leaves every old output untouched.
    out = Path(args.out) if args.out else home / OUTPUT_REPORT
    write_text_atomic(out, html)
    if args.json:
        write_json_atomic(args.json, metrics)
    if args.text:
        write_text_atomic(args.text, text)
    store_history(home, metrics)  # next month's report compares with this one
    notice = rebuild_notice(home / REPORTS_DIR / raw_month(raw), str(raw["client"]["id"]))
    if notice:  # the month was emailed already: sent/ keeps what the client got
        log.info("%s", notice)
    volume = metrics["volume"]
    log.info(
        "%s, %s: %d new, %d resolved, %d open at month end -> %s (%.0f KB)",
        metrics["client"]["name"], metrics["period"]["label"], volume["created"], volume["resolved"], volume["open_at_end"],
        out, len(html.encode("utf-8")) / 1024,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_main(make_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
