"""Emailing the month's built reports: which clients, in what order, and what each run did.

`send_reports.py` (and `pull_info.py --send`) call `deliver_month`. The rules:

- A client is sent its report when it has `to` recipients and `send` is not false; the
  message's HTML part is the built `.html` file byte for byte, the text part the `.txt` file
  (utils/delivery/message.py).
- `reports/<YYYY-MM>/delivery.json` is rewritten atomically after every client, so a crash
  never loses what was already handed over (utils/delivery/record.py).
- A rerun skips `sent`, `partial` and `unknown` and retries `failed`; a duplicate in a client's
  inbox is worse than a visible gap.
- What went out is kept as sent in reports/<YYYY-MM>/sent/ (utils/delivery/sent_copy.py).
- The outbox (`--dry-run`, or `method = "outbox"`) writes `.eml` files and leaves the record alone;
  `--test-to` sends to one address and leaves the record and sent/ alone.

The transports live in `utils/delivery/smtp.py` and `utils/delivery/mailchimp.py`; both return a
`SendResult` and raise `BatchStopped` when nothing else can succeed either (a refused key or login).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from utils.core.cli import clean_text
from utils.core.errors import ConfigError, DataError
from utils.core.files import write_json_atomic
from utils.core.home import REPORTS_DIR
from utils.core.secrets import MAILCHIMP_KEY, SMTP_PASSWORD, read_secret
from utils.core.settings import DeliverySettings, MailchimpSettings, Settings
from utils.delivery.mailchimp import MailchimpSender
from utils.delivery.message import (
    BatchStopped,
    BuiltReport,
    Outgoing,
    Sender,
    SendResult,
    build_message,
    find_reports,
    write_outbox,
)
from utils.delivery.message import check_addresses as check_addresses  # send_reports.py checks --test-to with it
from utils.delivery.record import DONE_OUTCOMES, delivery_lock, load_record, record_entry, record_path
from utils.delivery.record import read_outcomes as read_outcomes  # the month's index reads the outcomes here
from utils.delivery.sent_copy import discard_sent_copy, keep_sent_copy
from utils.delivery.smtp import SmtpSender

log = logging.getLogger(__name__)

OUTBOX_DIR = "outbox"
INTERRUPTED = "the run stopped while this message was being sent; it may have gone out"


# -- what to send ---------------------------------------------------------------------------------

# -- what to send ---------------------------------------------------------------------------------

@dataclass
class Plan:
    """One client's part of the run: its report (None: missing), its recipients, or why it is skipped."""

    client_id: str
    client_name: str
    report: BuiltReport | None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    skip: str | None = None  # a note; the client is left alone
    error: str | None = None  # recorded as failed without sending


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    month: str
    client_ids: tuple[str, ...] = ()
    dry_run: bool = False
    test_to: str | None = None
    resend: bool = False
    period: Mapping[str, Any] | None = None  # the period block (kind, start, end, label) the record keeps


def plan_clients(settings: Settings, reports: Mapping[str, BuiltReport], record: Mapping[str, Any], options: Options) -> list[Plan]:
    """Every selected client, in id order of the reports then the settings, with what to do for it."""
    if options.client_ids:
        candidates = list(dict.fromkeys(options.client_ids))
    else:
        configured = [cid for cid, client in settings.clients.items() if client.send and client.to]
        candidates = sorted(set(reports) | set(configured), key=lambda cid: (len(cid), cid))
    done = record.get("clients", {})
    plans = []
    for client_id in candidates:
        report = reports.get(client_id)
        client = settings.client(client_id)
        name = report.client_name if report else f"Client {client_id}"
        plan = Plan(client_id, name, report, client.to, client.cc)
        if options.test_to:
            if report is None:
                plan.skip = f"no built report in reports/{options.month}/"
            plans.append(plan)
            continue
        if not client.send:
            plan.skip = "send = false in its settings"
        elif not client.to:
            plan.skip = f"no recipients: add to = [...] under [clients.{client_id}]"
        elif report is None:
            plan.error = f"report not built: no reports/{options.month}/*-{client_id}.html"
        elif not report.text_path.exists():
            plan.error = f"report incomplete: {report.text_path.name} is missing"
        previous = done.get(client_id) if isinstance(done, dict) else None
        if plan.skip is None and not options.resend and not options.dry_run and isinstance(previous, dict):
            outcome = previous.get("outcome")
            if outcome in DONE_OUTCOMES:
                plan.skip = f"already {outcome} on {previous.get('at')}" + (
                    " (it may have been delivered: check, then use --resend)" if outcome == "unknown" else "")
        plans.append(plan)
    return plans


