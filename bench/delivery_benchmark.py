"""Sending 200 reports: to a local SMTP server (STARTTLS, login) and to the Mailchimp Transactional simulator.

    python bench/delivery_benchmark.py [--reports 200] [--latency 0.0]

Builds one real report, copies it for --reports clients in a temporary home, and runs
send_reports.py's delivery for the month twice: over SMTP to an aiosmtpd server on 127.0.0.1 with a
test certificate, and through the Mailchimp simulator (with --latency seconds added to each answer).
Prints messages per second and connections (SMTP) or requests (Mailchimp), then reruns each to show
that nothing goes out twice. Targets: one SMTP connection for the batch, 200 reports in under 20 s.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulators.mailchimp import MailchimpOptions, MailchimpSimulator  # noqa: E402
from simulators.smtp_server import SmtpTestServer, make_test_certificate  # noqa: E402
from tests.helpers.reports import raw_file, synthetic_month  # noqa: E402
from utils.core.settings import load_settings  # noqa: E402
from utils.delivery.outbound import Options, deliver_month, make_sender  # noqa: E402
from utils.reporting.report import build_outputs  # noqa: E402
from utils.sources import settings_tables  # noqa: E402

MONTH = "2026-10"
PASSWORD = "bench-smtp-password"
KEY = "bench-mailchimp-key"


def write_home(home: Path, count: int, delivery: str) -> None:
    html, text, metrics = build_outputs(raw_file(synthetic_month(120, seed=5)["tickets"]))
    folder = home / "reports" / MONTH
    folder.mkdir(parents=True, exist_ok=True)
    clients = []
    for number in range(count):
        client_id = str(21000400000 + number)
        stem = f"client-{number:03d}-{client_id}"
        (folder / f"{stem}.html").write_text(html, encoding="utf-8")
        (folder / f"{stem}.txt").write_text(text, encoding="utf-8")
        (folder / f"{stem}.json").write_text(json.dumps({**metrics, "client": {"id": int(client_id), "name": f"Client {number:03d}"}}),
                                             encoding="utf-8")
        clients.append(f'[clients.{client_id}]\nto = ["Contact <it@client-{number:03d}.example>"]\ncc = ["boss@client-{number:03d}.example"]\n')
    (home / "integoreport.toml").write_text(
        f'[delivery]\nfrom = "Acme IT <reports@acme.example>"\nreply_to = "help@acme.example"\n{delivery}\n' + "".join(clients),
        encoding="utf-8")


def run(home: Path, label: str, count: int, received: Callable[[], int]) -> float:
    settings = load_settings(home, tables=settings_tables())
    options = Options(month=MONTH)
    before = received()
    started = time.monotonic()
    summary = deliver_month(settings, home, options, make_sender(settings, home, options), out=lambda _line: None)
    seconds = time.monotonic() - started
    handed_over = received() - before
    states = sum(1 for state in summary.states.values() if state == "sent")
    print(f"   {label}: {handed_over} messages handed over in {seconds:.2f} s ({handed_over / seconds:.0f} messages/s); "
          f"{states}/{count} clients sent")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the Mailchimp simulator adds to each answer")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        cert = make_test_certificate(base / "cert")
        os.environ["SSL_CERT_FILE"] = str(cert[0])  # trust the test server's certificate, as a private CA would be
        os.environ["SMTP_PASSWORD"] = PASSWORD
        os.environ["MAILCHIMP_TRANSACTIONAL_KEY"] = KEY

        print(f"SMTP: {args.reports} reports to an aiosmtpd server on 127.0.0.1 (STARTTLS, login)")
        with SmtpTestServer("starttls", cert, {"reports@acme.example": PASSWORD}) as server:
            home = base / "smtp"
            write_home(home, args.reports, f'method = "smtp"\n[delivery.smtp]\nhost = "127.0.0.1"\nport = {server.port}\n'
                                           f'security = "starttls"\nusername = "reports@acme.example"\n')
            seconds = run(home, "first run", args.reports, lambda: len(server.delivered))
            connections = server.connections
            run(home, "rerun", args.reports, lambda: len(server.delivered))
            duplicates = len(server.delivered) - args.reports
            target = connections == 1 and seconds < 20 and duplicates == 0
            ok &= target
            print(f"   {connections} connection(s), {len(server.delivered)} messages received, {duplicates} duplicates "
                  f"(target: 1 connection, < 20 s, none twice): {'ok' if target else 'MISSED'}")

        print(f"Mailchimp Transactional: {args.reports} reports to the simulator ({args.latency * 1000:.0f} ms latency)")
        with MailchimpSimulator(MailchimpOptions(key=KEY), latency_seconds=args.latency) as simulator:
            home = base / "mailchimp"
            write_home(home, args.reports, f'method = "mailchimp"\n[delivery.mailchimp]\nurl = "{simulator.api_url}"\n')
            seconds = run(home, "first run", args.reports, lambda: len(simulator.sent_messages))
            requests_made = simulator.counters()["requests"]
            run(home, "rerun", args.reports, lambda: len(simulator.sent_messages))
            duplicates = len(simulator.sent_messages) - args.reports
            target = seconds < 20 and duplicates == 0
            ok &= target
            print(f"   {requests_made} requests, {len(simulator.sent_messages)} messages accepted, {duplicates} duplicates "
                  f"(target: < 20 s, none twice): {'ok' if target else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
