"""FRESHSERVICE_RATE_WINDOW: the puller paces to a compressed-time simulator's window."""

from __future__ import annotations

import json

import pytest

from data_pullers.freshservice import main as pull_main
from simulators.freshservice_data import Account
from tests.conftest import SIM_KEY
from utils.config import load_config
from utils.errors import ConfigError
from utils.freshservice_client import client_from_config

NOW = "2026-11-26T12:00:00+00:00"


def small_account() -> tuple[Account, int]:
    account = Account(now=NOW)
    client = account.add_department("Window Ltd")
    agent = account.add_agent("Sam", "Agent")
    requester = account.add_requester("Rita", "Requester", email="rita@window.example")
    for day in range(1, 26):
        ticket = account.add_ticket(client["id"], f"2026-10-{day:02d}T10:00:00Z", subject=f"ticket {day}",
                                    requester_id=requester["id"], responder_id=agent["id"])
        account.add_conversation(ticket["id"], incoming=False, body_text="On it.")
    return account, client["id"]


def pull(simulator, client_id: int, home, monkeypatch) -> dict:
    monkeypatch.setenv("FRESHSERVICE_URL", simulator.url)
    monkeypatch.setenv("FRESHSERVICE_API_KEY", SIM_KEY)
    monkeypatch.setenv("INTEGOREPORT_NOW", NOW)
    assert pull_main([str(client_id), "--month", "2026-10", "--tz", "UTC", "-q"]) == 0
    document = json.loads((home / "raw_data" / f"freshservice_{client_id}.json").read_text())
    return {key: value for key, value in document.items() if key not in ("generated_at", "api_usage", "freshservice_url")}


def test_tight_budget_with_faults_gives_the_unlimited_pull(start_simulator, home, monkeypatch):
    account, client_id = small_account()
    reference = pull(start_simulator(account), client_id, home, monkeypatch)
    tight = start_simulator(account, rate_limit_total=40, rate_window_seconds=3.0, fail_every=29)
    monkeypatch.setenv("FRESHSERVICE_RATE_WINDOW", "3")
    assert pull(tight, client_id, home, monkeypatch) == reference
    counters = tight.counters()
    assert counters["credits"] > 40 and counters["status"].get(503, 0) >= 1  # the budget and the faults did bite
    assert counters["rate_limited"] <= tight.windows_started
    assert len(reference["tickets"]) == 25


def test_window_setting_reaches_the_client(home, monkeypatch):
    env = {"FRESHSERVICE_URL": "http://127.0.0.1:9", "FRESHSERVICE_API_KEY": "k-123456"}
    assert client_from_config(load_config(env=env, home=home)).limiter.window_seconds == 60
    client = client_from_config(load_config(env={**env, "FRESHSERVICE_RATE_WINDOW": "2.5"}, home=home))
    assert client.limiter.window_seconds == 2.5 and client.policy.max_wait == 5.0


@pytest.mark.parametrize("value", ["0", "-3", "soon", "inf", "nan", "86400"])
def test_nonsense_window_is_a_settings_error(home, value):
    env = {"FRESHSERVICE_URL": "http://127.0.0.1:9", "FRESHSERVICE_API_KEY": "k-123456", "FRESHSERVICE_RATE_WINDOW": value}
    with pytest.raises(ConfigError, match="FRESHSERVICE_RATE_WINDOW"):
        load_config(env=env, home=home)
