"""send_reports.py through Mailchimp Transactional, against the simulator on 127.0.0.1."""

from __future__ import annotations

import json
import socket

import pytest

from tests.helpers.delivery import ACME, BETA, KEY, MONTH, record, send, write_report
from tests.helpers.running import run_script
from tests.helpers.timing import SkippedTime
from utils.core.settings import MailchimpSettings, load_settings
from utils.delivery.mailchimp import MailchimpSender
from utils.delivery.outbound import Options, deliver_month


def test_each_client_is_sent_once_with_the_report_as_built(home, mailchimp, two_clients, capsys):
    code, out, err = send(capsys)

    assert code == 0, err
    assert len(mailchimp.sent_messages) == 2
    message = next(m for m in mailchimp.sent_messages if m["metadata"]["client_id"] == ACME)
    assert message["html"] == two_clients[0].read_text(encoding="utf-8")
    assert message["text"] == two_clients[0].with_suffix(".txt").read_text(encoding="utf-8")
    assert message["subject"] == "Acme Law: IT report for October 2026 from Acme IT"
    assert message["from_email"] == "reports@acme.example" and message["from_name"] == "Acme IT"
    assert message["to"] == [{"email": "jane@acme-law.example", "type": "to", "name": "Jane Roe"},
                             {"email": "ops@acme-law.example", "type": "to"}, {"email": "boss@acme-law.example", "type": "cc"},
                             {"email": "archive@acme.example", "type": "bcc"}]
    assert message["headers"] == {"Reply-To": "help@acme.example", "X-IntegoReport-Client": ACME, "X-IntegoReport-Month": MONTH}
    assert message["metadata"] == {"client_id": ACME, "month": MONTH}
    assert message["inline_css"] is False and message["preserve_recipients"] is True and message["tags"] == ["integoreport", "monthly-report"]
    entries = record(home)
    assert entries[ACME]["outcome"] == "sent" and entries[ACME]["method"] == "mailchimp"
    assert entries[ACME]["message_id"] == entries[ACME]["service_ids"]["jane@acme-law.example"]
    assert KEY not in out + err + json.dumps(entries)

    calls = mailchimp.counters()["requests"]
    code, _, _ = send(capsys)
    assert code == 0 and mailchimp.counters()["requests"] == calls  # nothing sent twice, not even asked


def test_rejected_and_invalid_recipients_are_partial_or_failed(home, mailchimp, two_clients, capsys):
    mailchimp.switch(rejected={"ops@acme-law.example": "hard-bounce", "bob@beta.example": "spam", "archive@acme.example": "unsub"})
    mailchimp.switch(invalid={"boss@acme-law.example"})

    code, _, _ = send(capsys)

    assert code == 1
    entries = record(home)
    assert entries[ACME]["outcome"] == "partial" and entries[ACME]["accepted"] == ["jane@acme-law.example"]
    assert {r["address"]: r["reason"] for r in entries[ACME]["refused"]} == {
        "ops@acme-law.example": "rejected: hard-bounce", "boss@acme-law.example": "invalid: no reason given",
        "archive@acme.example": "rejected: unsub"}
    assert entries[BETA]["outcome"] == "failed"

    mailchimp.switch(rejected={}, invalid=set())
    code, _, _ = send(capsys)
    assert record(home)[BETA]["outcome"] == "sent" and record(home)[ACME]["outcome"] == "partial"
    assert mailchimp.accepted.count("jane@acme-law.example") == 1 and mailchimp.accepted.count("bob@beta.example") == 1


def test_an_invalid_key_stops_the_batch_at_the_first_client_with_one_line(home, mailchimp, two_clients, capsys, monkeypatch):
    monkeypatch.setenv("MAILCHIMP_TRANSACTIONAL_KEY", "md-wrong-key-12345")

    code, out, err = send(capsys)

    assert code == 1
    assert list(record(home)) == [ACME] and "Invalid_Key" in record(home)[ACME]["reason"]
    assert mailchimp.counters()["requests"] == 1 and mailchimp.sent_messages == []
    assert len([line for line in err.splitlines() if "Invalid_Key" in line and "stopped" in line]) == 1
    assert "md-wrong-key-12345" not in out + err + json.dumps(record(home))


def test_a_server_error_after_sending_is_unknown_and_not_retried_but_a_validation_error_is_failed(home, mailchimp, two_clients, capsys):
    mailchimp.fail_next_named("GeneralError")  # Acme: a 500 after the body went out
    mailchimp.fail_next_named("ValidationError")  # Beta: refused as malformed, certainly not sent

    code, _, err = send(capsys)

    assert code == 1
    entries = record(home)
    assert entries[ACME]["outcome"] == "unknown" and "GeneralError" in entries[ACME]["reason"]
    assert entries[BETA]["outcome"] == "failed" and "ValidationError" in entries[BETA]["reason"]
    assert mailchimp.counters()["requests"] == 2  # neither was retried within the run

    code, _, err = send(capsys)
    assert record(home)[ACME]["outcome"] == "unknown" and record(home)[BETA]["outcome"] == "sent"
    assert [m["metadata"]["client_id"] for m in mailchimp.sent_messages] == [BETA]