# -- the run --------------------------------------------------------------------------------------

@dataclass
class DeliverySummary:
    """What a run did: each selected client's state afterwards, and why the batch stopped (if it did)."""

    states: dict[str, str] = field(default_factory=dict)  # client id -> sent/partial/failed/unknown/outbox
    written: list[Path] = field(default_factory=list)  # outbox files
    stopped: str | None = None
    not_tried: list[str] = field(default_factory=list)  # client ids the run stopped before (nothing sent to them)

    @property
    def ok(self) -> bool:
        return self.stopped is None and all(state in ("sent", "outbox") for state in self.states.values())

    def counts(self) -> str:
        """The run in one line: '1 failed, 2 sent'; after a stop '6 not sent (1 failed, 5 not tried), 1 sent'."""
        counts: dict[str, int] = {}
        for state in self.states.values():
            counts[state] = counts.get(state, 0) + 1
        if self.not_tried:  # the clients after a stop were not sent either: counted with the failed
            failed = counts.pop("failed", 0)
            counts[f"not sent ({failed} failed, {len(self.not_tried)} not tried)"] = failed + len(self.not_tried)
        return ", ".join(f"{count} {state}" for state, count in sorted(counts.items())) or "nothing to do"


def deliver_month(settings: Settings, home: Path, options: Options, sender: Sender | None,
                  out: Callable[[str], Any] = print) -> DeliverySummary:
    """Send (or write to the outbox) every selected client's report for `options.month`.

    `sender` is None for the outbox (a dry run or `method = "outbox"`); it is closed at the end.
    """
    delivery = settings.delivery
    if delivery is None:
        raise ConfigError(f"no [delivery] table in {settings.path}: see integoreport.example.toml")
    run = _MonthRun(delivery, settings.report.msp_name, home / REPORTS_DIR / options.month, options, sender, out)
    try:
        with delivery_lock(run.reports_dir):
            run.record = load_record(run.reports_dir, options.month)
            if options.period is not None:
                run.record.setdefault("period", dict(options.period))
            plans = plan_clients(settings, find_reports(run.reports_dir), run.record, options)
            if not plans:
                log.warning("nothing to send for %s: no built reports in %s and no client with recipients", options.month, run.reports_dir)
            for number, plan in enumerate(plans):
                run.client(plan)
                if run.summary.stopped:
                    run.summary.not_tried = [later.client_id for later in plans[number + 1:] if not later.skip]
                    break
    finally:
        if sender is not None:
            sender.close()
    return run.summary


@dataclass
class _MonthRun:
    """One run of deliver_month: what it needs for every client, and what it did so far."""

    delivery: DeliverySettings
    msp_name: str
    reports_dir: Path
    options: Options
    sender: Sender | None
    out: Callable[[str], Any]
    record: dict[str, Any] = field(default_factory=dict)
    summary: DeliverySummary = field(default_factory=DeliverySummary)

    def client(self, plan: Plan) -> None:
        """One client: skipped, written to the outbox, or sent and recorded."""
        label = f"{plan.client_name} ({plan.client_id})"
        if plan.skip:
            if plan.skip.startswith("already"):
                self.summary.states[plan.client_id] = str(self.record["clients"][plan.client_id].get("outcome"))
                log.info("%s: skipped, %s", label, plan.skip)
            else:
                log.warning("%s: skipped, %s", label, plan.skip)
            return
        outgoing, result = _prepare(plan, self.delivery, self.msp_name, self.options)
        if outgoing is not None and self.sender is None:
            self.to_outbox(plan, outgoing, label)
            return
        method = self.sender.method if self.sender else "outbox"
        previous = self.record["clients"].get(plan.client_id)
        keep = _Keeper(self.record, record_path(self.reports_dir), plan, outgoing, method, previous if isinstance(previous, dict) else None)
        copy = None
        if outgoing is not None and self.sender is not None:
            result, copy = self.send(plan, outgoing, keep)
        self.summary.states[plan.client_id] = result.outcome
        if not self.options.test_to:
            keep(result, copy)
        if self.summary.stopped:  # one line: the reason is the same for every client
            log.error("stopped at %s, nothing more sent: %s", label, self.summary.stopped)
            return
        _log_result(label, result, outgoing, self.options.test_to)

    def send(self, plan: Plan, outgoing: Outgoing, keep: _Keeper) -> tuple[SendResult, str | None]:
        """Hand the message over; for a real send, its copy kept in sent/ first (None when it provably did not go)."""
        assert self.sender is not None and plan.report is not None
        copy = None
        if not self.options.test_to:
            try:
                copy = keep_sent_copy(self.reports_dir, outgoing, plan.report.stem)
            except DataError as exc:
                return SendResult("failed", reason=f"{exc}; not sent, as what is sent is always kept"), None
            # Written ahead: if the run dies while the message is handed over (Ctrl-C, a kill, a power
            # cut), the client is left `unknown`, never silently sent again.
            keep(SendResult("unknown", reason=INTERRUPTED), copy)
        try:
            result = self.sender.send(outgoing)
        except BatchStopped as exc:
            result, self.summary.stopped = exc.result, str(exc)
        if copy is not None and result.outcome == "failed":
            discard_sent_copy(self.reports_dir, copy)
            copy = None
        return result, copy

    def to_outbox(self, plan: Plan, outgoing: Outgoing, label: str) -> None:
        path = write_outbox(outgoing, self.reports_dir / OUTBOX_DIR / (plan.report.outbox_name if plan.report else f"{plan.client_id}.eml"))
        self.summary.written.append(path)
        self.summary.states[plan.client_id] = "outbox"
        # Cleaned: a client name from the helpdesk could carry ESC or BEL to the terminal.
        self.out(clean_text(f"{label}: would send {outgoing.subject!r} to {', '.join(outgoing.to)}"
                            + (f"; cc {', '.join(outgoing.cc)}" if outgoing.cc else "")
                            + (f"; bcc {', '.join(outgoing.bcc)}" if outgoing.bcc else "") + f" -> {path}"))


