"""A local Mailchimp Transactional (Mandrill) API for tests, the benchmark and the demo.

Every call is `POST /api/1.0/{group}/{method}.json` with a JSON body carrying the key as "key".
`/users/ping.json` answers "PONG!"; `/messages/send.json` answers one object per recipient with
`status` sent (or queued for more than 10 recipients), or `rejected`/`invalid` with a
`reject_reason` for the addresses a test names. Errors are the service's body
`{"status": "error", "code", "name", "message"}`: an unknown key is `Invalid_Key` (401), a malformed
message `ValidationError` (500, as older accounts answer). `fail_next_named` queues any named error,
`fail_next(1, 429)` a rate limit, `hang_next` a hang past the client's timeout. `accepted` and
`sent_messages` say exactly what went out. Standard library only.

Switches in `MailchimpOptions`, all off by default:

- `queued_reason`: every accepted recipient is answered `queued` with this `queued_reason`, as the
  service does for an account it holds (`account-suspended`, `sending-paused`, ...) or for a benign
  delay (`hourly-quota-exhausted`, ...); the message still counts as taken.
- `results`: "empty" answers 200 with `[]`, "foreign" answers 200 with one result per recipient but
  for other addresses; the message is taken all the same (the service had the request).
- `echo_key_in_errors`: the errors the simulator answers itself (Invalid_Key, ValidationError)
  repeat the key the request carried, as a careless service message might.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from simulators.base import LoopbackServer, Reply, Request

API_PREFIX = "/api/1.0"
ERROR_CODES = {"Invalid_Key": (-1, 401), "ValidationError": (-2, 500), "PaymentRequired": (-1, 402),
               "Unknown_Subaccount": (-1, 404), "GeneralError": (-1, 500), "ServiceUnavailable": (-1, 503)}


def error_body(name: str, message: str = "", code: int | None = None) -> dict[str, Any]:
    default_code, _ = ERROR_CODES.get(name, (-1, 500))
    return {"status": "error", "code": default_code if code is None else code, "name": name, "message": message or name}


@dataclass
class MailchimpOptions:
    """The account's key and which recipients the service refuses."""

    key: str = "md-test-key"
    rejected: dict[str, str] = field(default_factory=dict)  # address -> reject_reason (hard-bounce, spam, unsigned, ...)
    invalid: set[str] = field(default_factory=set)  # addresses answered "invalid"
    queued_over: int = 10  # more recipients than this: every one answered "queued"
    queued_reason: str | None = None  # every accepted recipient answered "queued" with this queued_reason
    results: str = "normal"  # "empty": 200 with []; "foreign": 200 with results for other addresses
    echo_key_in_errors: bool = False  # Invalid_Key and ValidationError messages quote the request's key


class MailchimpSimulator(LoopbackServer):
    """Mailchimp Transactional on 127.0.0.1: ping and send, per-recipient answers, named errors, counters."""

    server_name = "MailchimpTransactionalSimulator/1.0"

    def __init__(self, options: MailchimpOptions | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.options = options or MailchimpOptions()
        self.sent_messages: list[dict[str, Any]] = []  # each accepted message, without the key
        self.accepted: list[str] = []  # every accepted recipient address, in order
        self._data_lock = threading.Lock()
        self._next_id = 0

    def switch(self, **changes: Any) -> None:
        """Change the account's answers while serving: the options are swapped at once, and a misspelt
        option is a TypeError (setting `simulator.options.<name>` by hand would go unread)."""
        self.options = replace(self.options, **changes)

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    def fail_next_named(self, name: str, status: int | None = None, count: int = 1) -> None:
        """Answer the next `count` requests with the error `name` (and its usual status unless given)."""
        _, usual = ERROR_CODES.get(name, (-1, 500))
        self.fail_next(count, status or usual, body=error_body(name))

    def error_body(self, status: int) -> Any:
        if status == 429:
            return error_body("Too_Many_Requests", "rate limit exceeded", code=-1)
        return error_body({401: "Invalid_Key", 402: "PaymentRequired", 503: "ServiceUnavailable"}.get(status, "GeneralError"))

    def handle(self, request: Request) -> Reply:
        if request.method != "POST":
            return Reply(405, error_body("GeneralError", "use POST"))
        body = request.json()
        if not isinstance(body, dict):
            return Reply(500, error_body("ValidationError", "You must specify a key value"))
        if body.get("key") != self.options.key:
            return Reply(401, error_body("Invalid_Key", "Invalid API key" + self._echo(body)))
        path = request.path.removeprefix(API_PREFIX)
        if path == "/users/ping.json":
            return Reply(200, "PONG!")
        if path == "/messages/send.json":
            return self._send(body)
        return Reply(500, error_body("GeneralError", f"unknown method {path}"))

    def _echo(self, body: dict[str, Any]) -> str:
        return f" (key {body.get('key')})" if self.options.echo_key_in_errors else ""

    def _send(self, body: dict[str, Any]) -> Reply:
        message = body.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("to"), list) or not message["to"]:
            return Reply(500, error_body("ValidationError", "message.to must be a non-empty array" + self._echo(body)))
        for name in ("html", "subject", "from_email"):
            if not isinstance(message.get(name), str):
                return Reply(500, error_body("ValidationError", f"message.{name} must be a string" + self._echo(body)))
        for tag in message.get("tags") or []:
            if not isinstance(tag, str) or len(tag) > 50 or tag.startswith("_"):
                return Reply(500, error_body("ValidationError", f"bad tag {tag!r}" + self._echo(body)))
        answers = []
        accepted = []
        many = len(message["to"]) > self.options.queued_over
        with self._data_lock:
            for recipient in message["to"]:
                email = str(recipient.get("email", "")) if isinstance(recipient, dict) else ""
                self._next_id += 1
                answer: dict[str, Any] = {"email": email, "_id": f"sim{self._next_id:08d}", "reject_reason": None, "queued_reason": None}
                if email in self.options.invalid or "@" not in email:
                    answer["status"] = "invalid"
                elif email in self.options.rejected:
                    answer.update(status="rejected", reject_reason=self.options.rejected[email])
                else:
                    answer["status"] = "queued" if many or self.options.queued_reason else "sent"
                    answer["queued_reason"] = self.options.queued_reason
                    accepted.append(email)
                answers.append(answer)
            if accepted:
                self.accepted.extend(accepted)
                self.sent_messages.append(copy.deepcopy(message))
        if self.options.results == "empty":
            return Reply(200, [])
        if self.options.results == "foreign":
            return Reply(200, [{**answer, "email": f"someone-else-{number}@elsewhere.example"}
                               for number, answer in enumerate(answers, start=1)])
        return Reply(200, answers)
