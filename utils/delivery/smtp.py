"""Sending reports through the MSP's SMTP relay with smtplib.

One connection for the whole batch (reconnected once when the server dropped it between messages),
STARTTLS on 587 or implicit TLS on 465 with the certificate and host name checked, plain SMTP only to
a loopback relay, and a login only when a user name is set. A certificate from a private CA is
trusted through the standard SSL_CERT_FILE variable (OpenSSL's own), never by switching checks off.

What is safe to retry is decided by the SMTP phase: until the DATA command goes out, the server has
not been handed the message, so a dropped connection or a 4xx can be retried; from DATA on, a lost
connection or a timeout is an `unknown` outcome that a person resolves.
"""

from __future__ import annotations

import logging
import random
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from utils.core.errors import APIError, ConfigError, ConnectionFailed
from utils.core.settings import SmtpSettings
from utils.core.urls import is_loopback
from utils.delivery.message import BatchStopped, Outgoing, SendResult, outcome_of, server_text

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0  # seconds for the connection and for each reply (a large DATA included)
CONNECT_TRIES = 2
TEMPORARY_TRIES = 3  # a 4xx before DATA (greylisting, a busy relay): tried this often in all


class _Phase:
    """Remembers how far the current transaction got: "mail" until the DATA command, then "data"."""

    phase = "idle"

    def mail(self, sender: str, options: Any = ()) -> tuple[int, bytes]:
        self.phase = "mail"
        return super().mail(sender, options)  # type: ignore[misc]

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.phase = "data"
        return super().data(msg)  # type: ignore[misc]

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        # Each command waits for its reply; without TCP_NODELAY the last small segment of a message
        # waits for the server's delayed ACK (~40 ms a message).
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


class _SMTP(_Phase, smtplib.SMTP):
    pass


class _SMTPS(_Phase, smtplib.SMTP_SSL):
    pass


@dataclass
class _Progress:
    """One message's way through the server: who is still to be tried, who took it, who refused it."""

    pending: list[str]
    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    may_reconnect: bool = True  # a connection found dropped between messages is reopened once
    temporary: int = 0  # 4xx answers so far


class _NotConnected(Exception):
    """The connection could not be set up: nothing was sent."""


def tls_context() -> ssl.SSLContext:
    """Certificates and host names checked against the system's CAs (or SSL_CERT_FILE)."""
    return ssl.create_default_context()


def _reply_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {server_text(text)}".strip()


