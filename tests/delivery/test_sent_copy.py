"""What was sent can be proved and passes spam filters: SpamAssassin's score, the copy kept in sent/, the summary.

SpamAssassin runs on a message built from the demo's busiest client (when it is installed); the
sends go to the SMTP test server on 127.0.0.1, the rebuilds through pull_info.py and build_report.py.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import stat
import subprocess
from email import message_from_bytes, policy
from pathlib import Path

import pytest

import build_report
import pull_info
import send_reports
from tests.helpers.batch import batch_env, small_account
from tests.helpers.delivery import ACME, BETA, MONTH, PASSWORD, parts, record, send, write_report, write_settings
from utils.core.files import read_json
from utils.core.settings import DEFAULT_SUBJECT, DeliverySettings
from utils.delivery.message import build_message, find_reports

# Rules about the receiving server and the path the message took, not about the report: a message fed
# straight to SpamAssassin has no Received headers, and a server's own relays are trusted.
RECEIVING_SERVER_RULES = frozenset({"ALL_TRUSTED", "NO_RECEIVED", "NO_RELAYS"})
REPORT_LINE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s", re.MULTILINE)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sent_dir(home: Path) -> Path:
    return home / "reports" / MONTH / "sent"


# -- deliverability ---------------------------------------------------------------------------------

def spamassassin_rules(message: bytes, home: Path) -> tuple[float, dict[str, float]]:
    """`spamassassin -t -L` (no network tests) on `message`: the total score and each rule's points."""
    result = subprocess.run(["spamassassin", "-t", "-L"], input=message, capture_output=True, timeout=180,
                            env={"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"})
    output = result.stdout.decode("utf-8", "replace")
    status = re.search(r"^X-Spam-Status: \w+, score=(-?\d+(?:\.\d+)?)", output, re.MULTILINE)
    assert status is not None, f"no X-Spam-Status from spamassassin: {result.stderr.decode('utf-8', 'replace')[-500:]}"
    details = output[output.index("Content analysis details:"):]
    return float(status.group(1)), {rule: float(points) for points, rule in REPORT_LINE.findall(details)}


@pytest.mark.skipif(shutil.which("spamassassin") is None,
                    reason="spamassassin is not installed (apt-get install spamassassin; .ci/run installs it)")
def test_spamassassin_scores_the_busiest_demo_report_at_zero_or_below(demo_run, tmp_path):
    assert demo_run.exit_code == 0, demo_run.stderr
    # The month's folder (the demo also builds its previous quarter, in reports/<YYYY-Qn>/: issue 19).
    (reports_dir,) = [folder for folder in (demo_run.demo_home / "reports").iterdir() if folder.is_dir() and "Q" not in folder.name]
    reports = find_reports(reports_dir)
    busiest = max(reports.values(), key=lambda r: read_json(r.html_path.with_suffix(".json"))["volume"]["created"])
    delivery = DeliverySettings(method="smtp", from_address="Demo MSP <reports@demo-msp.example.com>",
                                reply_to="help@demo-msp.example.com", subject=DEFAULT_SUBJECT)
    outgoing = build_message(busiest, delivery, "Demo MSP", reports_dir.name, ["IT contact <it@harrow-vance.example.com>"])
    # The HTML part is still the built file byte for byte, and no rule fires on its encoding.
    assert parts(message_from_bytes(outgoing.wire, policy=policy.default))[1] == busiest.html_path.read_bytes()  # type: ignore[arg-type]
    assert max(len(line) for line in outgoing.wire.split(b"\r\n")) <= 78

    score, rules = spamassassin_rules(outgoing.wire, tmp_path)

    assert abs(score - sum(rules.values())) < 0.05, rules  # every point is accounted for in the parsed lines
    own = {rule: points for rule, points in rules.items() if rule not in RECEIVING_SERVER_RULES}
    assert sum(own.values()) <= 0, f"SpamAssassin scores the report's own content {sum(own.values()):.1f}: {own}"
    assert not {"HTML_FONT_LOW_CONTRAST", "FONT_INVIS_MSGID"} & set(rules)


# -- proof of what was sent -------------------------------------------------------------------------

