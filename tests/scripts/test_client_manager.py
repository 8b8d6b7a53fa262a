"""utils/client_manager.py against the simulator: the client list, its fallbacks, and its one-line errors."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta

import pytest

from simulators.freshservice_data import Account
from tests.helpers.running import SIM_KEY, run_script
from utils import client_manager


def small_account(departments: int = 3, tickets: int = 0) -> Account:
    account = Account()
    ids = [account.add_department(f"Client {n:03d}")["id"] for n in range(departments)]
    for n in range(tickets):
        account.add_ticket(ids[0], account.now.replace(microsecond=0) - timedelta(hours=n + 1), subject=f"Ticket {n}")
    return account


def simulator_env(simulator) -> dict[str, str]:
    return {"FRESHSERVICE_URL": simulator.url, "FRESHSERVICE_API_KEY": SIM_KEY}


def test_client_manager_falls_back_to_departments(start_simulator, home):
    account = Account()
    for name in ("Zeta Dental", "acme Law", "Beta Studio"):
        account.add_department(name)
    simulator = start_simulator(account)
    result = run_script("utils/client_manager.py", env=simulator_env(simulator))
    assert result.returncode == 0, result.stderr
    clients = json.loads((home / "companies_list.json").read_text())
    assert [c["name"] for c in clients] == ["acme Law", "Beta Studio", "Zeta Dental"]
    assert {c["entity_type"] for c in clients} == {"department"}
    assert set(clients[0]) == {"id", "name", "entity_type"}
    assert "Found 3 clients" in result.stderr and str(home / "companies_list.json") in result.stderr
    assert simulator.counters()["by_endpoint"]["companies"]["requests"] == 1


def test_client_manager_uses_companies_when_the_account_has_them(start_simulator, home):
    account = Account()
    account.add_department("Only Client")
    simulator = start_simulator(account, companies_endpoint=True)
    result = run_script("utils/client_manager.py", env=simulator_env(simulator))
    assert result.returncode == 0, result.stderr
    clients = json.loads((home / "companies_list.json").read_text())
    assert clients[0]["entity_type"] == "company"
    assert simulator.counters()["by_endpoint"].get("departments", {}).get("requests", 0) == 0


def test_client_manager_replaces_a_corrupt_list(start_simulator, home):
    (home / "companies_list.json").write_text('[{"id": 1, "name": "Old"')
    simulator = start_simulator(small_account(departments=2))
    result = run_script("utils/client_manager.py", env=simulator_env(simulator))
    assert result.returncode == 0, result.stderr
    assert len(json.loads((home / "companies_list.json").read_text())) == 2


def one_line_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("env, code, words", [
    ({"FRESHSERVICE_URL": "acme"}, 2, "no Freshservice API key"),
    ({"FRESHSERVICE_URL": "acme", "FRESHSERVICE_API_KEY": ""}, 2, "no Freshservice API key"),
    ({"FRESHSERVICE_API_KEY": "k-123456"}, 2, "no Freshservice URL"),
    ({"FRESHSERVICE_URL": "not a url", "FRESHSERVICE_API_KEY": "k-123456"}, 2, "malformed"),
    ({"FRESHSERVICE_URL": "http://acme.freshservice.com", "FRESHSERVICE_API_KEY": "k-123456"}, 2, "refusing plain http://"),
    ({"FRESHSERVICE_URL": "http://127.0.0.1:{closed_port}", "FRESHSERVICE_API_KEY": "k-123456"}, 1, "connection refused"),
])
def test_client_manager_bad_configuration(env, code, words, home, closed_port, run_in_process):
    env = {name: value.replace("{closed_port}", str(closed_port)) for name, value in env.items()}
    result = run_in_process(client_manager.main, env=env)
    assert result.returncode == code
    assert words in one_line_error(result)
    assert not (home / "companies_list.json").exists()


def test_client_manager_wrong_key_and_html_server(start_simulator, home, run_in_process):
    simulator = start_simulator(small_account())
    result = run_in_process(client_manager.main, env={"FRESHSERVICE_URL": simulator.url, "FRESHSERVICE_API_KEY": "wrong-key-777"})
    assert result.returncode == 1
    line = one_line_error(result)
    assert "401" in line and "wrong-key-777" not in line
    simulator.switch(garbage_response="html")
    result = run_in_process(client_manager.main, env=simulator_env(simulator))
    assert result.returncode == 1
    assert "not valid JSON" in one_line_error(result)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere, so an unwritable folder cannot be made")
def test_client_manager_unwritable_home(start_simulator, home):
    home.chmod(stat.S_IRUSR | stat.S_IXUSR)
    simulator = start_simulator(small_account())
    result = run_script("utils/client_manager.py", env=simulator_env(simulator))
    home.chmod(0o755)
    assert result.returncode == 2
    assert "not writable" in one_line_error(result)


def test_client_manager_home_is_a_file(start_simulator, tmp_path):
    not_a_folder = tmp_path / "file-not-folder"
    not_a_folder.write_text("x")
    simulator = start_simulator(small_account())
    result = run_script("utils/client_manager.py", env={**simulator_env(simulator), "INTEGOREPORT_HOME": str(not_a_folder)})
    assert result.returncode == 2
    assert "cannot create folder" in one_line_error(result)


def test_debug_flag_shows_the_traceback(home):
    result = run_script("utils/client_manager.py", "--debug", env={"FRESHSERVICE_URL": "acme"})
    assert result.returncode == 2
    assert "Traceback" in result.stderr

