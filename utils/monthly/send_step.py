"""Delivery around the monthly batch: `pull_info.py --send`, the demo's outbox, the index, the setup check.

Sending is not a per-client step of the batch: it runs once the reports are built, so one SMTP connection carries the whole month and the rules of
`utils/delivery/outbound.py` (never twice, the record) hold exactly as for `send_reports.py`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from utils.core.home import REPORTS_DIR
from utils.core.period import Period
from utils.core.settings import DEFAULT_SUBJECT, ClientSettings, DeliverySettings, Settings
from utils.delivery.mailchimp import MailchimpSender
from utils.delivery.message import find_reports
from utils.delivery.outbound import OUTBOX_DIR, Options, deliver_month, make_sender
from utils.delivery.smtp import SmtpSender
from utils.monthly.demo import DEMO_MSP_NAME
from utils.monthly.index import write_index
from utils.reporting.month_index import INDEX_RECORD

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 15.0


def refresh_index(home: Path, period: Period) -> None:
    """Rewrite the month's index.html so it shows each client's delivery outcome (when the batch wrote one)."""
    reports_dir = home / REPORTS_DIR / period.month
    if (reports_dir / INDEX_RECORD).exists():
        write_index(reports_dir, period, [])


def demo_settings(settings: Settings, reports_dir: Path) -> Settings:
    """The demo's own delivery: the outbox, from a made-up MSP to an example.com contact at each demo client."""
    clients = {client_id: ClientSettings(client_id, to=(f"IT contact <it@{_domain_label(report.stem, client_id)}.example.com>",))
               for client_id, report in find_reports(reports_dir).items()}
    delivery = DeliverySettings(method="outbox", from_address=f"{DEMO_MSP_NAME} <reports@demo-msp.example.com>",
                                reply_to="help@demo-msp.example.com", subject=DEFAULT_SUBJECT)
    return dataclasses.replace(settings, delivery=delivery, clients=clients, report=dataclasses.replace(settings.report, msp_name=DEMO_MSP_NAME))


def _domain_label(stem: str, client_id: str) -> str:
    label = re.sub(r"[^a-z0-9-]+", "-", stem.removesuffix(f"-{client_id}").lower()).strip("-")[:63].strip("-")
    return label or "client"


def check(settings: Settings) -> str | None:
    """`pull_info.py --check`: prove the delivery settings with one cheap call; None when there is no [delivery].

    SMTP: connect, EHLO, STARTTLS and login as configured, QUIT. Mailchimp: /users/ping.json. The
    outbox needs nothing. A failure raises a one-line error.
    """
    delivery = settings.delivery
    if delivery is None:
        return None
    if delivery.method == "outbox":
        return "outbox: messages are written to reports/<YYYY-MM>/outbox/, nothing is sent"
    sender = make_sender(settings, settings.home, Options(month="0000-00"))
    try:
        if delivery.method == "smtp":
            assert isinstance(sender, SmtpSender)
            sender.timeout = CHECK_TIMEOUT  # a check answers in seconds, not the batch's patience for a big DATA
            return sender.check()
        assert isinstance(sender, MailchimpSender)
        return sender.ping()
    finally:
        if sender is not None:
            sender.close()


def send_after_build(settings: Settings, home: Path, period: Period, client_ids: Sequence[str] | None,
                     demo: bool = False) -> Callable[[], bool]:
    """`pull_info.py --send` (and the demo's outbox): checked now, before the batch; run once the reports are built.

    The sender and its secret are set up here, so a settings error stops the run before the first
    request; the returned function sends (or, for the demo, writes the outbox) and says whether all went.
    """
    options = Options(month=period.month, client_ids=tuple(client_ids or ()), period=period.as_dict())
    sender = None if demo else make_sender(settings, home, options)

    def deliver() -> bool:
        reports_dir = home / REPORTS_DIR / period.month
        if demo:
            summary = deliver_month(demo_settings(settings, reports_dir), home, options, None, out=log.debug)
            print(f"Emails (written, not sent): {len(summary.written)} in {reports_dir / OUTBOX_DIR}")
        else:
            summary = deliver_month(settings, home, options, sender)
        refresh_index(home, period)
        return summary.ok

    return deliver
