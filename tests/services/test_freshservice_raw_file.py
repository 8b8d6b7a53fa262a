"""The Freshservice raw file: owner-only, conversation metadata but no text unless asked, a ticket deleted mid-pull."""

from __future__ import annotations

import json
import os
import stat

import pytest

from build_report import main as build_report_main
from simulators.freshservice import Simulator, SimulatorSettings
from simulators.freshservice_data import Account
from tests.helpers.running import SIM_KEY
from utils.services.freshservice_pull import CONVERSATION_KEYS
from utils.services.freshservice_pull import main as pull_main

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
    warning = f"ticket {victim} was deleted while the month was being read (404); it is left out"
    assert warning in raw["warnings"]
    metrics_file = tmp_path / "metrics.json"
    assert build_report_main([str(home / "raw_data" / f"freshservice_{client_id}.json"), "--out", str(tmp_path / "r.html"),
                              "--json", str(metrics_file), "-q"]) == 0
    assert warning in json.loads(metrics_file.read_text())["warnings"]

