"""send_reports' test kit: two clients' reports on disk, the delivery settings, a send and the record it leaves."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import send_reports
from simulators.smtp_server import SmtpTestServer

MONTH = "2026-10"
NOW = "2026-11-02T08:00:00+00:00"
PASSWORD = "smtp-pass-Zq83kLm"
ACME = "101"
BETA = "202"


def write_report(home: Path, client_id: str, name: str, built: tuple[str, str, dict], slug: str | None = None) -> Path:
    html, text, metrics = built
    folder = home / "reports" / MONTH
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{slug or name.lower().split()[0]}-{client_id}"
    (folder / f"{stem}.json").write_text(json.dumps({**metrics, "client": {"id": int(client_id), "name": name}}), encoding="utf-8")
    (folder / f"{stem}.txt").write_text(text, encoding="utf-8")
    (folder / f"{stem}.html").write_text(html, encoding="utf-8")
    return folder / f"{stem}.html"


def write_settings(home: Path, server: SmtpTestServer | None = None, *, port: int | None = None, security: str = "starttls",
                   method: str = "smtp", username: str | None = "reports@acme.example", clients: str | None = None,
                   bcc: str = '["archive@acme.example"]') -> None:
    smtp = ""
    if server is not None or port is not None:
        smtp = (f'[delivery.smtp]\nhost = "127.0.0.1"\nport = {port or server.port}\nsecurity = "{security}"\n'  # type: ignore[union-attr]
                + (f'username = "{username}"\n' if username else ""))
    clients = clients if clients is not None else (
        f'[clients.{ACME}]\nto = ["Jane Roe <jane@acme-law.example>", "ops@acme-law.example"]\ncc = ["boss@acme-law.example"]\n'
        f'[clients.{BETA}]\nto = ["Bob <bob@beta.example>"]\n')
    (home / "integoreport.toml").write_text(
        f'[report]\nmsp_name = "Acme IT"\n\n[delivery]\nmethod = "{method}"\nfrom = "Acme IT <reports@acme.example>"\n'
        f'reply_to = "help@acme.example"\nsubject = "{{client}}: IT report for {{month}} from {{msp}}"\nbcc = {bcc}\n\n'
        f"{smtp}\n{clients}", encoding="utf-8")


def send(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = send_reports.main(["--month", MONTH, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def record(home: Path) -> dict:
    return json.loads((home / "reports" / MONTH / "delivery.json").read_text(encoding="utf-8"))["clients"]


def parts(message: EmailMessage) -> tuple[bytes, bytes]:
    """The text and HTML parts' decoded bytes."""
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.get_payload()  # type: ignore[misc]
    assert text_part.get_content_type() == "text/plain" and html_part.get_content_type() == "text/html"
    return text_part.get_payload(decode=True), html_part.get_payload(decode=True)


KEY = "md-key-Vx7pQ2-secret"


def use_mailchimp(home, url: str) -> None:
    write_settings(home, method="mailchimp")
    with open(home / "integoreport.toml", "a", encoding="utf-8") as settings:
        settings.write(f'\n[delivery.mailchimp]\nurl = "{url}"\n')
