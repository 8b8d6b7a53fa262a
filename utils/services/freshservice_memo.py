"""Freshservice: what one run has already read of each ticket, so a ticket is read once per version a run.

One `pull_info.py` run pulls several periods: `--backfill` up to five past months, the demo then the
previous quarter and the month. A ticket open across a month end, or every ticket of a quarter whose
months were just backfilled, would otherwise have its view, conversations, time entries and survey
answer read again for each period. The run's client holds one `TicketMemo` (in memory only, never
on disk), and every AccountContext of the run reads through it.

Why (ticket id, `updated_at`) is a safe key within one run: Freshservice moves a ticket's
`updated_at` when the ticket is edited, replied to, noted, resolved, rated or has time logged on it
(the discovery already relies on this to find a period's tickets by `updated_at`; the reference,
freshservice-api.md, documents `updated_at` and `updated_since` but no list of what moves it). So
while `updated_at` stands still, a second read of the same version would read what the first did.
Where it is not safe: anything that changes without moving `updated_at` (say a time entry added
through some path that does not touch the ticket, or a requester renamed, which the view's
requester embed shows) is not seen again for the rest of the run. A run lasts minutes, so that is
what a pull a few minutes earlier would have read anyway; the next run reads everything afresh.

A ticket without an `updated_at` is never remembered: it is read every time. Each period still puts
its records together from its own discovery and sweep, so a file comes out byte for byte as without
the memo; that is also why a view is read where a period completes a ticket by a view while the
earlier periods had it from the sweep (the list's record lacks fields the view has), its
conversations, time entries and survey answer being reused all the same. Conversations are kept
per `keep_conversation_text` (a list read without text never serves a pull that wants the text).
Every reader gets a deep copy and every writer stores one: later code mutates the records (the
survey probes set `csat`), and two periods' documents must never share a list.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

MemoKey = tuple[Any, str]  # (ticket id, updated_at as the discovery or the sweep returned it)


@dataclass
class TicketReads:
    """What the per-ticket calls read of one version of a ticket; a part not read yet is None (csat: `csat_read`)."""

    view: dict | None = None  # GET /tickets/{id} without its embedded conversations and text
    conversations: dict[bool, list[dict]] = field(default_factory=dict)  # keep_conversation_text -> metadata as kept
    time_entries: list[dict] | None = None
    csat_read: bool = False
    csat: dict | None = None


def memo_key(ticket_id: Any, updated_at: Any) -> MemoKey | None:
    """The memo's key for one version of a ticket; None (never remembered) without an `updated_at`."""
    return (ticket_id, updated_at) if isinstance(updated_at, str) and updated_at else None


class TicketMemo:
    """The ticket reads of one run, keyed by ticket version; safe to share between worker threads."""

    def __init__(self) -> None:
        self._entries: dict[MemoKey, TicketReads] = {}
        self._lock = threading.Lock()
        self.reused = 0  # tickets whose details came from the memo (the tests read it)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def recall(self, key: MemoKey | None) -> TicketReads:
        """A copy of what was read of that version (empty when nothing was, or when there is no key)."""
        with self._lock:
            known = self._entries.get(key) if key is not None else None
            return copy.deepcopy(known) if known is not None else TicketReads()

    def remember(self, key: MemoKey | None, reads: TicketReads) -> None:
        """Add what `reads` holds to that version's entry (a copy: the caller's lists go into a document)."""
        if key is None:
            return
        with self._lock:
            known = self._entries.setdefault(key, TicketReads())
            if reads.view is not None:
                known.view = copy.deepcopy(reads.view)
            for with_text, conversations in reads.conversations.items():
                known.conversations[with_text] = copy.deepcopy(conversations)
            if reads.time_entries is not None:
                known.time_entries = copy.deepcopy(reads.time_entries)
            if reads.csat_read:
                known.csat_read, known.csat = True, copy.deepcopy(reads.csat)

    def count_reuse(self) -> None:
        with self._lock:
            self.reused += 1
