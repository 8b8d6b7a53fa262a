"""A real SMTP server on 127.0.0.1 for the tests and the delivery benchmark (aiosmtpd, a development dependency).

It speaks STARTTLS or implicit TLS with a test certificate (`make_test_certificate`, made with the
openssl command), can require a login, refuses chosen recipients (for good, or a few times with a
4xx), drops the connection after DATA or at the next MAIL FROM (a connection gone stale between
messages), and counts connections and messages so tests can assert exactly what was delivered.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import subprocess
import threading
import warnings
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

logging.getLogger("mail.log").setLevel(logging.CRITICAL)  # aiosmtpd's own chatter


def make_test_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (test use only); returns (cert, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "smtp-test-cert.pem", directory / "smtp-test-key.pem"
    if not cert.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-days", "2", "-subj", "/CN=IntegoReport test SMTP", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@dataclass
class Delivered:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Behaviour:
    """What the server does; tests change it between runs through `SmtpTestServer.switch`."""

    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply, e.g. "550 5.1.1 no such user"
    temporary: dict[str, int] = field(default_factory=dict)  # address -> how many more RCPTs answer 451
    drop_in_data: int = 0  # the next N messages: connection dropped after the data arrived, before the reply
    drop_at_next_mail: int = 0  # the next N MAIL FROMs on a used connection: connection dropped first
    hold_in_data: int = 0  # the next N messages: the reply to the data is held for `hold_seconds` (a slow server)
    hold_seconds: float = 10.0


class _Handler:
    def __init__(self, owner: SmtpTestServer):
        self.owner = owner

    async def handle_MAIL(self, server: SMTP, session: Any, envelope: Any, address: str, mail_options: list[str]) -> str:
        owner = self.owner
        with owner.lock:
            drop = owner.behaviour.drop_at_next_mail > 0 and getattr(server, "_intego_messages", 0) > 0
            if drop:
                owner.behaviour.drop_at_next_mail -= 1
                owner.dropped += 1
        if drop and server.transport is not None:
            server.transport.abort()  # type: ignore[attr-defined]  # a socket transport
            return "421 4.4.2 connection dropped by the test server"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        behaviour = self.owner.behaviour
        with self.owner.lock:
            if behaviour.temporary.get(address, 0) > 0:
                behaviour.temporary[address] -= 1
                return "451 4.7.1 greylisted, try again later"
        if address in behaviour.refuse:
            return behaviour.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        owner = self.owner
        owner.data_arrived.set()
        with owner.lock:
            hold = owner.behaviour.hold_in_data > 0
            if hold:
                owner.behaviour.hold_in_data -= 1
        if hold:
            waited = 0.0
            while waited < owner.behaviour.hold_seconds and not owner.stopping.is_set():
                await asyncio.sleep(0.05)
                waited += 0.05
            return "451 4.3.0 held too long by the test server"
        with owner.lock:
            drop = owner.behaviour.drop_in_data > 0
            if drop:
                owner.behaviour.drop_in_data -= 1
                owner.dropped += 1
            else:
                owner.delivered.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        if drop and server.transport is not None:
            server.transport.abort()  # type: ignore[attr-defined]  # a socket transport
            return "451 dropped"
        server._intego_messages = getattr(server, "_intego_messages", 0) + 1  # type: ignore[attr-defined]
        return "250 2.0.0 Message accepted"


class _CountingSMTP(SMTP):
    owner: SmtpTestServer

    def connection_made(self, transport: Any) -> None:
        if not getattr(self, "_intego_counted", False):  # STARTTLS calls this again on the same session
            self._intego_counted = True
            with self.owner.lock:
                self.owner.connections += 1
        super().connection_made(transport)


class _Controller(Controller):
    owner: SmtpTestServer

    def factory(self) -> SMTP:
        with warnings.catch_warnings():  # implicit TLS with AUTH: aiosmtpd cannot tell the session is encrypted
            warnings.simplefilter("ignore", UserWarning)
            server = _CountingSMTP(self.handler, **self.SMTP_kwargs)
        server.owner = self.owner
        return server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpTestServer:
    """An SMTP server on 127.0.0.1: security "starttls", "tls" or "none"; a login when `users` is given."""

    def __init__(self, security: str = "starttls", cert: tuple[Path, Path] | None = None, users: dict[str, str] | None = None):
        self.security = security
        self.cert = cert
        self.users = users or {}
        self.behaviour = Behaviour()
        self.lock = threading.Lock()
        self.delivered: list[Delivered] = []
        self.connections = 0
        self.dropped = 0
        self.logins: list[str] = []
        self.data_arrived = threading.Event()  # set when any message's data has arrived
        self.stopping = threading.Event()  # ends a held reply at once
        self.port = 0
        self._controller: _Controller | None = None

    def _authenticate(self, server: SMTP, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(user) == password:
                with self.lock:
                    self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def switch(self, **changes: Any) -> None:
        """Change what the server does between runs: the behaviour is swapped at once, and a misspelt
        field is a TypeError (setting `server.behaviour.<name>` by hand would go unread)."""
        self.behaviour = replace(self.behaviour, **changes)

    def start(self) -> SmtpTestServer:
        context = None
        if self.security != "none":
            if self.cert is None:
                raise ValueError("a TLS server needs a certificate (make_test_certificate)")
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(self.cert[0]), str(self.cert[1]))
        kwargs: dict[str, Any] = {"server_hostname": "localhost", "ready_timeout": 10}
        if self.security == "tls":
            kwargs["ssl_context"] = context
        elif self.security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if self.users:
            kwargs.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=self.security == "starttls")  # implicit TLS is not seen as TLS by aiosmtpd
        self.port = _free_port()
        controller = _Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)
        controller.owner = self
        controller.start()
        self._controller = controller
        with self.lock:
            self.connections = 0  # the controller's own readiness probe is not a client
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        self.stopping.set()
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
