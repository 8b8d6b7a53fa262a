"""The month's delivery record, reports/<YYYY-MM>/delivery.json, and the lock that keeps one sender a month.

Per client: `sent` (every recipient accepted), `partial` (some refused), `failed` (provably not sent:
safe to retry), `unknown` (the message may have been handed over: never retried automatically, a
person decides, then `--resend`). An entry also keeps the message id, the SHA-256 of the HTML and
text sent, and the name of the copy kept in sent/ (utils/delivery/sent_copy.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from utils.core import clock
from utils.core.cli import clean_text
from utils.core.errors import DataError, IntegoError
from utils.core.files import read_json
from utils.core.portable import try_lock, unlock
from utils.delivery.message import Outgoing, SendResult, server_text

RECORD_FILE = "delivery.json"
LOCK_FILE = ".delivery.lock"
OUTCOMES = ("sent", "partial", "failed", "unknown")
DONE_OUTCOMES = frozenset({"sent", "partial", "unknown"})  # a rerun leaves these alone
REASON_LIMIT = 1000  # a whole reason in the record (our words around the server's)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
                 method: str, previous: Mapping[str, Any] | None, sent_copy: str | None = None) -> dict[str, Any]:
    """One client's entry; an earlier entry (a retry or --resend) is kept under "earlier".

    `sent_copy` is the message as sent, relative to the month's folder (sent/<stem>.eml).
    """
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
    if outgoing is not None and result.outcome in DONE_OUTCOMES:
        # What the client was sent, checkable later against the files (a rebuild may have replaced them).
        entry["html_sha256"] = sha256_hex(outgoing.html.encode("utf-8"))
        entry["text_sha256"] = sha256_hex(outgoing.text.encode("utf-8"))
    if sent_copy is not None and outgoing is not None:
        entry["sent_copy"] = sent_copy
        entry["sent_copy_sha256"] = sha256_hex(outgoing.wire)
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
