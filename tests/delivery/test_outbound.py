"""send_reports.py against what a hostile or unlucky month brings: Mailchimp holds, odd answers, edited
records, swapped report files, control characters, huge values. Real SMTP and HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from simulators.mailchimp import error_body
from tests.helpers.delivery import ACME, BETA, MONTH, PASSWORD, record, send, write_report, write_settings
from utils.core.errors import ConfigError
from utils.core.settings import load_settings
from utils.delivery.outbound import Options, build_message, deliver_month, find_reports
from utils.delivery.smtp import SmtpSender

HELD_REASONS = ["account-suspended", "sending-suspended", "sending-paused", "monthly-limit-reached", "free-trial-sends-exhausted"]
BENIGN_REASONS = ["multiple-recipients", "attachments", "sending-backlogged", "hourly-quota-exhausted"]
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # what must never reach a terminal or a header (tab and newline aside)


def reports_dir(home: Path) -> Path:
    return home / "reports" / MONTH


def write_record(home: Path, clients: dict) -> None:
    (reports_dir(home) / "delivery.json").write_text(json.dumps({"month": MONTH, "clients": clients}), encoding="utf-8")


def smtp_ready(home, smtp_server, monkeypatch, **settings):
    server = smtp_server()
    write_settings(home, server, **settings)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    return server


# -- Mailchimp: queued is not always delivery --------------------------------------------------------

@pytest.mark.parametrize("reason", HELD_REASONS)
def test_an_account_hold_is_unknown_and_stops_the_batch_at_the_first_client(home, mailchimp, two_clients, capsys, reason):
    mailchimp.switch(queued_reason=reason)

    code, _, err = send(capsys)

    assert code == 1
    entries = record(home)
    assert list(entries) == [ACME]  # Beta was not even asked: it would be held the same way
    assert entries[ACME]["outcome"] == "unknown" and entries[ACME]["held"] == reason
    assert reason in entries[ACME]["reason"] and "--resend" in entries[ACME]["reason"]
    assert mailchimp.counters()["requests"] == 1
    assert len([line for line in err.splitlines() if "stopped" in line and reason in line]) == 1

    mailchimp.switch(queued_reason=None)  # the account is fixed: Acme is left to a person, Beta goes out
    code, _, err = send(capsys)
    assert record(home)[ACME]["outcome"] == "unknown" and record(home)[BETA]["outcome"] == "sent"
    assert [m["metadata"]["client_id"] for m in mailchimp.sent_messages] == [ACME, BETA] and "already unknown" in err


@pytest.mark.parametrize("reason", BENIGN_REASONS)
def test_a_benign_queued_reason_stays_sent(home, mailchimp, two_clients, capsys, reason):
    mailchimp.switch(queued_reason=reason)

    code, _, err = send(capsys)

    assert code == 0, err
    assert {entry["outcome"] for entry in record(home).values()} == {"sent"}
    assert all("held" not in entry for entry in record(home).values())


def test_the_index_shows_a_held_message_in_red_with_what_to_do(home, mailchimp, two_clients, capsys):
    rows = [{"client": {"id": client_id, "name": name}, "report": path.name, "tickets": 40, "error": None, "steps_failed": {}}
            for client_id, name, path in ((ACME, "Acme Law", two_clients[0]), (BETA, "Beta Dental", two_clients[1]))]
    (reports_dir(home) / "index.json").write_text(json.dumps(rows), encoding="utf-8")  # as the batch leaves it
    mailchimp.switch(queued_reason="sending-paused")

    assert send(capsys)[0] == 1

    index = (reports_dir(home) / "index.html").read_text(encoding="utf-8")
    cell = next(td for td in re.findall(r"<td[^>]*>[^<]*</td>", index) if "held by Mailchimp" in td)
    assert "color:#b42318" in cell and "sending-paused" in cell and "--resend" in cell


@pytest.mark.parametrize("results", ["empty", "foreign"])
def test_a_200_that_does_not_answer_for_our_recipients_is_unknown_not_failed_or_sent(home, mailchimp, built_report, capsys, results):
    write_report(home, BETA, "Beta Dental", built_report)
    mailchimp.switch(results=results)

    code, _, _ = send(capsys)

    assert code == 1
    entry = record(home)[BETA]
    assert entry["outcome"] == "unknown" and "may have been sent" in entry["reason"]
    assert len(mailchimp.sent_messages) == 1  # the service did take it

    mailchimp.switch(results="normal")
    send(capsys)
    assert len(mailchimp.sent_messages) == 1  # never sent again automatically


def test_an_error_that_repeats_the_key_is_redacted_in_the_record(home, mailchimp, two_clients, capsys, monkeypatch):
    mailchimp.switch(echo_key_in_errors=True)
    monkeypatch.setenv("MAILCHIMP_TRANSACTIONAL_KEY", "md-echoed-key-77321")

    code, out, err = send(capsys)

    assert code == 1
    stored = (reports_dir(home) / "delivery.json").read_text(encoding="utf-8")
    assert "Invalid_Key" in stored and "[REDACTED]" in stored
    assert "md-echoed-key-77321" not in stored + out + err


def test_a_huge_error_message_is_cut_to_a_sane_length(home, mailchimp, built_report, capsys):
    write_report(home, BETA, "Beta Dental", built_report)
    mailchimp.fail_next(1, 500, body=error_body("GeneralError", "overloaded " + "x" * 2_000_000))

    code, out, err = send(capsys)

    assert code == 1
    reason = record(home)[BETA]["reason"]
    assert record(home)[BETA]["outcome"] == "unknown" and "GeneralError: overloaded x" in reason
    assert len(reason) < 600 and len(out + err) < 3000


# -- never sent when not meant, never twice ---------------------------------------------------------

def test_an_empty_test_to_is_a_usage_error_not_every_real_recipient(home, smtp_server, two_clients, capsys, monkeypatch):
    server = smtp_ready(home, smtp_server, monkeypatch)

    code, _, err = send(capsys, "--test-to", "")

    assert code == 2 and "--test-to" in err
    assert server.connections == 0 and not (reports_dir(home) / "delivery.json").exists()


@pytest.mark.parametrize("entry", [{"outcome": "Sent", "at": "2026-11-01T08:00:00+00:00"}, {"outcome": None}, "sent"],
                         ids=["capitalised", "null", "bare-string"])
def test_a_record_entry_with_an_outcome_the_tool_does_not_know_stops_the_run(home, smtp_server, two_clients, capsys, monkeypatch,
                                                                             entry):
    server = smtp_ready(home, smtp_server, monkeypatch)
    write_record(home, {ACME: entry})

    code, _, err = send(capsys)

    assert code == 1 and f"client {ACME}" in err and "repair or move" in err
    assert server.connections == 0 and json.loads((reports_dir(home) / "delivery.json").read_text())["clients"] == {ACME: entry}


def test_an_earlier_list_edited_into_a_number_does_not_crash(home, smtp_server, built_report, capsys, monkeypatch):
    write_report(home, BETA, "Beta Dental", built_report)
    server = smtp_ready(home, smtp_server, monkeypatch)
    write_record(home, {BETA: {"outcome": "failed", "at": "2026-11-01T08:00:00+00:00", "reason": "refused", "earlier": 5}})

    code, _, err = send(capsys, "--client", BETA)

    assert code == 0, err
    entry = record(home)[BETA]
    assert entry["outcome"] == "sent" and len(server.delivered) == 1
    assert entry["earlier"] == [5, {"outcome": "failed", "at": "2026-11-01T08:00:00+00:00", "reason": "refused"}]


def test_resend_needs_client_or_all(home, smtp_server, two_clients, capsys, monkeypatch):
    server = smtp_ready(home, smtp_server, monkeypatch)
    assert send(capsys)[0] == 0 and len(server.delivered) == 2

    code, _, err = send(capsys, "--resend")
    assert code == 2 and "--client" in err and "--all" in err and len(server.delivered) == 2

    code, _, err = send(capsys, "--resend", "--all")
    assert code == 0, err
    assert len(server.delivered) == 4 and all(entry["earlier"][0]["outcome"] == "sent" for entry in record(home).values())


@pytest.mark.parametrize("value", ["", "../../x", "acme"])
def test_a_client_that_is_not_a_number_is_a_usage_error(home, smtp_server, two_clients, capsys, monkeypatch, value):
    server = smtp_ready(home, smtp_server, monkeypatch)

    code, _, err = send(capsys, "--client", value)

    assert code == 2 and "client id" in err and server.connections == 0


# -- nothing lost -----------------------------------------------------------------------------------

def test_an_international_domain_is_sent_in_its_ascii_form(home, smtp_server, built_report, capsys, monkeypatch):
    write_report(home, BETA, "Beta Dental", built_report)
    server = smtp_ready(home, smtp_server, monkeypatch, bcc="[]", clients=f'[clients.{BETA}]\nto = ["José <jose@café.example>"]\n')

    code, _, err = send(capsys)

    assert code == 0, err
    assert [d.rcpt_tos for d in server.delivered] == [["jose@xn--caf-dma.example"]]
    assert record(home)[BETA]["accepted"] == ["jose@xn--caf-dma.example"]


def test_an_address_smtp_cannot_carry_fails_before_data_and_the_next_message_still_goes(home, smtp_server, two_clients, monkeypatch):
    server = smtp_ready(home, smtp_server, monkeypatch)
    settings = load_settings(home)
    reports = find_reports(reports_dir(home))
    assert settings.delivery is not None and settings.delivery.smtp is not None
    sender = SmtpSender(settings.delivery.smtp, PASSWORD)
    try:
        unencodable = build_message(reports[ACME], settings.delivery, "Acme IT", MONTH, ["jose@café.example"])
        result = sender.send(unencodable)
        assert result.outcome == "failed" and "not ASCII" in (result.reason or "") and "nothing was sent" in (result.reason or "")
        assert sender.send(build_message(reports[BETA], settings.delivery, "Acme IT", MONTH, ["bob@beta.example"])).outcome == "sent"
    finally:
        sender.close()
    assert [d.rcpt_tos for d in server.delivered] == [["bob@beta.example"]]


def test_a_timeout_after_the_final_dot_is_named_as_one_and_left_unknown(home, smtp_server, built_report, monkeypatch):
    write_report(home, BETA, "Beta Dental", built_report)
    server = smtp_ready(home, smtp_server, monkeypatch)
    server.switch(hold_in_data=1, hold_seconds=5.0)
    settings = load_settings(home)
    assert settings.delivery is not None and settings.delivery.smtp is not None
    sender = SmtpSender(settings.delivery.smtp, PASSWORD, timeout=0.5)

    summary = deliver_month(settings, home, Options(month=MONTH, client_ids=(BETA,)), sender)

    reason = record(home)[BETA]["reason"]
    assert summary.states == {BETA: "unknown"}
    assert "no answer from" in reason and "within 0.5 s after the message was handed over" in reason
    assert "closed the connection" not in reason


# -- nothing read or printed that should not be -----------------------------------------------------

def test_a_report_replaced_by_a_link_is_never_read_or_mailed(home, smtp_server, two_clients, capsys, monkeypatch, tmp_path):
    server = smtp_ready(home, smtp_server, monkeypatch)
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE-KEY-MATERIAL", encoding="utf-8")
    acme_html, beta_html = two_clients
    acme_html.unlink()
    acme_html.symlink_to(secret)
    beta_text = beta_html.with_suffix(".txt")
    beta_text.unlink()
    beta_text.symlink_to(secret)

    code, out, err = send(capsys)

    assert code == 1 and server.delivered == []
    entries = record(home)
    assert entries[ACME]["outcome"] == entries[BETA]["outcome"] == "failed"
    assert "symbolic link" in entries[ACME]["reason"] and "symbolic link" in entries[BETA]["reason"]

    code, out, err = send(capsys, "--dry-run")
    outbox = reports_dir(home) / "outbox"
    assert not outbox.exists() or all("PRIVATE-KEY-MATERIAL" not in p.read_text() for p in outbox.iterdir())


def test_a_fifo_in_place_of_a_report_is_refused_without_waiting(home, smtp_server, built_report, capsys, monkeypatch):
    html = write_report(home, BETA, "Beta Dental", built_report)
    server = smtp_ready(home, smtp_server, monkeypatch)
    fifo = html.with_suffix(".txt")
    fifo.unlink()
    os.mkfifo(fifo)
    # Should the FIFO be opened for reading (and so block), this writer feeds it a fake report, so a
    # regression fails the test instead of hanging it.
    sent = threading.Event()
    writer = threading.Thread(target=_feed_fifo, args=(fifo, b"FED THROUGH A FIFO", sent), daemon=True)
    writer.start()

    started = time.monotonic()
    code, _, _ = send(capsys)
    sent.set()  # the send is over: the writer has nobody left to feed

    assert code == 1 and time.monotonic() - started < 3
    assert record(home)[BETA]["outcome"] == "failed" and "named pipe" in record(home)[BETA]["reason"]
    assert server.delivered == []
    writer.join(5)


def _feed_fifo(path: Path, data: bytes, done: threading.Event, seconds: float = 4.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not done.is_set():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # fails (ENXIO) while nobody reads
        except OSError:
            done.wait(0.02)
            continue
        try:
            os.write(fd, data)
        except OSError:
            pass
        finally:
            os.close(fd)
        return


def test_dry_run_prints_no_control_characters_from_a_client_name(home, built_report, capsys):
    write_report(home, BETA, "Beta\x1b[2J Dental\x07\x00", built_report, slug="beta")
    write_settings(home, method="outbox")

    code, out, err = send(capsys, "--dry-run", "--client", BETA)

    assert code == 0, err
    assert "would send" in out and "Beta[2J Dental" in out
    assert not CONTROLS.search(out + err)


def test_the_subject_header_carries_no_control_bytes(home, smtp_server, built_report, capsys, monkeypatch):
    write_report(home, BETA, "Beta\x1b[31m Dental\x07", built_report, slug="beta")
    server = smtp_ready(home, smtp_server, monkeypatch)

    code, _, err = send(capsys, "--client", BETA)

    assert code == 0, err
    subject_line = next(line for line in server.delivered[0].content.split(b"\r\n") if line.startswith(b"Subject:"))
    assert subject_line == b"Subject: Beta[31m Dental: IT report for October 2026 from Acme IT"


def test_a_subject_with_a_format_width_is_a_settings_error(home, smtp_server, two_clients, capsys, monkeypatch):
    server = smtp_ready(home, smtp_server, monkeypatch)
    toml = home / "integoreport.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('subject = "{client}:', 'subject = "{client:999999999}:'), encoding="utf-8")
    with pytest.raises(ConfigError, match="format spec"):
        load_settings(home)  # refused when read, never formatted into a gigabyte subject

    code, _, err = send(capsys)

    assert code == 2 and "{client:999999999}" in err and "unexpected" not in err
    assert server.connections == 0
