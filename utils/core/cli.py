"""What every script shares: common flags, logging, and turning exceptions into one-line errors.

Each script builds its parser with `build_parser`, writes a `run(args) -> int`, and its
`main(argv)` is `return run_main(parser, run, argv)`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from utils.core.errors import EXIT_FAILURE, EXIT_INTERRUPTED, IntegoError, one_line
from utils.core.errors import clean_text as clean_text  # re-exported: the scripts' one-line helpers live in errors
from utils.core.errors import redact as redact
from utils.core.errors import register_secret as register_secret
from utils.core.portable import SIGHUP

TERMINATION_SIGNALS = (signal.SIGTERM, SIGHUP) if SIGHUP is not None else (signal.SIGTERM,)  # no SIGHUP on Windows

class RedactingFilter(logging.Filter):
    """Redacts secrets from every record that passes through a handler, and strips control characters."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = clean_text(redact(message))
        if clean != message:
            record.msg, record.args = clean, None
        return True


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (cron, systemd, a closed terminal), handled exactly like Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def termination_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise `Terminated`, so the clean-up Ctrl-C gets runs for them too
    (unless the process was started ignoring one, as under nohup: that one stays ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers
        return

    def stop(signum: int, _frame: object) -> None:
        for number in TERMINATION_SIGNALS:  # a second signal must not interrupt the clean-up
            signal.signal(number, signal.SIG_IGN)
        raise Terminated(signum)

    # A signal the process was started ignoring stays ignored: `nohup python pull_info.py` asks that a
    # closed terminal (SIGHUP) leave the run going, and nohup says so by setting SIGHUP to SIG_IGN.
    handled = [number for number in TERMINATION_SIGNALS if signal.getsignal(number) is not signal.SIG_IGN]
    previous = {number: signal.signal(number, stop) for number in handled}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


EXIT_CODES_HELP = ("exit codes: 0 ok; 1 a runtime failure (API, data, file); 2 a usage or settings error; "
                   "130 interrupted (Ctrl-C); 143 SIGTERM; 129 SIGHUP")


def build_parser(description: str, exit_codes: str = EXIT_CODES_HELP) -> argparse.ArgumentParser:
    """An argument parser with -v/--verbose, -q/--quiet and --debug; --help ends with the exit codes."""
    parser = argparse.ArgumentParser(description=description, epilog=exit_codes)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument("-q", "--quiet", action="store_true", help="log only warnings and errors")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
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
        with termination_as_interrupt():
            return body(args)
    except Terminated as exc:
        print(f"stopped by {signal.Signals(exc.signum).name}", file=sys.stderr)
        return 128 + exc.signum  # as shells report a process ended by that signal
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except IntegoError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        if args.debug:
            traceback.print_exc()
        print(f"error: {one_line(exc)} (run with --debug for details)", file=sys.stderr)
        return EXIT_FAILURE
