"""FRESHSERVICE_RATE_WINDOW: the puller paces to a compressed-time simulator's window."""

from __future__ import annotations

import json
import logging

import pytest

from simulators.freshservice_data import Account
from tests.helpers.batch import MONTH, batch_env
from tests.helpers.running import SIM_KEY, run_script
from tests.helpers.settings import read_settings
from tests.helpers.timing import SkippedTime
from utils.core.errors import ConfigError
from utils.services.freshservice_client import FreshserviceClient
from utils.sources.freshservice import make_client
from utils.sources.freshservice_command import main as pull_main

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
    return {key: value for key, value in document.items() if key not in ("generated_at", "api_usage", "usage", "freshservice_url")}


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
    assert make_client(read_settings(home, env)).limiter.window_seconds == 60
    client = make_client(read_settings(home, {**env, "FRESHSERVICE_RATE_WINDOW": "2.5"}))
    assert client.limiter.window_seconds == 2.5 and client.policy.max_wait == 5.0


@pytest.mark.parametrize("value", ["0", "-3", "soon", "inf", "nan", "86400"])
def test_nonsense_window_is_a_settings_error(home, value):
    env = {"FRESHSERVICE_URL": "http://127.0.0.1:9", "FRESHSERVICE_API_KEY": "k-123456", "FRESHSERVICE_RATE_WINDOW": value}
    with pytest.raises(ConfigError, match="FRESHSERVICE_RATE_WINDOW"):
        read_settings(home, env)


def test_an_hourly_plans_retry_after_of_half_an_hour_is_waited_in_full_once(start_simulator, caplog):
    # A legacy hourly plan (pre-2020 accounts): the budget is spent half-way through the hour, so the
    # 429 asks for the other 30 minutes. Waiting less only earns more 429s, which cost budget too.
    account, _ = small_account()
    simulator = start_simulator(account, rate_limit_total=2, rate_window_seconds=3600.0)
    waits = SkippedTime(simulator)
    client = FreshserviceClient(simulator.url, SIM_KEY, limiter=waits.limiter(window_seconds=60.0, reserve=0.0))
    client.get_json("departments")
    client.get_json("departments")
    simulator.advance_clock(1800)
    with caplog.at_level(logging.INFO, logger="utils.services.http"):
        assert client.get_json("departments")["departments"]
    counters = simulator.counters()
    assert counters["rate_limited"] == 1 and counters["status"] == {200: 3, 429: 1}  # no second 429
    assert waits.skipped == pytest.approx(1800, abs=1)  # in full: the limiter counts from when the 429 came
    lines = [record.getMessage() for record in caplog.records if "rate limit" in record.getMessage()]
    assert lines == ["Freshservice rate limit reached on /api/v2/departments: waiting 30 min as its Retry-After asks "
                     "before trying again"]
    assert caplog.records[-1].levelno == logging.WARNING  # a run sitting still for minutes says why


def test_a_retry_after_past_the_run_budget_stops_the_batch_at_once_with_one_line(start_simulator, home, monkeypatch):
    # A three-hour window: its 429 asks for hours, more than any run waits. The batch stops at once
    # (no Freshservice data, no report) with one line, instead of retrying early for hours.
    account, client_id = small_account()
    simulator = start_simulator(account, rate_limit_total=3, rate_window_seconds=3 * 3600.0)
    for name, value in batch_env(simulator).items():
        monkeypatch.setenv(name, value)
    result = run_script("pull_info.py", "--month", MONTH, timeout=60)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if "rate limit" in line]
    assert len(errors) == 1 and "Freshservice" in errors[0] and "asks to wait 3 h" in errors[0], result.stderr
    assert "Traceback" not in result.stderr and SIM_KEY not in result.stdout + result.stderr
    assert simulator.counters()["rate_limited"] == 1
