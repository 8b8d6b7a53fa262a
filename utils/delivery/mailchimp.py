"""Sending reports through Mailchimp Transactional (formerly Mandrill) with requests, no SDK.

`POST {url}/messages/send.json` with the key in the body, on the shared retry policy with
`idempotent=False`: the service has no idempotency key, so a request that may have reached it is
never sent again. Only a connection that was never made and a 429 are retried; a timeout or a 5xx
after the body went out is an `unknown` outcome for a person to resolve. Errors are read by the
body's `name`, not the HTTP status (older accounts answer every error with 500).

A 200 is acceptance, recipient by recipient, and not always delivery: `queued` with an account-level
`queued_reason` (a suspended or paused account, a used-up monthly limit or free trial) means the
service holds the message and may send it much later or never. That is `unknown` (never sent again
automatically), and the batch stops there, since every later message would be held the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import requests

from utils.core.errors import APIError, ConnectionFailed, OutcomeUnknown, WaitBudgetSpent
from utils.core.settings import MailchimpSettings
from utils.delivery.message import BatchStopped, Outgoing, SendResult, addr_spec, display_name, outcome_of, server_text
from utils.services.http import CHECK_POLICY, CHECK_TIMEOUT, RetryPolicy, WaitBudget
from utils.services.http import send as http_send

log = logging.getLogger(__name__)

SERVICE = "Mailchimp Transactional"
POLICY = RetryPolicy(idempotent=False)
PING_POLICY = CHECK_POLICY  # the ping is the delivery's check: the one check policy, answers in seconds
# The seconds a run may sit in 429 waits: the request-rate limit lifts in seconds (the hourly send
# quota queues mail rather than refusing it), so ten minutes of 429s mean the account is throttled
# for longer than a batch should sit still; the batch stops and a later run sends the rest.
WAIT_BUDGET = 10 * 60.0
TIMEOUT = (5.0, 120.0)  # connect, read: a send answers within seconds; the SDK waits up to 300 s
ACCEPTED = frozenset({"sent", "queued", "scheduled"})
# queued_reason values for which the service holds the message for the whole account; the benign ones
# (attachments, multiple-recipients, sending-backlogged, hourly-quota-exhausted) go out on their own.
HELD_REASONS = frozenset({"account-suspended", "sending-suspended", "sending-paused", "monthly-limit-reached",
                          "free-trial-sends-exhausted"})
STOPPING_ERRORS = frozenset({"Invalid_Key", "PaymentRequired"})  # every other client would fail the same way
REFUSED_ERRORS = frozenset({"ValidationError", "Unknown_Subaccount", "Invalid_Reject", "Unknown_Template"})
TAGS = ["integoreport", "monthly-report"]


def message_body(outgoing: Outgoing, key: str) -> dict[str, Any]:
    """The send.json body: our HTML as built (no inlining, no tracking, which would rewrite it)."""
    headers = {"X-IntegoReport-Client": outgoing.client_id, "X-IntegoReport-Month": outgoing.month}
    if outgoing.reply_to:
        headers["Reply-To"] = outgoing.reply_to
    recipients = []
    for kind, addresses in (("to", outgoing.to), ("cc", outgoing.cc), ("bcc", outgoing.bcc)):
        for address in addresses:
            entry = {"email": addr_spec(address), "type": kind}
            if display_name(address):
                entry["name"] = display_name(address)
            recipients.append(entry)
    message: dict[str, Any] = {
        "html": outgoing.html,
        "text": outgoing.text,
        "subject": outgoing.subject,
        "from_email": addr_spec(outgoing.from_address),
        "to": recipients,
        "headers": headers,
        "important": False,
        "track_opens": False,
        "track_clicks": False,
        "inline_css": False,
        "preserve_recipients": True,
        "tags": TAGS,
        "metadata": {"client_id": outgoing.client_id, "month": outgoing.month},
    }
    if display_name(outgoing.from_address):
        message["from_name"] = display_name(outgoing.from_address)
    return {"key": key, "message": message, "async": False}


class MailchimpSender:
    """Sends each message with one API call over one HTTP session for the batch."""

    method = "mailchimp"

    def __init__(self, settings: MailchimpSettings, key: str, *, session: requests.Session | None = None,
                 timeout: tuple[float, float] = TIMEOUT, policy: RetryPolicy = POLICY, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.url = settings.url.rstrip("/")
        self._key = key
        self.session = session or requests.Session()
        self.timeout = timeout
        self.policy = policy
        self.sleep = sleep
        self.wait_budget = WaitBudget(SERVICE, WAIT_BUDGET, clock=clock)  # one sender per run
        self.calls = 0

    def _post(self, method: str, body: dict[str, Any], policy: RetryPolicy | None = None,
              timeout: tuple[float, float] | None = None) -> requests.Response:
        self.calls += 1
        return http_send(self.session, "POST", f"{self.url}/{method}.json", service=SERVICE, policy=policy or self.policy,
                         timeout=timeout or self.timeout, sleep=self.sleep, budget=self.wait_budget, json=body)

    def send(self, outgoing: Outgoing) -> SendResult:
        try:
            response = self._post("messages/send", message_body(outgoing, self._key))
        except WaitBudgetSpent as exc:  # every try was answered 429: certainly not sent, and neither would the rest be
            raise BatchStopped(str(exc), SendResult("failed", reason=str(exc))) from None
        except OutcomeUnknown as exc:
            return SendResult("unknown", reason=str(exc))
        except ConnectionFailed as exc:
            return SendResult("failed", reason=str(exc))
        except APIError as exc:  # the rate limit stayed exhausted: the service refused every try
            return SendResult("failed", reason=str(exc))
        if response.status_code == 200:
            return self._read_answers(response, outgoing)
        return self._read_error(response)

    def _read_answers(self, response: requests.Response, outgoing: Outgoing) -> SendResult:
        try:
            answers = response.json()
        except ValueError:
            answers = None
        if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
            return SendResult("unknown", reason=f"{SERVICE} answered 200 with a body we cannot read; the message may have been sent")
        problem = _answers_problem(answers, outgoing)
        if problem:  # the service took the request, so it may have sent it: never "failed", never "sent"
            return SendResult("unknown", reason=f"{SERVICE} answered 200 {problem}; the message may have been sent, "
                                                "so it is not sent again")
        accepted: list[str] = []
        refused: dict[str, str] = {}
        ids: dict[str, str] = {}
        held: dict[str, str] = {}
        for answer in answers:
            email, status = str(answer.get("email")), answer.get("status")
            if answer.get("_id"):
                ids[email] = str(answer["_id"])
            if status in ACCEPTED and answer.get("queued_reason") in HELD_REASONS:
                held[email] = str(answer["queued_reason"])
            elif status in ACCEPTED:
                accepted.append(email)
                if answer.get("queued_reason"):
                    log.info("%s: %s queued (%s)", SERVICE, email, server_text(str(answer["queued_reason"]), 60))
            else:
                refused[email] = server_text(f"{status}: {answer.get('reject_reason') or 'no reason given'}")
        if held:
            raise _held(held, accepted, refused, ids)
        return SendResult(outcome_of(accepted, refused), accepted, refused, None if accepted else "every recipient was refused", ids)

    def _read_error(self, response: requests.Response) -> SendResult:
        try:
            body = response.json()
        except ValueError:
            body = None
        name = server_text(str(body.get("name")), 60) if isinstance(body, dict) and body.get("name") else None
        text = server_text(str(body.get("message", ""))) if isinstance(body, dict) else ""
        reason = f"{SERVICE} answered {response.status_code} {name or ''}{': ' + text if text else ''}".replace("  ", " ").strip()
        if name in STOPPING_ERRORS:
            hint = " (check MAILCHIMP_TRANSACTIONAL_KEY or mailchimp_key.txt)" if name == "Invalid_Key" else ""
            raise BatchStopped(reason + hint, SendResult("failed", reason=reason + hint))
        if name in REFUSED_ERRORS or (name is None and response.status_code < 500):
            return SendResult("failed", reason=reason)
        # A 5xx (GeneralError, ServiceUnavailable, a proxy's page) after the body was sent: it may have gone out.
        return SendResult("unknown", reason=reason + "; the message may have been sent, so it is not sent again")

    def ping(self) -> str:
        """`/users/ping.json`: "PONG!" when the key is good; raises with the service's reason otherwise."""
        response = self._post("users/ping", {"key": self._key}, policy=PING_POLICY, timeout=CHECK_TIMEOUT)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 200 and body == "PONG!":
            return f"{SERVICE} {self.url}: key accepted"
        name = body.get("name") if isinstance(body, dict) else None
        raise APIError(f"{SERVICE} answered {response.status_code}{' ' + str(name) if name else ''} to the ping", response.status_code)

    def close(self) -> None:
        self.session.close()


def _answers_problem(answers: list[dict[str, Any]], outgoing: Outgoing) -> str | None:
    """Why a 200's results do not account for this message's recipients, or None when they do."""
    if not answers:
        return "with no result for any recipient"
    ours = {addr_spec(address).casefold() for address in (*outgoing.to, *outgoing.cc, *outgoing.bcc)}
    theirs = {str(answer.get("email")).casefold() for answer in answers}
    if theirs - ours:
        return f"with results for addresses this message was not sent to ({server_text(', '.join(sorted(theirs - ours)), 120)})"
    if ours - theirs:
        return f"with no result for {server_text(', '.join(sorted(ours - theirs)), 120)}"
    return None


def _held(held: dict[str, str], accepted: list[str], refused: dict[str, str], ids: dict[str, str]) -> BatchStopped:
    """The account-level hold: this client `unknown` (the service has the message) and the batch stopped."""
    reasons = ", ".join(sorted(set(held.values())))
    reason = server_text(
        f"{SERVICE} accepted the message but holds it (queued: {reasons}): it may be sent later or never; fix the "
        "account in Mailchimp, check its activity log for this message, then decide on send_reports.py --resend", 400)
    return BatchStopped(reason, SendResult("unknown", accepted, refused, reason, ids, held=reasons))
