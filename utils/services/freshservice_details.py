"""Freshservice: completing each ticket (stats, conversations, time entries, satisfaction) with worker threads.

What a raw file keeps of a ticket: its record with stats, requester and tags, its conversations'
metadata (no text unless asked, never a private note's), its time entries and its survey answer.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any

from utils.core.cli import clean_text
from utils.core.errors import APIError, NotFoundError
from utils.core.period import Period
from utils.services.freshservice_account import RESOLVED_STATUSES, AccountContext
from utils.services.freshservice_client import FreshserviceClient
from utils.services.freshservice_memo import TicketReads, memo_key
from utils.services.tickets import PRIORITY_LABELS, resolved_time

log = logging.getLogger(__name__)

FEEDBACK_SOURCE = 5  # conversation source of a submitted satisfaction survey
CSAT_PROBES = 3  # resolved tickets asked for a survey before a month without feedback conversations counts as surveyless
VIEW_INCLUDES = ("stats", "requester", "tags", "conversations")
EMBEDDED_CONVERSATIONS_MAX = 10  # include=conversations embeds at most the first ten


def fetch_ticket_view(context: AccountContext, ticket_id: int) -> dict:
    """One ticket with stats, requester, tags and its first ten conversations, in one call."""
    body = context.with_includes(VIEW_INCLUDES, lambda include: context.client.get_json(
        f"tickets/{ticket_id}", {"include": include}, expected_cost=1 + len(include.split(","))))
    ticket = body.get("ticket") if isinstance(body, dict) else None
    if not isinstance(ticket, dict):
        raise APIError(f"unexpected answer for ticket {ticket_id}: no 'ticket' object", path=f"/api/v2/tickets/{ticket_id}")
    return ticket


def has_feedback(ticket: dict) -> bool:
    """Whether the ticket has a feedback conversation, the cheap hint that a survey was answered."""
    return any(isinstance(c, dict) and c.get("source") == FEEDBACK_SOURCE for c in ticket.get("conversations") or [])


def fetch_csat(client: FreshserviceClient, ticket_id: int, probe: bool = False) -> dict | None:
    """The ticket's survey answer, or None when it has none (Freshservice answers 404: a credit all the same)."""
    client.count(csat_requests=1, csat_probes=int(probe))
    try:
        body = client.get_json(f"tickets/{ticket_id}/csat_response")
    except NotFoundError:
        return None
    return body.get("csat_response") if isinstance(body, dict) else None


def survey_answer(context: AccountContext, ticket: dict, probe: bool = False) -> dict | None:
    """`fetch_csat` once per ticket version a run: an earlier period's answer (a 404 too) is reused."""
    key = memo_key(ticket["id"], ticket.get("updated_at"))
    known = context.details.recall(key)
    if not known.csat_read:
        known = TicketReads(csat_read=True, csat=fetch_csat(context.client, ticket["id"], probe))
        context.details.remember(key, known)
    return known.csat


def fetch_unhinted_csat(context: AccountContext, tickets: list[dict], period: Period, workers: int) -> None:
    """Survey answers that left no feedback conversation, into the tickets' `csat`.

    The docs never promise that an answered survey leaves a `source: 5` conversation
    (freshservice-api.md Part 1). So when none of the client's tickets has one yet some were
    resolved in the period, up to CSAT_PROBES of those are asked (a credit each); if one answers,
    the account's surveys leave no hint and every resolved ticket is asked, for this client and the
    run's later ones. Once a feedback conversation has been seen, the hint is trusted.
    """
    if context.surveys_leave_feedback is None and any(has_feedback(ticket) for ticket in tickets):
        context.surveys_leave_feedback = True
    if context.surveys_leave_feedback:
        return
    unanswered = [ticket for ticket in tickets if ticket.get("csat") is None and
                  (resolved_time(ticket) is not None or ticket.get("status") in RESOLVED_STATUSES)]
    asked: set[int] = set()
    if context.surveys_leave_feedback is None:
        # The earliest resolved first: their requesters have had the longest to answer.
        resolved_in_period = sorted((t for t in unanswered if period.contains(resolved_time(t))), key=lambda t: resolved_time(t) or period.end)
        for ticket in resolved_in_period[:CSAT_PROBES]:
            asked.add(ticket["id"])
            ticket["csat"] = survey_answer(context, ticket, probe=True)
            if ticket["csat"] is not None:
                log.info("survey answers leave no feedback conversation on this helpdesk; asking every resolved ticket")
                context.surveys_leave_feedback = False
                break
    if context.surveys_leave_feedback is not False:
        return
    rest = [ticket for ticket in unanswered if ticket["id"] not in asked]
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="csat") as pool:
        for ticket, csat in zip(rest, pool.map(lambda t: survey_answer(context, t), rest), strict=True):
            ticket["csat"] = csat


