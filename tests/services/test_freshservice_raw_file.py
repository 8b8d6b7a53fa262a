"""The Freshservice raw file: owner-only, conversation metadata but no text unless asked, a ticket deleted mid-pull."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest

from build_report import main as build_report_main
from simulators.freshservice import Simulator, SimulatorSettings
from simulators.freshservice_data import Account
from tests.helpers.batch import small_account
from tests.helpers.running import SIM_KEY
from utils.services.freshservice_pull import CONVERSATION_KEYS
from utils.sources.freshservice_command import main as pull_main

NOW = "2026-11-26T12:00:00+00:00"


@pytest.fixture
def account_with_one_client():
    account = Account(now=NOW)
    client = account.add_department("Private Ltd")
    agent = account.add_agent("Sam", "Agent")
    requester = account.add_requester("Rita", "Requester", email="rita@private.example")
    ticket = account.add_ticket(client["id"], "2026-10-05T10:00:00Z", subject="Printer", requester_id=requester["id"],
                                responder_id=agent["id"], description_text="The printer on floor 2 is jammed.")
    account.add_conversation(ticket["id"], incoming=False, private=False, body_text="Public reply: on my way.")
    account.add_conversation(ticket["id"], incoming=False, private=True, body_text="Private note: admin password is hunter2.")
    account.add_conversation(ticket["id"], incoming=True, private=False, body_text="Customer: thanks!")
    return account, client["id"], ticket["id"]


def pull_to_home(simulator, client_id, monkeypatch, *extra: str) -> int:
    monkeypatch.setenv("FRESHSERVICE_URL", simulator.url)
    monkeypatch.setenv("FRESHSERVICE_API_KEY", SIM_KEY)
    monkeypatch.setenv("INTEGOREPORT_NOW", NOW)
    return pull_main([str(client_id), "--month", "2026-10", "--tz", "UTC", "-q", *extra])


def test_raw_file_and_its_folder_are_owner_only(start_simulator, account_with_one_client, home, monkeypatch):
    account, client_id, _ = account_with_one_client
    old_umask = os.umask(0o022)
    try:
        assert pull_to_home(start_simulator(account), client_id, monkeypatch) == 0
    finally:
        os.umask(old_umask)
    raw_dir = home / "raw_data"
    assert stat.S_IMODE(raw_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((raw_dir / f"freshservice_{client_id}.json").stat().st_mode) == 0o600


def raw_text(home, client_id) -> str:
    return (home / "raw_data" / f"freshservice_{client_id}.json").read_text()


def test_raw_file_keeps_conversation_metadata_only(start_simulator, account_with_one_client, home, monkeypatch):
    account, client_id, ticket_id = account_with_one_client
    assert pull_to_home(start_simulator(account), client_id, monkeypatch) == 0
    text = raw_text(home, client_id)
    for words in ("hunter2", "on my way", "thanks!", "floor 2"):
        assert words not in text
    ticket = json.loads(text)["tickets"][0]
    assert ticket["id"] == ticket_id and "description" not in ticket and "description_text" not in ticket
    conversations = ticket["conversations"]
    assert [(c["incoming"], c["private"]) for c in conversations] == [(False, False), (False, True), (True, False)]
    assert all(set(c) <= set(CONVERSATION_KEYS) and {"id", "source", "user_id", "created_at"} <= set(c) for c in conversations)


def test_keep_conversation_text_keeps_public_text_only(start_simulator, account_with_one_client, home, monkeypatch):
    account, client_id, _ = account_with_one_client
    assert pull_to_home(start_simulator(account), client_id, monkeypatch, "--keep-conversation-text") == 0
    text = raw_text(home, client_id)
    assert "on my way" in text and "thanks!" in text
    assert "hunter2" not in text and "floor 2" not in text


def test_old_raw_file_with_text_still_builds(start_simulator, account_with_one_client, home, monkeypatch, tmp_path):
    account, client_id, _ = account_with_one_client
    assert pull_to_home(start_simulator(account), client_id, monkeypatch) == 0
    raw = json.loads(raw_text(home, client_id))
    ticket = raw["tickets"][0]
    ticket["description"], ticket["description_text"] = "<p>OLD-DESCRIPTION</p>", "OLD-DESCRIPTION"
    for conversation in ticket["conversations"]:
        conversation["body"], conversation["body_text"] = "<p>OLD-BODY</p>", "OLD-BODY"
    old_file = tmp_path / "old.json"
    old_file.write_text(json.dumps(raw))
    out = tmp_path / "report.html"
    assert build_report_main([str(old_file), "--out", str(out), "-q"]) == 0
    assert "OLD-" not in out.read_text()


def test_ticket_deleted_during_the_pull_is_skipped_with_a_warning(account_with_one_client, home, monkeypatch, tmp_path):
    account, client_id, kept_id = account_with_one_client
    victim = account.add_ticket(client_id, "2026-10-06T10:00:00Z", subject="Gone soon")["id"]
    # Listed by the filter but 404 when read: deleted meanwhile.
    simulator = Simulator(account=account, settings=SimulatorSettings(api_key=SIM_KEY, deleted_ticket_ids={victim}))
    with simulator:
        assert pull_to_home(simulator, client_id, monkeypatch) == 0
    raw = json.loads(raw_text(home, client_id))
    assert [t["id"] for t in raw["tickets"]] == [kept_id]
    warning = f"ticket {victim} was deleted while its period was being read (404); it is left out"
    assert warning in raw["warnings"]
    metrics_file = tmp_path / "metrics.json"
    assert build_report_main([str(home / "raw_data" / f"freshservice_{client_id}.json"), "--out", str(tmp_path / "r.html"),
                              "--json", str(metrics_file), "-q"]) == 0
    assert warning in json.loads(metrics_file.read_text())["warnings"]



def test_each_raw_file_of_a_batch_records_what_its_own_pull_cost(start_simulator, home, run_pull_info):
    account, (acme, beta, _quiet) = small_account()
    # The client list is on disk, so every request of the run is one of the two pulls' (or their shared step's).
    (home / "companies_list.json").write_text(json.dumps([{"id": d["id"], "name": d["name"], "entity_type": "department"}
                                                          for d in account.departments.values()]))
    simulator = start_simulator(account)
    result = run_pull_info(simulator, "--client", str(acme), "--client", str(beta), "--no-build")
    assert result.returncode == 0, result.stderr
    usage = [json.loads((home / "raw_data" / f"freshservice_{client_id}.json").read_text())["usage"] for client_id in (acme, beta)]
    served = simulator.counters()
    # The summary line still gives the run's total, and the files' usage adds up to it.
    total = re.search(r"(\d+) tickets, (\d+) credits \([0-9.]+ a ticket\) in (\d+) requests", result.stderr)
    assert total is not None and (int(total[2]), int(total[3])) == (served["credits"], served["requests"])
    assert sum(block["requests"] for block in usage) == served["requests"]
    assert sum(block["credits"] for block in usage) == served["credits"]
    # The first file carries the batch's shared step (reference data, departments, sweep); the second only its own pull.
    assert 0 < usage[1]["requests"] < usage[0]["requests"] and usage[1]["requests"] < served["requests"]
    assert all(block["seconds_total"] >= 0 and block["retries"] == block["rate_limited"] == 0 for block in usage)