class SmtpSender:
    """Sends one message at a time over one connection kept open for the batch."""

    method = "smtp"

    def __init__(self, settings: SmtpSettings, password: str | None = None, *, timeout: float = DEFAULT_TIMEOUT,
                 context: ssl.SSLContext | None = None, sleep: Callable[[float], None] = time.sleep, retry_wait: float = 1.0):
        if settings.security == "none" and not is_loopback(settings.host):
            raise ConfigError(f"SMTP without TLS is allowed only to a loopback host, not {settings.host}")
        if settings.username and not password:
            raise ConfigError("SMTP user name set but no password")
        self.settings = settings
        self._password = password
        self.timeout = timeout
        self.context = context
        self.sleep = sleep
        self.retry_wait = retry_wait
        self.connections_opened = 0
        self._connection: _SMTP | _SMTPS | None = None
        self._unreachable: str | None = None

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    # -- the connection --

    def open(self) -> _SMTP | _SMTPS:
        """Connect, secure and log in; BatchStopped when the server refuses the login or the certificate."""
        host, port, security = self.settings.host, self.settings.port, self.settings.security
        context = self.context or tls_context()
        local_name = socket.gethostname() or "localhost"  # never getfqdn(): that is a DNS lookup
        failures = 0
        while True:
            try:
                if security == "tls":
                    connection: _SMTP | _SMTPS = _SMTPS(host, port, local_hostname=local_name, timeout=self.timeout, context=context)
                else:
                    connection = _SMTP(host, port, local_hostname=local_name, timeout=self.timeout)
                break
            except ssl.SSLCertVerificationError as exc:
                raise self._stop(f"the certificate of {self.where} is not trusted ({exc.verify_message}); for a private CA "
                                 "set SSL_CERT_FILE to its certificate") from None
            except (OSError, smtplib.SMTPException) as exc:
                failures += 1
                if failures >= CONNECT_TRIES:
                    raise _NotConnected(f"cannot connect to the SMTP server {self.where}: {_describe(exc)}") from None
                self._pause(failures)
        self.connections_opened += 1
        try:
            connection.ehlo()
            if security == "starttls":
                if not connection.has_extn("starttls"):
                    raise self._stop(f"{self.where} does not offer STARTTLS; refusing to send the reports in clear text")
                connection.starttls(context=context)
                connection.ehlo()
            if self.settings.username:
                connection.login(self.settings.username, self._password or "")
        except BatchStopped:
            _quietly_close(connection)
            raise
        except ssl.SSLCertVerificationError as exc:
            _quietly_close(connection)
            raise self._stop(f"the certificate of {self.where} is not trusted ({exc.verify_message}); for a private CA "
                             "set SSL_CERT_FILE to its certificate") from None
        except smtplib.SMTPAuthenticationError as exc:
            _quietly_close(connection)
            hint = (" (Microsoft 365 no longer accepts a password for SMTP AUTH: use an SMTP relay service or Mailchimp "
                    "Transactional)") if b"5.7.30" in (exc.smtp_error or b"") else ""
            raise self._stop(f"the SMTP server {self.where} refused the login of {self.settings.username}: "
                             f"{_reply_text(exc.smtp_code, exc.smtp_error)}{hint}") from None
        except smtplib.SMTPNotSupportedError as exc:
            _quietly_close(connection)
            raise self._stop(f"the SMTP server {self.where} does not support {exc}") from None
        except (OSError, smtplib.SMTPException) as exc:
            _quietly_close(connection)
            raise _NotConnected(f"the SMTP server {self.where} ended the session before sending: {_describe(exc)}") from None
        return connection

    def check(self) -> str:
        """Connect, EHLO, STARTTLS and login as configured, then QUIT: what `pull_info.py --check` reports."""
        try:
            self._connection = self.open()
        except _NotConnected as exc:
            raise ConnectionFailed(str(exc)) from None
        except BatchStopped as exc:
            raise APIError(str(exc)) from None
        self.close()
        steps = {"starttls": "STARTTLS, certificate checked", "tls": "TLS, certificate checked", "none": "no TLS (loopback)"}
        login = f", logged in as {self.settings.username}" if self.settings.username else ""
        return f"SMTP {self.where}: {steps[self.settings.security]}{login}"

    def close(self) -> None:
        """QUIT politely; after an interruption in the middle of a message, just drop the connection."""
        connection, self._connection = self._connection, None
        if connection is not None and connection.phase not in ("idle", "done"):
            _quietly_close(connection)  # Ctrl-C while the server holds its answer: never wait for it
        elif connection is not None:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                _quietly_close(connection)

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            _quietly_close(connection)

    def _stop(self, reason: str) -> BatchStopped:
        return BatchStopped(reason, SendResult("failed", reason=reason))

    def _pause(self, failures: int) -> None:
        self.sleep(random.uniform(0, self.retry_wait * 2 ** (failures - 1)))

    # -- one message --

    def send(self, outgoing: Outgoing) -> SendResult:
        """Hand one message over; the result says who accepted it, who refused it, or why nobody got it.

        Recipients answered with a 4xx (greylisting, a full mailbox) get the message again in a
        transaction of their own, after a pause: they provably did not receive it the first time.
        """
        if self._unreachable:
            return SendResult("failed", reason=self._unreachable)
        progress = _Progress(pending=outgoing.envelope_to)
        while True:
            fresh = self._connection is None
            if fresh:
                try:
                    self._connection = self.open()
                except _NotConnected as exc:
                    self._unreachable = str(exc)  # the next clients fail at once instead of waiting again
                    return self._result(progress.accepted, progress.refused, str(exc))
            answers = self._transaction(outgoing, progress, fresh)
            if isinstance(answers, SendResult):
                return answers
            if answers is None:
                continue  # reconnected, or paused after a 4xx: the same recipients again
            progress.accepted += [address for address in progress.pending if address not in answers]
            temporary_refusals = [str(address) for address, (code, _) in answers.items() if 400 <= code < 500]
            for address, (code, text) in answers.items():
                progress.refused[str(address)] = _reply_text(code, text)
            if temporary_refusals and progress.temporary + 1 < TEMPORARY_TRIES:
                progress.temporary += 1
                self._pause(progress.temporary)
                progress.pending = temporary_refusals
                for address in progress.pending:
                    progress.refused.pop(address, None)
                continue
            return self._result(progress.accepted, progress.refused, None)

    def _transaction(self, outgoing: Outgoing, progress: _Progress, fresh: bool) -> dict[str, tuple[int, bytes]] | SendResult | None:
        """One MAIL/RCPT/DATA: the refused recipients' answers, the final result, or None to try again."""
        connection = self._connection
        assert connection is not None
        accepted, refused = progress.accepted, progress.refused
        connection.phase = "idle"
        try:
            answers: dict[str, tuple[int, bytes]] = connection.sendmail(outgoing.envelope_from, progress.pending, outgoing.wire)
            connection.phase = "done"  # the bytes sent are the bytes kept in sent/
            return answers
        except smtplib.SMTPRecipientsRefused as exc:
            connection.phase = "done"
            return exc.recipients
        except smtplib.SMTPSenderRefused as exc:
            connection.phase = "done"
            reason = f"the server refused the sender {exc.sender!r}: {_reply_text(exc.smtp_code, exc.smtp_error)}"
            if exc.smtp_code == 421:  # the server is closing this connection
                self._drop()
                if not fresh and progress.may_reconnect:
                    progress.may_reconnect = False
                    return None
            if 400 <= exc.smtp_code < 500 and progress.temporary + 1 < TEMPORARY_TRIES:
                progress.temporary += 1
                self._pause(progress.temporary)
                return None
            return self._result(accepted, refused, reason)
        except smtplib.SMTPDataError as exc:
            connection.phase = "done"
            # A refusal answered to DATA or to the end of the message: the server did not take it.
            return self._result(accepted, refused, f"the server refused the message: {_reply_text(exc.smtp_code, exc.smtp_error)}")
        except UnicodeEncodeError as exc:
            # smtplib sends commands as ASCII: an address it cannot encode fails at MAIL or RCPT, before DATA,
            # so nothing was handed over. The transaction is half open: drop the connection, not the batch.
            self._drop()
            return self._result(accepted, refused, f"an address cannot be sent over SMTP without SMTPUTF8 (not ASCII: "
                                                   f"{server_text(exc.object[exc.start:exc.end] if isinstance(exc.object, str) else '?', 40)!r}); "
                                                   "nothing was sent")
        except (OSError, smtplib.SMTPException) as exc:
            return self._lost(connection.phase, exc, progress, fresh)

    def _lost(self, phase: str, exc: BaseException, progress: _Progress, fresh: bool) -> SendResult | None:
        """The connection failed mid-transaction: before DATA, reconnect once or fail; from DATA on, unknown."""
        self._drop()
        accepted, refused = progress.accepted, progress.refused
        if phase != "data":
            if not fresh and progress.may_reconnect:
                log.debug("SMTP connection to %s lost between messages (%s); reconnecting", self.where, _describe(exc))
                progress.may_reconnect = False
                return None
            return self._result(accepted, refused, f"connection to {self.where} lost before the message was handed over: "
                                                   f"{_describe(exc)}")
        if _timed_out(exc):
            return SendResult("unknown", accepted, refused, f"no answer from {self.where} within {self.timeout:g} s after "
                                                            "the message was handed over; it may have been delivered")
        return SendResult("unknown", accepted, refused, f"connection to {self.where} lost after the message was handed over "
                                                        f"({_describe(exc)}); it may have been delivered")

    @staticmethod
    def _result(accepted: list[str], refused: dict[str, str], reason: str | None) -> SendResult:
        if not accepted and refused and reason is None:
            reason = "every recipient was refused"
        return SendResult(outcome_of(accepted, refused), accepted, refused, reason)


def _timed_out(exc: BaseException) -> bool:
    """A timeout, also when smtplib reports it as SMTPServerDisconnected (its getreply wraps every OSError)."""
    return isinstance(exc, (TimeoutError, socket.timeout)) or (
        isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, (TimeoutError, socket.timeout)))


def _describe(exc: BaseException) -> str:
    if _timed_out(exc):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_text(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({exc.reason or exc})"
    return str(exc) or type(exc).__name__


def _quietly_close(connection: smtplib.SMTP) -> None:
    try:
        connection.close()
    except OSError:
        pass