def fetch_time_entries(client: FreshserviceClient, ticket_id: int) -> list[dict]:
    return sorted(client.paginate(f"tickets/{ticket_id}/time_entries", "time_entries"),
                  key=lambda e: (e.get("executed_at") or e.get("created_at") or "", e.get("id") or 0))


class TicketGone(NotFoundError):
    """A ticket found by the discovery answered 404 when its details were read: deleted meanwhile."""

    def __init__(self, ticket_id: Any):
        super().__init__(f"ticket {ticket_id} was deleted while its period was being read (404); it is left out",
                         404, f"/api/v2/tickets/{ticket_id}")
        self.ticket_id = ticket_id


# What a raw file keeps of a conversation: who, when, and what kind (the metrics read incoming,
# private and source). The text stays in Freshservice: raw files are archived month after month.
CONVERSATION_KEYS = ("id", "incoming", "private", "source", "user_id", "created_at", "updated_at")
CONVERSATION_TEXT_KEYS = ("body", "body_text")
TICKET_TEXT_KEYS = ("description", "description_text")


def conversation_metadata(conversation: dict, keep_public_text: bool = False) -> dict:
    """A conversation without its text (with it, when asked, for a public one; never a private note's)."""
    kept = {key: conversation.get(key) for key in CONVERSATION_KEYS if key in conversation}
    if keep_public_text and conversation.get("private") is False:
        kept.update({key: conversation[key] for key in CONVERSATION_TEXT_KEYS if key in conversation})
    return kept


def fetch_ticket_details(context: AccountContext, ticket: dict, side_pool: ThreadPoolExecutor | None = None,
                         keep_conversation_text: bool = False) -> dict:
    """Complete one ticket: stats/requester/tags (from the sweep or a view), conversations, time entries, CSAT.

    The time entries do not depend on anything else, so they are fetched on `side_pool` meanwhile.
    Raises TicketGone when the ticket answers 404 (deleted since it was found).
    """
    try:
        return _fetch_ticket_details(context, ticket, side_pool, keep_conversation_text)
    except TicketGone:
        raise
    except NotFoundError:
        raise TicketGone(ticket["id"]) from None


def _fetch_ticket_details(context: AccountContext, ticket: dict, side_pool: ThreadPoolExecutor | None,
                          keep_conversation_text: bool) -> dict:
    client = context.client
    ticket_id = ticket["id"]
    swept = context.sweep.get(ticket_id)
    # Read once per ticket version a run (freshservice_memo.py says why that is safe): what an earlier
    # period of the run read of this version is reused; the record is still put together here, from this
    # period's discovery and sweep, so it comes out exactly as a fresh read would.
    key = memo_key(ticket_id, (swept or ticket).get("updated_at"))
    known = context.details.recall(key)
    reused = known.time_entries is not None and keep_conversation_text in known.conversations
    time_entries = side_pool.submit(fetch_time_entries, client, ticket_id) if side_pool and known.time_entries is None else None
    embedded: list[dict] | None = None
    if swept is not None:
        record = {**ticket, **swept}
    else:
        if known.view is None:
            known.view = fetch_ticket_view(context, ticket_id)
            embedded = known.view.pop("conversations", None)
            for text_key in TICKET_TEXT_KEYS:
                known.view.pop(text_key, None)  # popped from the record below all the same; the memo keeps no text
        record = {**ticket, **known.view}
    if keep_conversation_text not in known.conversations:
        if embedded is not None and len(embedded) < EMBEDDED_CONVERSATIONS_MAX:
            conversations = embedded  # the embed held them all: no conversations call needed
        else:
            conversations = list(client.paginate(f"tickets/{ticket_id}/conversations", "conversations"))
        known.conversations[keep_conversation_text] = [
            conversation_metadata(c, keep_conversation_text)
            for c in sorted(conversations, key=lambda c: (c.get("created_at") or "", c.get("id") or 0)) if isinstance(c, dict)]
    record["conversations"] = known.conversations[keep_conversation_text]
    for text_key in TICKET_TEXT_KEYS:
        record.pop(text_key, None)
    if known.time_entries is None:
        known.time_entries = time_entries.result() if time_entries else fetch_time_entries(client, ticket_id)
    record["time_entries"] = known.time_entries
    if has_feedback(record) and not known.csat_read:
        known.csat_read, known.csat = True, fetch_csat(client, ticket_id)
    record["csat"] = known.csat if has_feedback(record) else None
    complete_record(context, record, tags_refused=swept is not None and context.list_tags_refused)
    if record.get("updated_at") == (swept or ticket).get("updated_at"):  # else it changed while being read: not remembered
        context.details.remember(key, known)
    if reused:
        context.details.count_reuse()
    return record


