"""Emailing the month's built reports: which clients, the message, the delivery record, the outcomes.

`send_reports.py` (and `pull_info.py --send`) call `deliver_month`. The rules:

- A client is sent its report when it has `to` recipients and `send` is not false; the
  message's HTML part is the built `.html` file byte for byte, the text part the `.txt` file.
- `reports/<YYYY-MM>/delivery.json` is rewritten atomically after every client, so a crash
  never loses what was already handed over. Per client: `sent` (every recipient accepted),
  `partial` (some refused), `failed` (provably not sent: safe to retry), `unknown` (the message may
  have been handed over: never retried automatically, a person decides, then `--resend`).
- A rerun skips `sent`, `partial` and `unknown` and retries `failed`; a duplicate in a client's
  inbox is worse than a visible gap.
- The outbox (`--dry-run`, or `method = "outbox"`) writes `.eml` files and leaves the record alone.

The transports live in `utils/delivery/smtp.py` and `utils/delivery/mailchimp.py`; both return a
`SendResult` and raise `BatchStopped` when nothing else can succeed either (a refused key or login).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import Any, Protocol

from utils.core import clock
from utils.core.cli import clean_text, redact
from utils.core.config import REPORTS_DIR
from utils.core.errors import ConfigError, DataError, IntegoError
from utils.core.files import read_json, read_regular_bytes, write_json_atomic, write_text_atomic
from utils.core.period import MONTH_NAMES
from utils.core.portable import try_lock, unlock
from utils.core.secrets import MAILCHIMP_KEY, SMTP_PASSWORD, read_secret
from utils.core.settings import DeliverySettings, MailchimpSettings, Settings, parse_address
from utils.reporting.report_format import truncate

log = logging.getLogger("send_reports")

RECORD_FILE = "delivery.json"
OUTBOX_DIR = "outbox"
LOCK_FILE = ".delivery.lock"
OUTCOMES = ("sent", "partial", "failed", "unknown")
DONE_OUTCOMES = frozenset({"sent", "partial", "unknown"})  # a rerun leaves these alone
TEST_PREFIX = "[TEST] "
INTERRUPTED = "the run stopped while this message was being sent; it may have gone out"
SERVER_TEXT_LIMIT = 300  # a server's own words as stored and printed: a 2 MB error body is not a reason
REASON_LIMIT = 1000  # a whole reason in the record (our words around the server's)
_REPORT_NAME = re.compile(r"^(?P<slug>.+)-(?P<id>\d+)\.html$")


# -- what is sent and how it went ---------------------------------------------------------------

@dataclass(frozen=True)
class BuiltReport:
    """One client's built report files in reports/<YYYY-MM>/ (the batch names them <slug>-<id>.*)."""

    client_id: str
    stem: str
    html_path: Path
    text_path: Path
    client_name: str

    @property
    def outbox_name(self) -> str:
        return f"{self.stem}.eml"


@dataclass(frozen=True)
class Outgoing:
    """A message ready for a transport: the MIME message plus what an API needs separately."""

    client_id: str
    month: str
    message: EmailMessage
    subject: str
    from_address: str
    reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    html: str
    text: str
    message_id: str

    @property
    def envelope_from(self) -> str:
        return addr_spec(self.from_address)

    @property
    def envelope_to(self) -> list[str]:
        """Every recipient's bare address, in order, once each."""
        seen: dict[str, None] = {}
        for address in (*self.to, *self.cc, *self.bcc):
            seen.setdefault(addr_spec(address), None)
        return list(seen)


@dataclass
class SendResult:
    """How one message went: the outcome, who accepted it, who refused it and why."""

    outcome: str
    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    service_ids: dict[str, str] = field(default_factory=dict)  # the service's id per recipient (Mailchimp's _id)
    held: str | None = None  # Mailchimp's account-level queued_reason: the service holds the message


class Sender(Protocol):
    """A transport: sends one message at a time over a connection kept for the batch."""

    method: str

    def send(self, outgoing: Outgoing) -> SendResult: ...

    def close(self) -> None: ...


class BatchStopped(IntegoError):
    """Nothing more can be sent this run (a refused key or login); carries the current client's result."""

    def __init__(self, message: str, result: SendResult):
        super().__init__(message)
        self.result = result


def server_text(text: str, limit: int = SERVER_TEXT_LIMIT) -> str:
    """A server's message, safe to store and print: no secret (some services repeat the key), no control
    characters, one line, cut to `limit` characters."""
    return truncate(clean_text(redact(text)), limit)


