"""One client's email: the built report found on disk, the MIME message, what a transport hands back.

The message's HTML part is the built `.html` file byte for byte (quoted-printable, so every line is
short and no spam rule reads the encoding as a disguise), the text part the `.txt` file. `wire`
is the message exactly as it goes out: the bytes handed to the SMTP server and the bytes kept
under reports/<YYYY-MM>/sent/ (utils/delivery/sent_copy.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import Protocol

from utils.core import clock
from utils.core.cli import clean_text, redact
from utils.core.errors import ConfigError, DataError, IntegoError
from utils.core.files import read_json, read_regular_bytes, write_text_atomic
from utils.core.period import MONTH_NAMES, key_label
from utils.core.settings import DeliverySettings, parse_address
from utils.core.settings_tables import DEFAULT_SUBJECT

TEST_PREFIX = "[TEST] "
SERVER_TEXT_LIMIT = 300  # a server's own words as stored and printed: a 2 MB error body is not a reason
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
    wire: bytes  # the message as it goes out: CRLF lines, serialized once (the MIME boundary is fixed by it)

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
    text = re.sub(r"\s+", " ", clean_text(redact(text))).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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

PERIOD_SUBJECT = "{client}: IT service review for {period}"


def is_period_key(month: str) -> bool:
    """Whether a reports/ folder name is a quarter's or a range's (2026-Q3, 2026-07..2026-09), not a month's."""
    return "Q" in month or ".." in month


def month_label(month: str) -> str:
    """'2026-10' -> 'October 2026'; a quarter's or range's key -> its label ('2026-Q3' -> 'Q3 2026')."""
    if is_period_key(month):
        return key_label(month)
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
    # A quarter's or range's review has its own default subject; a subject set in the settings is kept for every period.
    template = PERIOD_SUBJECT if is_period_key(month) and delivery.subject == DEFAULT_SUBJECT else delivery.subject
    subject = template.format(client=report.client_name, month=month_label(month), period=month_label(month), msp=msp_name)
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
    # Bytes, quoted-printable: the HTML part decodes to the built file byte for byte (a str part would have
    # its line endings rewritten and a newline added at the end; bytes in QP keep even the line breaks as
    # =0A). Not base64: SpamAssassin's FONT_INVIS_MSGID, among others, counts a base64 HTML part against it.
    message.add_alternative(html_bytes, maintype="text", subtype="html", cte="quoted-printable", params={"charset": "utf-8"})
    # No "From " mangling on the wire (send_message would add '>'); SMTP's CRLF line ends.
    wire = message.as_bytes(policy=email_policy.SMTP)
    return Outgoing(report.client_id, month, message, subject, delivery.from_address, delivery.reply_to,
                    tuple(to), tuple(cc), tuple(bcc), html, text, message_id, wire)


def write_outbox(outgoing: Outgoing, path: Path) -> Path:
    """The message as an .eml file a mail program opens (Bcc is not a header, so it is not there)."""
    return write_text_atomic(path, outgoing.message.as_string())


def check_addresses(addresses: Sequence[str]) -> None:
    """Addresses from the command line parse like those in the settings (ConfigError otherwise)."""
    for address in addresses:
        try:
            Address(addr_spec=addr_spec(parse_address(address)))
        except (ValueError, IndexError) as exc:
            raise ConfigError(f"--test-to {exc}") from None
