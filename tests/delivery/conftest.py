"""The delivery tests' fixtures: a trusted test certificate, one built report, an SMTP server and a Mailchimp
simulator on 127.0.0.1, and an environment with no delivery secret of the developer's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.mailchimp import MailchimpOptions, MailchimpSimulator
from simulators.smtp_server import SmtpTestServer, make_test_certificate
from tests.helpers.delivery import ACME, BETA, KEY, NOW, PASSWORD, use_mailchimp, write_report
from tests.helpers.reports import raw_file, synthetic_month
from utils.reporting.report import build_outputs


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return make_test_certificate(tmp_path_factory.mktemp("cert"))


@pytest.fixture(scope="session")
def built_report() -> tuple[str, str, dict]:
    """One real built report (HTML inlined by premailer), reused under each client's name."""
    return build_outputs(raw_file(synthetic_month(40, seed=3)["tickets"]))


@pytest.fixture(autouse=True)
def delivery_environment(monkeypatch, certificate):
    for name in ("SMTP_PASSWORD", "MAILCHIMP_TRANSACTIONAL_KEY", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INTEGOREPORT_NOW", NOW)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the test server's certificate is trusted


@pytest.fixture
def smtp_server(certificate):
    started: list[SmtpTestServer] = []

    def start(security: str = "starttls", users: dict[str, str] | None = None) -> SmtpTestServer:
        server = SmtpTestServer(security, certificate, users if users is not None else {"reports@acme.example": PASSWORD})
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def two_clients(home, built_report):
    acme = write_report(home, ACME, "Acme Law", built_report)
    beta = write_report(home, BETA, "Beta Dental", built_report)
    return acme, beta


@pytest.fixture
def mailchimp(home, monkeypatch):
    simulator = MailchimpSimulator(MailchimpOptions(key=KEY))
    simulator.start()
    use_mailchimp(home, simulator.api_url)
    monkeypatch.setenv("MAILCHIMP_TRANSACTIONAL_KEY", KEY)
    yield simulator
    simulator.stop()