def outcome_of(accepted: Sequence[str], refused: Mapping[str, str]) -> str:
    """All accepted: sent; some: partial; none: failed."""
    if accepted and not refused:
        return "sent"
    return "partial" if accepted else "failed"


# -- addresses ----------------------------------------------------------------------------------

def addr_spec(address: str) -> str:
    """'Jane Roe <jane@example.com>' -> 'jane@example.com'."""
    pairs = getaddresses([address])
    return pairs[0][1] if pairs and pairs[0][1] else address.strip()


def sender_domain(address: str) -> str:
    spec = addr_spec(address)
    return spec.rsplit("@", 1)[1] if "@" in spec else "localhost"


def display_name(address: str) -> str:
    pairs = getaddresses([address])
    return pairs[0][0] if pairs else ""


# -- finding the built reports ------------------------------------------------------------------

def month_label(month: str) -> str:
    """'2026-10' -> 'October 2026'."""
    year, number = month.split("-")
    return f"{MONTH_NAMES[int(number) - 1]} {year}"


def find_reports(reports_dir: Path) -> dict[str, BuiltReport]:
    """The built reports in a month's folder, by client id (an .html whose .txt may be missing)."""
    found: dict[str, BuiltReport] = {}
    if not reports_dir.is_dir():
        return found
    for html_path in sorted(reports_dir.glob("*.html")):
        match = _REPORT_NAME.match(html_path.name)
        if not match:
            continue  # index.html and anything else that is not a client's report
        stem = html_path.name[: -len(".html")]
        client_id = match.group("id")
        found[client_id] = BuiltReport(client_id, stem, html_path, html_path.with_suffix(".txt"),
                                       _client_name(html_path.with_suffix(".json"), client_id))
    return found


def _client_name(metrics_path: Path, client_id: str) -> str:
    """The client's name as the report shows it (the metrics JSON beside the report)."""
    try:
        name = read_json(metrics_path, "metrics file").get("client", {}).get("name")
    except (DataError, AttributeError):
        name = None
    return str(name) if name else f"Client {client_id}"


# -- building the message -----------------------------------------------------------------------

def build_message(report: BuiltReport, delivery: DeliverySettings, msp_name: str, month: str,
                  to: Sequence[str], cc: Sequence[str] = (), bcc: Sequence[str] = (), test: bool = False) -> Outgoing:
    """The client's email: multipart/alternative, text part then the HTML part exactly as built.

    Raises DataError when a report file is missing and ValueError when a value would break a header
    (a line break in a client name, subject or address never becomes a header of its own).
    """
    # A report swapped for a link (to ~/.ssh/id_rsa, say), a FIFO or a device is never read and mailed.
    html_bytes = read_regular_bytes(report.html_path, "report")
    text_bytes = read_regular_bytes(report.text_path, "report")
    try:
        html = html_bytes.decode("utf-8")
        text = text_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"the report {report.stem} is not UTF-8: {exc}") from None
    subject = delivery.subject.format(client=report.client_name, month=month_label(month), msp=msp_name)
    if test:
        subject = TEST_PREFIX + subject
    for what, value in (("client name", report.client_name), ("subject", subject),
                        *(("address", address) for address in (*to, *cc, *bcc))):
        if "\r" in value or "\n" in value:
            raise ValueError(f"the {what} contains a line break (refused: it could add a header): {value!r}")
    subject = clean_text(subject)  # ESC, BEL or NUL from a client name would reach every mail client raw

    message = EmailMessage(policy=email_policy.default)
    message["Subject"] = subject  # the default policy refuses CR/LF here as well: a second guard
    message["From"] = delivery.from_address
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if delivery.reply_to:
        message["Reply-To"] = delivery.reply_to
    message_id = make_msgid(domain=sender_domain(delivery.from_address))
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(clock.now())
    message["X-IntegoReport-Client"] = report.client_id
    message["X-IntegoReport-Month"] = month
    message.set_content(text, cte="quoted-printable")  # 7-bit safe for any relay
    # Bytes in base64: the HTML part decodes to the built file byte for byte (a str part would have
    # its line endings rewritten and a newline added at the end).
    message.add_alternative(html_bytes, maintype="text", subtype="html", cte="base64", params={"charset": "utf-8"})
    return Outgoing(report.client_id, month, message, subject, delivery.from_address, delivery.reply_to,
                    tuple(to), tuple(cc), tuple(bcc), html, text, message_id)