def test_a_rate_limit_is_waited_out_and_the_report_sent_once(home, mailchimp, built_report, capsys):
    write_report(home, BETA, "Beta Dental", built_report)
    mailchimp.fail_next(1, 429, headers=[("Retry-After", "0")])

    code, _, err = send(capsys, "--client", BETA)

    assert code == 0, err
    assert mailchimp.counters()["status"] == {429: 1, 200: 1}
    assert mailchimp.accepted == ["bob@beta.example", "archive@acme.example"]


def test_a_huge_retry_after_again_and_again_stops_the_batch_at_once_and_a_rerun_sends_each_once(home, mailchimp, two_clients):
    mailchimp.fail_next(50, 429, headers=[("Retry-After", "3600")])  # throttled for an hour, whatever we do

    result = run_script("send_reports.py", "--month", MONTH, timeout=60)  # not hours

    assert result.returncode == 1, result.stderr
    assert mailchimp.counters()["requests"] == 1 and mailchimp.sent_messages == []  # Beta was not even tried
    entries = record(home)
    assert list(entries) == [ACME] and entries[ACME]["outcome"] == "failed"  # answered 429: certainly not sent
    stops = [line for line in result.stderr.splitlines() if "stopped" in line]
    assert len(stops) == 1 and "Mailchimp Transactional rate limit" in stops[0] and "1 h" in stops[0], result.stderr
    assert "Traceback" not in result.stderr and KEY not in result.stdout + result.stderr

    mailchimp.reset_counters()
    mailchimp.clear_faults()  # the throttling is over
    result = run_script("send_reports.py", "--month", MONTH, timeout=60)
    assert result.returncode == 0, result.stderr
    assert sorted(m["metadata"]["client_id"] for m in mailchimp.sent_messages) == sorted([ACME, BETA])


def test_429_waits_stop_the_batch_once_they_pass_the_runs_budget(home, mailchimp, two_clients):
    mailchimp.fail_next(50, 429, headers=[("Retry-After", "240")])
    waits = SkippedTime()  # the waits pass at once, on the sender's own clock
    sender = MailchimpSender(MailchimpSettings(mailchimp.api_url), KEY, sleep=waits.sleep, clock=waits.clock)

    summary = deliver_month(load_settings(home), home, Options(month=MONTH), sender)

    assert waits.skipped == 480  # two waits of 4 min; a third would pass the 10 min budget
    assert summary.stopped is not None and "past the 10 min this run may wait for Mailchimp Transactional" in summary.stopped
    assert not summary.ok and summary.states == {ACME: "failed"}
    assert record(home)[ACME]["outcome"] == "failed" and mailchimp.sent_messages == []
    assert mailchimp.counters()["status"] == {429: 3}


def test_a_hang_past_the_timeout_is_unknown(home, mailchimp, built_report):
    write_report(home, BETA, "Beta Dental", built_report)
    mailchimp.hang_next(1, seconds=1.5)
    sender = MailchimpSender(MailchimpSettings(mailchimp.api_url), KEY, timeout=(2.0, 0.2))

    summary = deliver_month(load_settings(home), home, Options(month=MONTH, client_ids=(BETA,)), sender)

    assert summary.states == {BETA: "unknown"}
    assert "may or may not" in record(home)[BETA]["reason"]


def test_a_service_that_cannot_be_reached_is_failed_and_retried_next_run(home, mailchimp, built_report):
    write_report(home, BETA, "Beta Dental", built_report)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/api/1.0"
    options = Options(month=MONTH, client_ids=(BETA,))

    summary = deliver_month(load_settings(home), home, options, MailchimpSender(MailchimpSettings(closed), KEY, sleep=lambda _: None))
    assert summary.states == {BETA: "failed"} and "cannot reach" in record(home)[BETA]["reason"]

    summary = deliver_month(load_settings(home), home, options, MailchimpSender(MailchimpSettings(mailchimp.api_url), KEY))
    assert summary.states == {BETA: "sent"} and mailchimp.accepted == ["bob@beta.example", "archive@acme.example"]


def test_ping_checks_the_key(mailchimp):
    assert "key accepted" in MailchimpSender(MailchimpSettings(mailchimp.api_url), KEY).ping()
    with pytest.raises(Exception, match="401 Invalid_Key"):
        MailchimpSender(MailchimpSettings(mailchimp.api_url), "md-other-key").ping()


def test_pull_info_check_pings_mailchimp_and_names_a_refused_key(home, mailchimp, start_simulator, capsys, monkeypatch):
    import pull_info
    from simulators.freshservice_data import Account
    from tests.helpers.running import SIM_KEY

    account = Account()
    account.add_department("Acme Law")
    simulator = start_simulator(account)
    monkeypatch.setenv("FRESHSERVICE_URL", simulator.url)
    monkeypatch.setenv("FRESHSERVICE_API_KEY", SIM_KEY)

    assert pull_info.main(["--check"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Email delivery"))
    assert f"Mailchimp Transactional {mailchimp.api_url}: key accepted" in line and line.endswith("OK")

    monkeypatch.setenv("MAILCHIMP_TRANSACTIONAL_KEY", "md-refused-key-9981")
    assert pull_info.main(["--check"]) == 1
    output = capsys.readouterr()
    line = next(line for line in output.out.splitlines() if line.startswith("Email delivery"))
    assert "401 Invalid_Key" in line and "md-refused-key-9981" not in output.out + output.err
    assert mailchimp.sent_messages == [] and not (home / "reports").exists()