def test_a_send_a_rebuild_and_a_second_send_leave_the_sent_copy_and_its_hash_unchanged(home, smtp_server, start_simulator, capsys,
                                                                                       monkeypatch, caplog):
    account, (acme, _beta, _quiet) = small_account()
    simulator = start_simulator(account)
    for name, value in batch_env(simulator).items():
        monkeypatch.setenv(name, value)
    server = smtp_server()
    write_settings(home, server, bcc="[]", clients=f'[clients.{acme}]\nto = ["Jane <jane@acme-law.example>"]\n')
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    assert pull_info.main(["--month", MONTH, "--send"]) == 0
    (delivered,) = server.delivered
    entry = record(home)[str(acme)]
    copy = home / "reports" / MONTH / entry["sent_copy"]
    report = home / "reports" / MONTH / entry["report"]
    sent_bytes = copy.read_bytes()
    # The copy is the message exactly as the server received it; the record proves what it carried.
    assert sent_bytes == delivered.content and entry["sent_copy_sha256"] == sha256(sent_bytes)
    assert entry["message_id"] == delivered.message["Message-ID"]
    assert entry["html_sha256"] == sha256(report.read_bytes()) == sha256(parts(delivered.message)[1])
    assert entry["text_sha256"] == sha256(report.with_suffix(".txt").read_bytes())
    assert stat.S_IMODE(sent_dir(home).stat().st_mode) == 0o700 and stat.S_IMODE(copy.stat().st_mode) == 0o600

    caplog.set_level(logging.INFO)
    assert pull_info.main(["--month", MONTH, "--send"]) == 0  # a rebuild, then a send that finds Acme sent
    notices = [r.getMessage() for r in caplog.records if "this rebuild does not change what they received" in r.getMessage()]
    assert notices == [f"Acme Law ({acme}): the report sent to Acme Law on 2026-11-02 is kept in {entry['sent_copy']}; "
                       "this rebuild does not change what they received"]
    # The files on disk now differ from what Jane received (a line added by hand stands for any change).
    report.write_text(report.read_text(encoding="utf-8") + "<!-- changed since -->\n", encoding="utf-8")

    caplog.clear()
    assert build_report.main([str(home / "raw_data" / f"freshservice_{acme}.json")]) == 0
    assert any(f"is kept in {entry['sent_copy']}" in r.getMessage() for r in caplog.records)
    assert send_reports.main(["--month", MONTH]) == 0

    assert len(server.delivered) == 1  # the second send sent nothing
    assert [p.name for p in sent_dir(home).iterdir()] == [copy.name]
    assert copy.read_bytes() == sent_bytes and record(home)[str(acme)]["sent_copy_sha256"] == sha256(sent_bytes)
    assert record(home)[str(acme)]["html_sha256"] == entry["html_sha256"] != sha256(report.read_bytes())


def test_a_resend_keeps_the_first_copy_and_adds_one(home, smtp_server, built_report, capsys, monkeypatch):
    write_report(home, ACME, "Acme Law", built_report)
    server = smtp_server()
    write_settings(home, server, clients=f'[clients.{ACME}]\nto = ["Jane Roe <jane@acme-law.example>"]\n')
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    assert send(capsys)[0] == 0
    first = record(home)[ACME]
    assert send(capsys, "--resend", "--client", ACME)[0] == 0

    second = record(home)[ACME]
    assert (first["sent_copy"], second["sent_copy"]) == (f"sent/acme-{ACME}.eml", f"sent/acme-{ACME}.2.eml")
    assert second["earlier"][0]["sent_copy_sha256"] == sha256((sent_dir(home) / f"acme-{ACME}.eml").read_bytes())
    assert [d.content for d in server.delivered] == [(sent_dir(home) / name).read_bytes() for name in (f"acme-{ACME}.eml", f"acme-{ACME}.2.eml")]


def test_a_failed_send_keeps_no_copy_and_test_sends_keep_none(home, smtp_server, built_report, capsys, monkeypatch):
    write_report(home, ACME, "Acme Law", built_report)
    server = smtp_server()
    server.switch(refuse={"jane@acme-law.example": "550 5.1.1 no such user"})
    write_settings(home, server, bcc="[]", clients=f'[clients.{ACME}]\nto = ["Jane Roe <jane@acme-law.example>"]\n')
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    assert send(capsys)[0] == 1
    entry = record(home)[ACME]
    assert entry["outcome"] == "failed" and "sent_copy" not in entry and "html_sha256" not in entry
    assert list(sent_dir(home).iterdir()) == []

    assert send(capsys, "--test-to", "me@acme.example")[0] == 0
    assert list(sent_dir(home).iterdir()) == [] and record(home)[ACME]["outcome"] == "failed"


def test_a_rebuild_of_a_month_not_sent_says_nothing(home, start_simulator, monkeypatch, caplog):
    account, _ = small_account()
    for name, value in batch_env(start_simulator(account)).items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.INFO)
    assert pull_info.main(["--month", MONTH]) == 0
    assert pull_info.main(["--month", MONTH]) == 0
    assert not any("rebuild" in r.getMessage() for r in caplog.records)
    assert not sent_dir(home).exists()


# -- the summary ------------------------------------------------------------------------------------

def test_a_failed_test_to_counts_every_report_not_sent(home, smtp_server, built_report, capsys, monkeypatch):
    for client_id, name in ((ACME, "Acme Law"), (BETA, "Beta Dental"), ("303", "Cobalt Care")):
        write_report(home, client_id, name, built_report)
    server = smtp_server(users={"reports@acme.example": "another password"})  # the login is refused
    write_settings(home, server)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    code, _, err = send(capsys, "--test-to", "Me <me@acme.example>")

    assert code == 1 and server.delivered == []
    assert f"{MONTH}: 3 not sent (1 failed, 2 not tried)\n" in err
    assert not (home / "reports" / MONTH / "delivery.json").exists() and not sent_dir(home).exists()


def test_the_summary_of_a_run_that_did_not_stop_is_unchanged(home, smtp_server, built_report, capsys, monkeypatch):
    write_report(home, ACME, "Acme Law", built_report)
    write_report(home, BETA, "Beta Dental", built_report)
    server = smtp_server()
    server.switch(refuse={"bob@beta.example": "550 5.1.1 no such user"})
    write_settings(home, server, bcc="[]")
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    code, _, err = send(capsys)

    assert code == 1 and f"{MONTH}: 1 failed, 1 sent\n" in err
    assert json.loads((home / "reports" / MONTH / "delivery.json").read_text(encoding="utf-8"))["clients"][BETA]["outcome"] == "failed"