def write_outbox(outgoing: Outgoing, path: Path) -> Path:
    """The message as an .eml file a mail program opens (Bcc is not a header, so it is not there)."""
    return write_text_atomic(path, outgoing.message.as_string())


# -- the delivery record --------------------------------------------------------------------------

def record_path(reports_dir: Path) -> Path:
    return reports_dir / RECORD_FILE


def load_record(reports_dir: Path, month: str) -> dict[str, Any]:
    """The month's delivery record, or an empty one; an unreadable record stops the run (never guess)."""
    path = record_path(reports_dir)
    if not path.exists():
        return {"month": month, "clients": {}}
    try:
        record = read_json(path, "delivery record")
    except DataError as exc:
        raise DataError(f"{exc}; without it a rerun could send a report twice: repair or move the file") from None
    if not isinstance(record, dict) or not isinstance(record.get("clients"), dict):
        raise DataError(f"delivery record {path} has the wrong shape; repair or move the file")
    for client_id, entry in record["clients"].items():
        # A hand-edited outcome ("Sent", null, a bare string) must not read as "not sent yet".
        if not isinstance(entry, dict) or entry.get("outcome") not in OUTCOMES:
            found = f"the outcome {entry.get('outcome')!r}" if isinstance(entry, dict) else f"the entry {entry!r}"
            raise DataError(f"delivery record {path}: client {client_id} has {clean_text(found)[:80]}, not an outcome of "
                            f"{', '.join(OUTCOMES)}; a rerun could send its report twice: repair or move the file")
    return record


def read_outcomes(reports_dir: Path) -> dict[str, dict[str, Any]]:
    """Each client's latest delivery entry, for the index page ({} when there is no readable record)."""
    try:
        record = read_json(record_path(reports_dir), "delivery record")
        clients = record.get("clients") if isinstance(record, dict) else None
        return {str(k): v for k, v in clients.items() if isinstance(v, dict)} if isinstance(clients, dict) else {}
    except DataError:
        return {}


