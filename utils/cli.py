"""What every script shares: common flags, logging, and turning exceptions into one-line errors.

Each script builds its parser with `build_parser`, writes a `run(args) -> int`, and its
`main(argv)` is `return run_main(parser, run, argv)`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Sequence

from utils.errors import EXIT_FAILURE, EXIT_INTERRUPTED, IntegoError

_secrets: set[str] = set()


def register_secret(secret: str) -> None:
    """Remember a secret (the API key) so that no log line or error message can show it."""
    if secret and len(secret) >= 4:
        _secrets.add(secret)


def redact(text: str) -> str:
    """Replace every registered secret in `text` with [REDACTED]."""
    for secret in _secrets:
        text = text.replace(secret, "[REDACTED]")
    return text


class RedactingFilter(logging.Filter):
    """Redacts secrets from every record that passes through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def build_parser(description: str, network: bool = True) -> argparse.ArgumentParser:
    """An argument parser with -v/--verbose, -q/--quiet, --debug and, for network scripts, --url."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument("-q", "--quiet", action="store_true", help="log only warnings and errors")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    if network:
        parser.add_argument("--url", help="the Freshservice helpdesk (acme, acme.freshservice.com or https://...); default $FRESHSERVICE_URL")
    return parser


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Log to stderr: plain lines for information, a level prefix for warnings and worse."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PlainFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_intego", False):
            root.removeHandler(old)
    handler._intego = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "cssutils", "CSSUTILS"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


class _PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def run_main(parser: argparse.ArgumentParser, body: Callable[[argparse.Namespace], int], argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, set up logging, run `body`, and map every failure to a one-line error and exit code."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage and a one-line error (or --help)
        return int(exc.code or 0)
    setup_logging(args.verbose, args.quiet)
    try:
        return body(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except IntegoError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        if args.debug:
            traceback.print_exc()
        print(f"error: unexpected {type(exc).__name__}: {redact(str(exc))} (run with --debug for details)", file=sys.stderr)
        return EXIT_FAILURE