def complete_record(context: AccountContext, record: dict, tags_refused: bool) -> None:
    """The keys every ticket of a raw file has: stats, tags, the requester's name, the codes' labels."""
    record.setdefault("stats", None)
    # A swept ticket has no tags where the account refuses include=tags on the list: unknown, not none.
    record.setdefault("tags", None if tags_refused else [])
    requester = record.get("requester")
    record["requester"] = ({"id": requester.get("id"), "name": requester.get("name"), "email": requester.get("email")}
                           if isinstance(requester, dict) else None)
    record["status_text"] = _coded(context.status_labels, record.get("status"), "Status")
    record["priority_text"] = _coded(PRIORITY_LABELS, record.get("priority"), "Priority")
    record["source_text"] = _coded(context.source_labels, record.get("source"), "Source")


class Progress:
    """A live line on a terminal; a few plain log lines otherwise."""

    def __init__(self, total: int, client: FreshserviceClient, label: str, log_level: int = logging.INFO):
        self.total, self.client, self.label, self.log_level = total, client, clean_text(label), log_level  # a server's name, raw to a tty
        self.credits_before = client.counters.credits
        self.done = 0
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty() and log.isEnabledFor(logging.INFO)
        self._lock = threading.Lock()
        self._next_log = 0.25

    def step(self) -> None:
        with self._lock:
            self.done += 1
            elapsed = time.monotonic() - self.started
            left = elapsed / self.done * (self.total - self.done)
            credits = self.client.counters.credits - self.credits_before
            line = f"{self.label}: {self.done}/{self.total} tickets, {credits} credits, ~{left:.0f} s left"
            if self.tty:
                sys.stderr.write("\r" + line + " " * 8)
                if self.done == self.total:
                    sys.stderr.write("\n")
                sys.stderr.flush()
            elif self.total and self.done / self.total >= self._next_log:
                self._next_log += 0.25
                log.log(self.log_level, line)



def _coded(labels: Mapping[int, str], code: Any, prefix: str) -> str:
    """The label of a numeric code, or 'Status 7' for a code the labels do not know."""
    return labels.get(code, f"{prefix} {code}") if isinstance(code, int) else f"{prefix} {code}"

def fetch_all_details(context: AccountContext, tickets: list[dict], workers: int, label: str,
                      progress_level: int = logging.INFO, warnings: list[str] | None = None,
                      keep_conversation_text: bool = False) -> list[dict]:
    """Complete every ticket with bounded worker threads; the first failure stops the lot.

    A ticket deleted since it was found is left out with a line in `warnings`.
    """
    progress = Progress(len(tickets), context.client, label, progress_level)
    results: list[dict] = []
    if not tickets:
        return results
    # `workers` tickets at a time; each also fetches its time entries on the side pool, so up to
    # twice as many requests are in flight. All of them share the client's rate-limit pacing.
    # With one worker, everything goes one request at a time.
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ticket")
    side_pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ticket-side") if workers > 1 else None
    try:
        futures = [pool.submit(fetch_ticket_details, context, ticket, side_pool, keep_conversation_text) for ticket in tickets]
        gone: list[TicketGone] = []
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            for future in finished:
                error = future.exception()
                if isinstance(error, TicketGone):
                    gone.append(error)
                elif error is not None:
                    raise APIError(f"ticket details could not be fetched, so no file was written: {error}") from error
                progress.step()
        if gone and len(gone) == len(tickets) > 1:
            # Every ticket gone at once is not deletions but an endpoint this account lacks.
            raise APIError(f"ticket details could not be fetched, so no file was written: every ticket answered 404 ({gone[0]})")
        results = [future.result() for future in futures if not isinstance(future.exception(), TicketGone)]
        for error in sorted(gone, key=lambda e: str(e.ticket_id)):
            log.warning("%s: %s", clean_text(label), error)
            if warnings is not None:
                warnings.append(str(error))
    finally:
        # On an error or Ctrl-C, drop the queued work instead of finishing it.
        pool.shutdown(wait=True, cancel_futures=True)
        if side_pool is not None:
            side_pool.shutdown(wait=True, cancel_futures=True)
    return results