def record_entry(outgoing: Outgoing | None, report_name: str | None, client_name: str, result: SendResult,
                 method: str, previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """One client's entry; an earlier entry (a retry or --resend) is kept under "earlier"."""
    entry: dict[str, Any] = {
        "client": client_name,
        "outcome": result.outcome,
        "at": clock.now().isoformat(timespec="seconds"),
        "method": method,
        # Mailchimp writes its own Message-ID; its per-recipient _id is what its activity log finds.
        "message_id": next(iter(result.service_ids.values()), None) if method == "mailchimp" else outgoing.message_id if outgoing else None,
        "subject": outgoing.subject if outgoing else None,
        "report": report_name,
        "to": list(outgoing.to) if outgoing else [],
        "cc": list(outgoing.cc) if outgoing else [],
        "bcc": list(outgoing.bcc) if outgoing else [],
        "accepted": list(result.accepted),
        "refused": [{"address": address, "reason": server_text(reason)} for address, reason in result.refused.items()],
        "reason": server_text(result.reason, REASON_LIMIT) if result.reason else result.reason,
    }
    if result.held:
        entry["held"] = result.held
    if result.service_ids:
        entry["service_ids"] = dict(result.service_ids)
    if previous:
        kept = previous.get("earlier")
        # A hand-edited "earlier" that is not a list is kept as one more entry, never dropped.
        earlier = list(kept) if isinstance(kept, list) else [] if kept is None else [kept]
        earlier.append({key: value for key, value in previous.items() if key != "earlier"})
        entry["earlier"] = earlier
    return entry


@contextmanager
def delivery_lock(reports_dir: Path) -> Iterator[None]:
    """One sender per month at a time: two at once could both send the same client's report."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    handle = open(reports_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole block
    try:
        if not try_lock(handle.fileno()):
            raise IntegoError(f"another send for {reports_dir.name} is in progress ({reports_dir / LOCK_FILE})")
        try:
            yield
        finally:
            unlock(handle.fileno())
    finally:
        handle.close()


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


def check_addresses(addresses: Sequence[str]) -> None:
    """Addresses from the command line parse like those in the settings (ConfigError otherwise)."""
    for address in addresses:
        try:
            Address(addr_spec=addr_spec(parse_address(address)))
        except (ValueError, IndexError) as exc:
            raise ConfigError(f"--test-to {exc}") from None


# -- the run --------------------------------------------------------------------------------------

@dataclass
class DeliverySummary:
    """What a run did: each selected client's state afterwards, and why the batch stopped (if it did)."""

    states: dict[str, str] = field(default_factory=dict)  # client id -> sent/partial/failed/unknown/outbox
    written: list[Path] = field(default_factory=list)  # outbox files
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        return self.stopped is None and all(state in ("sent", "outbox") for state in self.states.values())


def deliver_month(settings: Settings, home: Path, options: Options, sender: Sender | None,
                  out: Any = print) -> DeliverySummary:
    """Send (or write to the outbox) every selected client's report for `options.month`.

    `sender` is None for the outbox (a dry run or `method = "outbox"`); it is closed at the end.
    """
    delivery = settings.delivery
    if delivery is None:
        raise ConfigError(f"no [delivery] table in {settings.path}: see integoreport.example.toml")
    reports_dir = home / REPORTS_DIR / options.month
    summary = DeliverySummary()
    to_outbox = sender is None
    try:
        with delivery_lock(reports_dir):
            record = load_record(reports_dir, options.month)
            plans = plan_clients(settings, find_reports(reports_dir), record, options)
            if not plans:
                log.warning("nothing to send for %s: no built reports in %s and no client with recipients", options.month, reports_dir)
            for plan in plans:
                label = f"{plan.client_name} ({plan.client_id})"
                if plan.skip:
                    if plan.skip.startswith("already"):
                        summary.states[plan.client_id] = str(record["clients"][plan.client_id].get("outcome"))
                        log.info("%s: skipped, %s", label, plan.skip)
                    else:
                        log.warning("%s: skipped, %s", label, plan.skip)
                    continue
                outgoing, result = _prepare(plan, delivery, settings.report.msp_name, options)
                if outgoing is not None and to_outbox:
                    path = write_outbox(outgoing, reports_dir / OUTBOX_DIR / (plan.report.outbox_name if plan.report else f"{plan.client_id}.eml"))
                    summary.written.append(path)
                    summary.states[plan.client_id] = "outbox"
                    # Cleaned: a client name from the helpdesk could carry ESC or BEL to the terminal.
                    out(clean_text(f"{label}: would send {outgoing.subject!r} to {', '.join(outgoing.to)}"
                                   + (f"; cc {', '.join(outgoing.cc)}" if outgoing.cc else "")
                                   + (f"; bcc {', '.join(outgoing.bcc)}" if outgoing.bcc else "") + f" -> {path}"))
                    continue
                method = "outbox" if to_outbox else sender.method if sender else delivery.method
                previous = record["clients"].get(plan.client_id)
                keep = _Keeper(record, record_path(reports_dir), plan, outgoing, method, previous if isinstance(previous, dict) else None)
                if outgoing is not None and sender is not None:
                    if not options.test_to:
                        # Written ahead: if the run dies while the message is handed over (Ctrl-C, a kill,
                        # a power cut), the client is left `unknown`, never silently sent again.
                        keep(SendResult("unknown", reason=INTERRUPTED))
                    try:
                        result = sender.send(outgoing)
                    except BatchStopped as exc:
                        result, summary.stopped = exc.result, str(exc)
                summary.states[plan.client_id] = result.outcome
                if not options.test_to:
                    keep(result)
                if summary.stopped:  # one line: the reason is the same for every client
                    log.error("stopped at %s, nothing more sent: %s", label, summary.stopped)
                    break
                _log_result(label, result, outgoing, options.test_to)
    finally:
        if sender is not None:
            sender.close()
    return summary


@dataclass
class _Keeper:
    """Writes one client's entry into the record (atomically), keeping its earlier entry under "earlier"."""

    record: dict[str, Any]
    path: Path
    plan: Plan
    outgoing: Outgoing | None
    method: str
    previous: dict[str, Any] | None

    def __call__(self, result: SendResult) -> None:
        report_name = self.plan.report.html_path.name if self.plan.report else None
        self.record["clients"][self.plan.client_id] = record_entry(self.outgoing, report_name, self.plan.client_name, result,
                                                                   self.method, self.previous)
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
        from utils.delivery.smtp import SmtpSender

        smtp = delivery.smtp
        if smtp is None:
            raise ConfigError(f"{settings.path}: [delivery] method is \"smtp\" but there is no [delivery.smtp] table")
        password = read_secret(home, SMTP_PASSWORD) if smtp.username else None
        return SmtpSender(smtp, password)
    from utils.delivery.mailchimp import MailchimpSender

    key = read_secret(home, MAILCHIMP_KEY)
    return MailchimpSender(delivery.mailchimp or MailchimpSettings(), key)
