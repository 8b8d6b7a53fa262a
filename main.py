"""The internal web interface: the clients, making and viewing reports, sending them, the setup check.

    python main.py [--host 127.0.0.1] [--port 5000]   # http://127.0.0.1:5000
    python main.py --demo                            # the same on the demo account (the simulators), in demo/
    python main.py --set-password                    # ask for a password on every page from now on

It runs the scripts' own code (pull_info.py, send_reports.py, the client list) in the background,
under the same run lock as cron, and serves with waitress, a production WSGI server. It listens on
loopback unless told otherwise, and refuses any other address until a password is set. Ctrl-C or
SIGTERM stops it (exit 0); a usage or settings error exits 2.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

if __name__ == "__main__":  # run as `python path/to/main.py` from any folder: import from the project root
    # Replace, not prepend: with the script's own folder first on the path, utils/services/http.py would hide
    # the standard library's http package.
    sys.path[0] = str(Path(__file__).resolve().parent)

import waitress

import pull_info
from utils.core.cli import build_parser, run_main
from utils.core.errors import EXIT_OK, ConfigError
from utils.core.home import ENV_HOME, ensure_writable_dir, home_dir
from utils.core.urls import is_loopback
from utils.web.app import create_app
from utils.web.auth import set_password, stored_password_hash

log = logging.getLogger("main")

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 5000
THREADS = 8  # page requests; the jobs run in their own threads


def make_parser() -> argparse.ArgumentParser:
    parser = build_parser("The internal web interface: clients, reports, sending and the setup check, in a browser.")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"the address to listen on (default {DEFAULT_HOST}; "
                                                             "any other needs a password: --set-password)")
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"the port (default {DEFAULT_PORT})")
    parser.add_argument("--demo", action="store_true", help="serve the demo account (simulated services) in demo/, no account needed")
    parser.add_argument("--set-password", action="store_true", help="set the password every page asks for, then exit")
    return parser


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return value


def serving_home(demo: bool) -> Path:
    """The home the interface serves; in the demo, the demo's folder, which send_reports.py then reads as its home too."""
    if not demo:
        return home_dir()
    folder = pull_info.demo_folder()
    os.environ[ENV_HOME] = str(folder)
    return folder


def ask_new_password() -> str:
    first = getpass.getpass("New password for the web interface: ")
    if getpass.getpass("The same again: ") != first:
        raise ConfigError("the two passwords differ; nothing was changed")
    return first


def run(args: argparse.Namespace) -> int:
    home = serving_home(args.demo)
    ensure_writable_dir(home)
    if args.set_password:
        path = set_password(home, ask_new_password())
        print(f"Password set (a salted hash in {path}); every page asks for it from now on")
        return EXIT_OK
    if not is_loopback(args.host) and stored_password_hash(home) is None:
        raise ConfigError(f"refusing to listen on {args.host} without a password: set one with python main.py --set-password "
                          "(or listen on 127.0.0.1)")
    app = create_app(home, demo=args.demo)
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    log.info("IntegoReport%s on http://%s:%d (home %s); Ctrl-C stops it", " demo" if args.demo else "", shown_host, args.port, home)
    # waitress ends its loop on Ctrl-C or SIGTERM itself (finishing the answers under way): a stop is the server's
    # normal end, so exit 0. A job still running is cut short as a killed script would be; the batch's files stay consistent.
    waitress.serve(app, host=args.host, port=args.port, threads=THREADS, ident="IntegoReport", clear_untrusted_proxy_headers=True)
    log.info("stopped")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    return run_main(make_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