@dataclass
class _Keeper:
    """Writes one client's entry into the record (atomically), keeping its earlier entry under "earlier"."""

    record: dict[str, Any]
    path: Path
    plan: Plan
    outgoing: Outgoing | None
    method: str
    previous: dict[str, Any] | None

    def __call__(self, result: SendResult, sent_copy: str | None = None) -> None:
        report_name = self.plan.report.html_path.name if self.plan.report else None
        self.record["clients"][self.plan.client_id] = record_entry(self.outgoing, report_name, self.plan.client_name, result,
                                                                   self.method, self.previous, sent_copy)
        write_json_atomic(self.path, self.record)


def _prepare(plan: Plan, delivery: DeliverySettings, msp_name: str, options: Options) -> tuple[Outgoing | None, SendResult]:
    """The client's message, or the failed result that stands for it."""
    if plan.error or plan.report is None:
        return None, SendResult("failed", reason=plan.error or "no report")
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    if options.test_to:
        to, cc, bcc = (options.test_to,), (), ()
    else:
        to, cc, bcc = plan.to, plan.cc, delivery.bcc
    try:
        return build_message(plan.report, delivery, msp_name, options.month, to, cc, bcc, test=bool(options.test_to)), SendResult("failed")
    except (DataError, ValueError) as exc:
        return None, SendResult("failed", reason=str(exc))


def _log_result(label: str, result: SendResult, outgoing: Outgoing | None, test_to: str | None) -> None:
    refused = "; ".join(f"{address}: {reason}" for address, reason in result.refused.items())
    if result.outcome == "sent":
        log.info("%s: sent to %s%s", label, ", ".join(result.accepted), " (test, not recorded)" if test_to else "")
    elif result.outcome == "partial":
        log.warning("%s: partly sent: accepted %s; refused %s", label, ", ".join(result.accepted), refused)
    elif result.outcome == "unknown":
        log.error("%s: outcome unknown, not retried automatically: %s", label, result.reason)
    else:
        log.error("%s: not sent: %s", label, result.reason or refused or "refused")


def make_sender(settings: Settings, home: Path, options: Options) -> Sender | None:
    """The configured transport with its secret read now, before anything is sent; None for the outbox."""
    delivery = settings.delivery
    if delivery is None:
        raise ConfigError(f"no [delivery] table in {settings.path}: see integoreport.example.toml")
    if options.dry_run or delivery.method == "outbox":
        return None
    if delivery.method == "smtp":
        smtp = delivery.smtp
        if smtp is None:
            raise ConfigError(f"{settings.path}: [delivery] method is \"smtp\" but there is no [delivery.smtp] table")
        password = read_secret(home, SMTP_PASSWORD) if smtp.username else None
        return SmtpSender(smtp, password)
    key = read_secret(home, MAILCHIMP_KEY)
    return MailchimpSender(delivery.mailchimp or MailchimpSettings(), key)
