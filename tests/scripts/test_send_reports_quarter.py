"""Issue 19: send_reports.py --quarter: the review is emailed with its own subject and its own record, never twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import send_reports
from simulators.smtp_server import SmtpTestServer, make_test_certificate
from tests.helpers.reports import synthetic_month
from utils.core.period import parse_period
from utils.core.settings import ReportSettings
from utils.reporting.report import build_outputs

NOW = "2026-11-02T08:00:00+00:00"
PASSWORD = "smtp-pass-Qr71bNm"
ACME = "101"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return make_test_certificate(tmp_path_factory.mktemp("cert"))


@pytest.fixture
def smtp(certificate, monkeypatch):
    monkeypatch.setenv("INTEGOREPORT_NOW", NOW)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    server = SmtpTestServer("starttls", certificate, {"reports@acme.example": PASSWORD}).start()
    yield server
    server.stop()


def write_home(home: Path, server: SmtpTestServer, subject: str | None) -> None:
    subject_line = f'subject = "{subject}"\n' if subject else ""
    (home / "integoreport.toml").write_text(
        f'[report]\nmsp_name = "Acme IT"\n\n[delivery]\nmethod = "smtp"\nfrom = "Acme IT <reports@acme.example>"\n{subject_line}\n'
        f'[delivery.smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "starttls"\nusername = "reports@acme.example"\n\n'
        f'[clients.{ACME}]\nto = ["Jane Roe <jane@acme-law.example>"]\n', encoding="utf-8")
    quarter = parse_period("UTC", quarter="2026-Q3")
    html, text, metrics = build_outputs(synthetic_month(60, period=quarter.as_dict()), settings=ReportSettings(msp_name="Acme IT"))
    for folder, body in ((home / "reports" / "2026-Q3", html), (home / "reports" / "2026-09", html.replace("Q3 2026", "September 2026"))):
        folder.mkdir(parents=True)
        (folder / f"acme-{ACME}.json").write_text(json.dumps({**metrics, "client": {"id": int(ACME), "name": "Acme Law"}}), encoding="utf-8")
        (folder / f"acme-{ACME}.txt").write_text(text, encoding="utf-8")
        (folder / f"acme-{ACME}.html").write_text(body, encoding="utf-8")


def test_a_quarter_is_sent_once_with_its_own_subject_and_record(home, smtp, capsys):
    write_home(home, smtp, subject=None)
    assert send_reports.main(["--quarter", "2026-Q3"]) == 0, capsys.readouterr().err
    assert len(smtp.delivered) == 1
    message = smtp.delivered[0].message
    assert message["Subject"] == "Acme Law: IT service review for Q3 2026"
    assert message["X-IntegoReport-Month"] == "2026-Q3"
    record = json.loads((home / "reports" / "2026-Q3" / "delivery.json").read_text(encoding="utf-8"))
    assert record["clients"][ACME]["outcome"] == "sent" and record["month"] == "2026-Q3"
    assert record["period"]["kind"] == "quarter" and record["period"]["label"] == "Q3 2026"
    assert not (home / "reports" / "2026-09" / "delivery.json").exists()  # the month's record is its own

    capsys.readouterr()
    assert send_reports.main(["--quarter", "2026-Q3"]) == 0  # the rerun: never twice
    assert len(smtp.delivered) == 1 and "already sent" in capsys.readouterr().err

    assert send_reports.main(["--month", "2026-09"]) == 0  # the month is sent on its own, with the monthly subject
    assert len(smtp.delivered) == 2 and smtp.delivered[1].message["Subject"] == "Acme Law: IT service report for September 2026"


def test_a_subject_from_the_settings_is_kept_for_a_quarter(home, smtp, capsys):
    write_home(home, smtp, subject="{client}: {month} from {msp}")
    assert send_reports.main(["--quarter", "2026-Q3"]) == 0, capsys.readouterr().err
    assert smtp.delivered[0].message["Subject"] == "Acme Law: Q3 2026 from Acme IT"
