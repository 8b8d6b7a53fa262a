"""send_reports.py over SMTP, end to end: a real SMTP server on 127.0.0.1 (aiosmtpd) with a test certificate."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

import send_reports
from simulators.smtp_server import make_test_certificate
from tests.helpers.delivery import ACME, BETA, MONTH, NOW, PASSWORD, parts, record, send, write_report, write_settings
from tests.helpers.running import PROJECT_ROOT, default_signals


def test_every_client_is_sent_once_over_one_connection_with_the_report_byte_for_byte(home, smtp_server, two_clients, capsys, monkeypatch):
    server = smtp_server()
    write_settings(home, server)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    code, out, err = send(capsys)

    assert code == 0, err
    assert server.connections == 1 and server.logins == ["reports@acme.example"]
    assert len(server.delivered) == 2
    acme_mail = next(d for d in server.delivered if "jane@acme-law.example" in d.rcpt_tos)
    assert acme_mail.mail_from == "reports@acme.example"
    assert acme_mail.rcpt_tos == ["jane@acme-law.example", "ops@acme-law.example", "boss@acme-law.example", "archive@acme.example"]
    message = acme_mail.message
    assert message["Subject"] == "Acme Law: IT report for October 2026 from Acme IT"
    assert message["From"] == "Acme IT <reports@acme.example>" and message["Reply-To"] == "help@acme.example"
    assert message["To"] == "Jane Roe <jane@acme-law.example>, ops@acme-law.example" and message["Cc"] == "boss@acme-law.example"
    assert message["Bcc"] is None and b"archive@acme.example" not in acme_mail.content  # Bcc only on the envelope
    assert message["X-IntegoReport-Client"] == ACME and message["X-IntegoReport-Month"] == MONTH
    assert message["Date"] == "Mon, 02 Nov 2026 08:00:00 +0000"
    text, html = parts(message)
    assert html == two_clients[0].read_bytes()
    assert text.decode("utf-8").replace("\r\n", "\n") == two_clients[0].with_suffix(".txt").read_text(encoding="utf-8")
    entries = record(home)
    assert {entries[ACME]["outcome"], entries[BETA]["outcome"]} == {"sent"}
    assert entries[ACME]["message_id"] == message["Message-ID"] and entries[ACME]["method"] == "smtp"
    assert entries[ACME]["accepted"] == acme_mail.rcpt_tos and entries[ACME]["refused"] == []
    assert entries[ACME]["at"] == "2026-11-02T08:00:00+00:00"
    assert PASSWORD not in out + err + json.dumps(entries)

    code, out, err = send(capsys)  # the rerun: nothing goes out twice
    assert code == 0 and len(server.delivered) == 2 and server.connections == 1
    assert "already sent" in err


def test_refused_recipients_make_partial_and_failed_and_only_failed_is_retried(home, smtp_server, two_clients, capsys, monkeypatch):
    server = smtp_server()
    write_settings(home, server, bcc="[]")
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    server.switch(refuse={"ops@acme-law.example": "550 5.1.1 ops: no such user", "bob@beta.example": "550 5.1.1 bob: no such user"})

    code, _, err = send(capsys)

    assert code == 1
    entries = record(home)
    assert entries[ACME]["outcome"] == "partial"
    assert entries[ACME]["accepted"] == ["jane@acme-law.example", "boss@acme-law.example"]
    assert entries[ACME]["refused"] == [{"address": "ops@acme-law.example", "reason": "550 5.1.1 ops: no such user"}]
    assert entries[BETA]["outcome"] == "failed" and entries[BETA]["accepted"] == []
    assert entries[BETA]["refused"][0]["reason"] == "550 5.1.1 bob: no such user"
    assert [d.rcpt_tos for d in server.delivered] == [["jane@acme-law.example", "boss@acme-law.example"]]
    assert "ops@acme-law.example: 550 5.1.1 ops: no such user" in err

    server.switch(refuse={})
    code, _, _ = send(capsys)  # partial is left alone, failed is retried
    assert code == 1  # Acme is still partial
    entries = record(home)
    assert entries[BETA]["outcome"] == "sent" and entries[BETA]["earlier"][0]["outcome"] == "failed"
    assert [d.rcpt_tos for d in server.delivered] == [["jane@acme-law.example", "boss@acme-law.example"], ["bob@beta.example"]]


def test_a_connection_lost_after_data_is_unknown_and_never_retried_until_resend(home, smtp_server, two_clients, capsys, monkeypatch):
    server = smtp_server()
    write_settings(home, server)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    server.switch(drop_in_data=1)  # the first message's data arrives, then the line goes dead

    code, _, err = send(capsys)

    assert code == 1
    entries = record(home)
    assert entries[ACME]["outcome"] == "unknown" and "may have been delivered" in entries[ACME]["reason"]
    assert entries[BETA]["outcome"] == "sent"  # a new connection for the next client
    assert server.dropped == 1 and len(server.delivered) == 1

    code, _, err = send(capsys)
    assert code == 1 and len(server.delivered) == 1 and "already unknown" in err and "--resend" in err

    code, _, _ = send(capsys, "--resend", "--client", ACME)
    entries = record(home)
    assert code == 0 and entries[ACME]["outcome"] == "sent" and entries[ACME]["earlier"][0]["outcome"] == "unknown"
    assert len(server.delivered) == 2 and entries[BETA]["outcome"] == "sent" and "earlier" not in entries[BETA]


def test_a_connection_dropped_between_messages_is_reopened_once_without_duplicates(home, smtp_server, two_clients, capsys, monkeypatch):
    server = smtp_server()
    write_settings(home, server)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    server.switch(drop_at_next_mail=1)  # the connection is gone when the second message starts

    code, _, err = send(capsys)

    assert code == 0, err
    assert server.connections == 2 and server.dropped == 1
    assert sorted(d.message["X-IntegoReport-Client"] for d in server.delivered) == [ACME, BETA]


def test_a_temporary_refusal_before_data_is_retried(home, smtp_server, built_report, capsys, monkeypatch):
    write_report(home, BETA, "Beta Dental", built_report)
    server = smtp_server()
    write_settings(home, server)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    server.switch(temporary={"bob@beta.example": 1})  # greylisted once

    code, _, err = send(capsys, "--client", BETA)

    assert code == 0, err
    # Bob gets the message in a second transaction of his own; the archive copy is not sent twice.
    assert [d.rcpt_tos for d in server.delivered] == [["archive@acme.example"], ["bob@beta.example"]]
    entry = record(home)[BETA]
    assert entry["outcome"] == "sent" and entry["accepted"] == ["archive@acme.example", "bob@beta.example"] and entry["refused"] == []


def test_a_refused_connection_is_failed_and_retried_by_the_next_run(home, smtp_server, two_clients, capsys, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    write_settings(home, port=closed_port)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    code, _, err = send(capsys)

    assert code == 1
    entries = record(home)
    assert entries[ACME]["outcome"] == entries[BETA]["outcome"] == "failed"
    assert "connection refused" in entries[ACME]["reason"]

    server = smtp_server()
    write_settings(home, server)
    code, _, err = send(capsys)
    assert code == 0, err
    assert len(server.delivered) == 2 and {e["outcome"] for e in record(home).values()} == {"sent"}


def test_a_line_break_in_a_client_name_never_becomes_a_header(home, smtp_server, built_report, capsys, monkeypatch):
    write_report(home, ACME, "Acme Law\r\nBcc: thief@evil.example", built_report, slug="acme")
    write_report(home, BETA, "Beta Dental", built_report)
    server = smtp_server()
    write_settings(home, server)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    code, _, err = send(capsys)

    assert code == 1
    entries = record(home)
    assert entries[ACME]["outcome"] == "failed" and "line break" in entries[ACME]["reason"]
    assert entries[BETA]["outcome"] == "sent"
    assert len(server.delivered) == 1 and all("thief@evil.example" not in d.rcpt_tos for d in server.delivered)
    assert b"thief@evil.example" not in server.delivered[0].content

    code, _, err = send(capsys, "--test-to", "me@acme.example\r\nBcc: thief@evil.example")
    assert code == 2 and "line break" in err and len(server.delivered) == 1


def test_a_refused_login_stops_the_batch_at_the_first_client_and_never_shows_the_password(home, smtp_server, two_clients, capsys,
                                                                                          monkeypatch):
    server = smtp_server()
    write_settings(home, server)
    monkeypatch.setenv("SMTP_PASSWORD", "wrong-" + PASSWORD)

    code, out, err = send(capsys)

    assert code == 1
    entries = record(home)
    assert list(entries) == [ACME] and entries[ACME]["outcome"] == "failed"  # Beta was not tried
    assert "refused the login" in entries[ACME]["reason"]
    assert server.delivered == [] and server.connections == 1
    assert PASSWORD not in out + err + json.dumps(entries)
    assert len([line for line in err.splitlines() if "stopped" in line]) == 1


def test_an_untrusted_certificate_sends_nothing(home, smtp_server, two_clients, capsys, monkeypatch, tmp_path):
    server = smtp_server()
    write_settings(home, server)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    other_ca = make_test_certificate(tmp_path / "other")[0]
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))

    code, _, err = send(capsys)

    assert code == 1 and server.delivered == [] and server.logins == []
    assert "not trusted" in record(home)[ACME]["reason"]


def test_implicit_tls_on_its_own_port(home, smtp_server, built_report, capsys, monkeypatch):
    write_report(home, BETA, "Beta Dental", built_report)
    server = smtp_server("tls")
    write_settings(home, server, security="tls")
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    code, _, err = send(capsys, "--client", BETA)

    assert code == 0, err
    assert len(server.delivered) == 1 and server.logins == ["reports@acme.example"]


def test_plain_smtp_to_a_loopback_relay_without_login(home, smtp_server, built_report, capsys):
    write_report(home, BETA, "Beta Dental", built_report)
    server = smtp_server("none", users={})
    write_settings(home, server, security="none", username=None)

    code, _, err = send(capsys, "--client", BETA)

    assert code == 0, err
    assert len(server.delivered) == 1 and server.logins == []


def test_dry_run_writes_the_outbox_and_sends_nothing(home, smtp_server, two_clients, capsys, monkeypatch):
    server = smtp_server()
    write_settings(home, server)  # a dry run needs no password, and never writes one down

    code, out, err = send(capsys, "--dry-run")

    assert code == 0, err
    assert server.connections == 0
    outbox = home / "reports" / MONTH / "outbox"
    assert sorted(p.name for p in outbox.iterdir()) == [f"acme-{ACME}.eml", f"beta-{BETA}.eml"]
    message = message_from_bytes((outbox / f"acme-{ACME}.eml").read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert parts(message)[1] == two_clients[0].read_bytes()
    assert "Jane Roe <jane@acme-law.example>, ops@acme-law.example; cc boss@acme-law.example; bcc archive@acme.example" in out
    assert not (home / "reports" / MONTH / "delivery.json").exists()

    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    code, out, err = send(capsys, "--dry-run")
    assert code == 0 and server.connections == 0
    assert all(PASSWORD not in path.read_text(encoding="utf-8") for path in outbox.iterdir()) and PASSWORD not in out + err


def test_method_outbox_writes_the_outbox_like_a_dry_run(home, two_clients, capsys):
    write_settings(home, method="outbox")

    code, out, err = send(capsys)

    assert code == 0, err
    assert len(list((home / "reports" / MONTH / "outbox").glob("*.eml"))) == 2
    assert "would send" in out and not (home / "reports" / MONTH / "delivery.json").exists()


def test_test_to_sends_each_report_to_one_address_and_leaves_the_record_alone(home, smtp_server, two_clients, capsys, monkeypatch):
    server = smtp_server()
    write_settings(home, server)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    code, _, err = send(capsys, "--test-to", "Me <me@acme.example>")

    assert code == 0, err
    assert [d.rcpt_tos for d in server.delivered] == [["me@acme.example"], ["me@acme.example"]]
    assert all(d.message["Subject"].startswith("[TEST] ") and d.message["Cc"] is None for d in server.delivered)
    assert not (home / "reports" / MONTH / "delivery.json").exists()


def test_settings_errors_exit_2_before_anything_is_sent(home, smtp_server, two_clients, capsys):
    server = smtp_server()
    code, _, err = send(capsys)
    assert code == 2 and "no [delivery]" in err

    write_settings(home, server)  # a user name but no password anywhere
    code, _, err = send(capsys)
    assert code == 2 and "SMTP_PASSWORD" in err

    write_settings(home, server, clients=f'[clients.{ACME}]\nto = ["not an address"]\n')
    code, _, err = send(capsys)
    assert code == 2 and "not an address" in err
    assert server.connections == 0 and not (home / "reports" / MONTH / "delivery.json").exists()


def test_missing_report_is_failed_and_a_client_without_recipients_is_skipped_by_name(home, smtp_server, built_report, capsys,
                                                                                    monkeypatch):
    write_report(home, BETA, "Beta Dental", built_report)
    write_report(home, "303", "Quiet Co", built_report)
    server = smtp_server()
    write_settings(home, server)  # Acme has recipients but no report; Quiet Co has a report but no recipients
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    code, _, err = send(capsys)

    assert code == 1
    entries = record(home)
    assert entries[ACME]["outcome"] == "failed" and "report not built" in entries[ACME]["reason"]
    assert entries[BETA]["outcome"] == "sent" and "303" not in entries
    assert "Quiet Co (303): skipped, no recipients" in err
    assert len(server.delivered) == 1


def test_pull_info_send_emails_the_built_reports_and_the_index_shows_the_outcome(home, smtp_server, start_simulator, capsys,
                                                                                monkeypatch):
    import pull_info
    from tests.helpers.batch import batch_env, small_account

    account, (acme, beta, quiet) = small_account()
    simulator = start_simulator(account)
    for name, value in batch_env(simulator).items():
        monkeypatch.setenv(name, value)
    server = smtp_server()
    server.switch(refuse={"bob@beta.example": "550 5.1.1 no such user"})
    write_settings(home, server, bcc="[]", clients=f'[clients.{acme}]\nto = ["Jane <jane@acme-law.example>"]\n'
                                                    f'[clients.{beta}]\nto = ["Bob <bob@beta.example>"]\n')
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    assert pull_info.main(["--month", MONTH]) == 0  # without --send nothing is sent
    assert server.connections == 0

    code = pull_info.main(["--month", MONTH, "--send"])
    _, err = capsys.readouterr()

    assert code == 1  # Beta's only recipient was refused
    assert [d.rcpt_tos for d in server.delivered] == [["jane@acme-law.example"]]
    assert f"Quiet Co ({quiet}): skipped, no recipients" in err
    entries = record(home)
    assert entries[str(acme)]["outcome"] == "sent" and entries[str(beta)]["outcome"] == "failed"
    index = (home / "reports" / MONTH / "index.html").read_text(encoding="utf-8")
    assert "built; emailed 2026-11-02" in index and "built; email not sent 2026-11-02" in index

    server.switch(refuse={})
    assert send_reports.main(["--month", MONTH]) == 0  # the failed one is retried by send_reports.py itself
    assert [d.rcpt_tos for d in server.delivered] == [["jane@acme-law.example"], ["bob@beta.example"]]
    index = (home / "reports" / MONTH / "index.html").read_text(encoding="utf-8")
    assert "email not sent" not in index and index.count("built; emailed 2026-11-02") == 2


def test_pull_info_send_with_bad_delivery_settings_stops_before_the_first_request(home, start_simulator, capsys, monkeypatch):
    import pull_info
    from tests.helpers.batch import batch_env, small_account

    simulator = start_simulator(small_account()[0])
    for name, value in batch_env(simulator).items():
        monkeypatch.setenv(name, value)
    write_settings(home, port=2525)  # a user name, but no SMTP password anywhere

    assert pull_info.main(["--month", MONTH, "--send"]) == 2
    assert "SMTP_PASSWORD" in capsys.readouterr().err
    assert simulator.counters()["requests"] == 0


def test_the_setup_check_logs_in_and_quits_without_sending(home, smtp_server, monkeypatch):
    from utils.core.settings import load_settings
    from utils.monthly.send_step import check

    assert check(load_settings(home)) is None  # no [delivery]: nothing to check
    server = smtp_server()
    write_settings(home, server)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)

    assert check(load_settings(home)) == f"SMTP 127.0.0.1:{server.port}: STARTTLS, certificate checked, logged in as reports@acme.example"
    assert server.connections == 1 and server.logins == ["reports@acme.example"] and server.delivered == []

    monkeypatch.setenv("SMTP_PASSWORD", "not-the-password")
    with pytest.raises(Exception, match="refused the login of reports@acme.example: 535") as refused:
        check(load_settings(home))
    assert "not-the-password" not in str(refused.value)

    write_settings(home, method="outbox")
    assert "nothing is sent" in (check(load_settings(home)) or "")


def test_a_run_stopped_while_a_message_is_handed_over_leaves_it_unknown_not_sent_again(home, smtp_server, built_report, certificate,
                                                                                      capsys, monkeypatch):
    write_report(home, BETA, "Beta Dental", built_report)
    server = smtp_server()
    write_settings(home, server)
    server.switch(hold_in_data=1)  # the server has the message but has not answered yet
    env = {**os.environ, "INTEGOREPORT_HOME": str(home), "SMTP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(certificate[0]),
           "INTEGOREPORT_NOW": NOW}
    process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "send_reports.py"), "--month", MONTH], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    try:
        assert server.data_arrived.wait(30)
        process.send_signal(signal.SIGINT)  # Ctrl-C (a kill or a power cut leave the same record)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130 and "interrupted" in err
    entry = record(home)[BETA]
    assert entry["outcome"] == "unknown" and "may have gone out" in entry["reason"]

    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    assert send_reports.main(["--month", MONTH]) == 1  # the rerun leaves it to a person
    assert server.delivered == [] and "already unknown" in capsys.readouterr().err
