"""Proof of what was sent: each message as it went out, kept in reports/<YYYY-MM>/sent/ (owner only).

`deliver_month` writes a client's copy before the message is handed over (with the record's
write-ahead `unknown` entry) and removes it only when the send provably failed, so a record that
says a message may have gone out always names its copy. A copy is never replaced: a `--resend`
adds another (<stem>.2.eml) beside the first. Rebuilding the month's reports rewrites the files
beside this folder, never the folder itself; `rebuild_notice` is the line that says so.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

from utils.core.errors import DataError
from utils.core.files import make_private_dir
from utils.delivery.message import Outgoing
from utils.delivery.record import DONE_OUTCOMES, read_outcomes

SENT_DIR = "sent"


def keep_sent_copy(reports_dir: Path, outgoing: Outgoing, stem: str) -> str:
    """Write the message's wire bytes to sent/<stem>.eml (or .2.eml, ...); the name relative to `reports_dir`.

    The copy appears whole or not at all (written aside, then linked in under a free name), and an
    existing copy is never overwritten. DataError when it cannot be written.
    """
    folder = reports_dir / SENT_DIR
    try:
        make_private_dir(folder)
        os.chmod(folder, 0o700)  # a folder made by hand (or an older run) is made owner-only too
        fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=folder)  # created 0600
    except OSError as exc:
        raise DataError(f"cannot keep the sent copy in {folder}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(outgoing.wire)
            handle.flush()
            os.fsync(handle.fileno())
        for number in itertools.count(1):
            name = f"{stem}.eml" if number == 1 else f"{stem}.{number}.eml"
            try:
                os.link(tmp_name, folder / name)  # unlike a rename, a link never replaces what is there
            except FileExistsError:
                continue
            return f"{SENT_DIR}/{name}"
        raise AssertionError("unreachable")  # itertools.count never ends
    except OSError as exc:
        raise DataError(f"cannot keep the sent copy in {folder}: {exc.strerror or exc}") from exc
    finally:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass


def discard_sent_copy(reports_dir: Path, name: str) -> None:
    """Remove a copy whose message provably never went out (the send failed before any server took it)."""
    try:
        (reports_dir / name).unlink()
    except OSError:
        pass  # left behind, it still matches no record entry: harmless


def rebuild_notice(reports_dir: Path, client_id: str) -> str | None:
    """The one line a rebuild of an already-sent client's report logs, or None when nothing was sent."""
    entry = read_outcomes(reports_dir).get(str(client_id))
    if entry is None or entry.get("outcome") not in DONE_OUTCOMES:
        return None
    name, day = entry.get("client") or f"client {client_id}", str(entry.get("at") or "")[:10]
    verb = "sent" if entry.get("outcome") != "unknown" else "that may have been sent"
    copy = entry.get("sent_copy")
    if isinstance(copy, str) and (reports_dir / copy).is_file():
        return f"the report {verb} to {name} on {day} is kept in {copy}; this rebuild does not change what they received"
    return (f"the report {verb} to {name} on {day} has no copy in {SENT_DIR}/ (sent before copies were kept); "
            "this rebuild may differ from what they received")
