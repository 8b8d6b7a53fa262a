"""Freshservice for MSPs (every client a workspace) beside the classic edition (clients are departments).

The simulator's `edition="msp"` answers a ticket list, filter, department or form-field call that
names no `workspace_id` for the primary workspace (2) only, as the reference says the service does;
so a tool that forgets the parameter finds one client's tickets, or none, and these tests see it.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from simulators.freshservice_data import Account
from tests.helpers.batch import MONTH, small_account
from tests.helpers.running import SIM_KEY
from utils import client_manager
from utils.sources.freshservice_command import main as puller_main

# The calls that answer for the primary workspace only unless they name one (freshservice-api.md Part 1).
SCOPED_PATHS = ("/api/v2/tickets", "/api/v2/tickets/filter", "/api/v2/departments", "/api/v2/ticket_form_fields")


def msp_account() -> tuple[Account, dict[str, int]]:
    """small_account's three clients as workspaces, one ticket in the Default client (2) and one in the MSP's own (3)."""
    account, department_ids = small_account()
    moved = account.departments_as_workspaces()
    names = {account.departments[department]["name"]: moved[department] for department in department_ids}
    account.add_ticket(None, "2026-10-07T10:00:00Z", subject="Default client ticket", workspace_id=2)
    account.add_ticket(None, "2026-10-08T10:00:00Z", subject="MSP internal ticket", workspace_id=3)
    return account, names


def script_env(simulator) -> dict[str, str]:
    return {"FRESHSERVICE_URL": simulator.url, "FRESHSERVICE_API_KEY": SIM_KEY, "REPORT_TIMEZONE": "UTC"}


def scoped_calls(simulator) -> list[tuple[str, dict[str, list[str]]]]:
    """(path, query) of every logged call that must name a workspace on the MSP edition."""
    calls = [(urlsplit(target).path, parse_qs(urlsplit(target).query)) for _method, target, _headers in simulator.last_requests]
    return [(path, query) for path, query in calls if path in SCOPED_PATHS]


def complete_log(simulator) -> None:
    # The simulator keeps the last 200 requests: the assertions on the log must see every one.
    assert len(simulator.last_requests) == simulator.counters()["requests"] < 200


# -- the simulator's edition switch ----------------------------------------------------------------

def test_the_msp_edition_answers_calls_without_workspace_id_for_the_primary_workspace_only(start_simulator):
    import requests

    account, names = msp_account()
    simulator = start_simulator(account, edition="msp")
    session = requests.Session()
    session.auth = (SIM_KEY, "X")

    def get(path: str, **params) -> requests.Response:
        return session.get(f"{simulator.url}/api/v2/{path}", params=params, timeout=5)

    assert [w["id"] for w in get("workspaces").json()["workspaces"]] == [2, 3, *sorted(names.values())]
    assert get(f"workspaces/{names['Acme Law']}").json()["workspace"]["name"] == "Acme Law"
    acme = names["Acme Law"]
    query = '"created_at:>\'2026-10-01\'"'
    assert [t["subject"] for t in get("tickets/filter", query=query).json()["tickets"]] == ["Default client ticket"]
    assert get("tickets/filter", query=query, workspace_id=acme).json()["total"] == 5
    assert get("tickets/filter", query=query, workspace_id=0).json()["total"] == 10
    assert get("tickets/filter", query=f'"workspace_id:{acme}"', workspace_id=0).json()["total"] == 5
    assert len(get("tickets", updated_since="2026-10-01").json()["tickets"]) == 1
    assert get("departments").json()["departments"] == []
    assert [d["name"] for d in get("departments", workspace_id=acme).json()["departments"]] == ["Acme Law"]
    assert get("departments", workspace_id=0).status_code == 400  # the docs: a given workspace_id must be > 1


def test_the_classic_edition_is_the_default_and_has_no_workspaces(start_simulator):
    import requests

    account, _ids = small_account()
    simulator = start_simulator(account)
    response = requests.get(f"{simulator.url}/api/v2/workspaces", auth=(SIM_KEY, "X"), timeout=5)
    assert response.status_code == 404
    query = requests.get(f"{simulator.url}/api/v2/tickets/filter", auth=(SIM_KEY, "X"), timeout=5,
                         params={"query": '"created_at:>\'2026-10-01\'"'}).json()
    assert query["total"] == 8  # every department's tickets, no workspace scoping


# -- the client list --------------------------------------------------------------------------------

def test_client_manager_lists_the_client_workspaces_never_the_msp_itself(start_simulator, home, run_in_process):
    account, names = msp_account()
    simulator = start_simulator(account, edition="msp")
    result = run_in_process(client_manager.main, env=script_env(simulator))
    assert result.returncode == 0, result.stderr
    clients = json.loads((home / "companies_list.json").read_text())
    assert sorted(c["id"] for c in clients) == sorted([2, *names.values()])  # 2 is the Default client; 3 never
    assert {c["entity_type"] for c in clients} == {"workspace"}
    assert "Found 4 clients (workspaces)" in result.stderr


def test_client_manager_keeps_departments_where_no_workspace_is_a_client(start_simulator, home, run_in_process):
    account, _names = msp_account()
    for workspace in account.workspaces.values():
        workspace["type"] = "it"  # a classic account's business workspaces (IT, HR, ...) are not clients
    for department in account.departments.values():
        department["workspace_id"] = 2
    simulator = start_simulator(account, edition="msp")
    result = run_in_process(client_manager.main, env=script_env(simulator))
    assert result.returncode == 0, result.stderr
    clients = json.loads((home / "companies_list.json").read_text())
    assert [c["name"] for c in clients] == ["Acme Law", "Beta Dental", "Quiet Co"]
    assert {c["entity_type"] for c in clients} == {"department"}


# -- one client's pull ------------------------------------------------------------------------------

def read_raw(home: Path, client_id: int) -> dict:
    return json.loads((home / "raw_data" / f"freshservice_{client_id}.json").read_text())


@pytest.mark.parametrize("how", ["--type workspace", "companies_list.json"])
def test_the_puller_pulls_a_workspace_and_every_call_names_it(start_simulator, home, run_in_process, how):
    account, names = msp_account()
    acme = names["Acme Law"]
    simulator = start_simulator(account, edition="msp")
    if how == "companies_list.json":
        assert run_in_process(client_manager.main, env=script_env(simulator)).returncode == 0
        simulator.reset_counters()
        args = [str(acme)]
    else:
        args = [str(acme), "--type", "workspace"]
    result = run_in_process(puller_main, *args, "--month", MONTH, env=script_env(simulator))
    assert result.returncode == 0, result.stderr
    raw = read_raw(home, acme)
    assert raw["entity_type"] == "workspace" and raw["client"]["name"] == "Acme Law"
    assert sorted(t["subject"] for t in raw["tickets"]) == [f"Acme Law ticket {n}" for n in range(5)]
    assert sum(month["created"] for month in raw["trend"]) == 5
    complete_log(simulator)
    calls = scoped_calls(simulator)
    assert {path for path, _query in calls} >= {"/api/v2/tickets/filter", "/api/v2/ticket_form_fields"}
    for path, query in calls:
        # The client's own queries name its workspace; the cost probe of the account sweep and the form fields, all of them.
        own = f"workspace_id:{acme} " in query.get("query", [""])[0]
        assert query.get("workspace_id") == [str(acme) if own else "0"], (path, query)
    assert sum(1 for _path, query in calls if query.get("workspace_id") == [str(acme)]) >= 3  # tickets, open tickets, trend


def test_the_puller_refuses_the_msps_own_workspace(start_simulator, home, run_in_process):
    account, _names = msp_account()
    simulator = start_simulator(account, edition="msp")
    result = run_in_process(puller_main, "3", "--type", "workspace", "--month", MONTH, env=script_env(simulator))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "MSP's own workspace" in lines[0], result.stderr
    assert simulator.counters()["requests"] == 0


# -- the batch --------------------------------------------------------------------------------------

def test_the_batch_runs_end_to_end_on_the_msp_edition(start_simulator, home, run_pull_info):
    account, names = msp_account()
    simulator = start_simulator(account, edition="msp")
    result = run_pull_info(simulator)
    assert result.returncode == 0, result.stderr
    assert "4 clients done, 0 failed" in result.stderr
    expected = {2: ["Default client ticket"], names["Acme Law"]: 5, names["Beta Dental"]: 3, names["Quiet Co"]: 0}
    for client_id, tickets in expected.items():
        raw = read_raw(home, client_id)
        subjects = [t["subject"] for t in raw["tickets"]]
        assert subjects == tickets if isinstance(tickets, list) else len(subjects) == tickets, (client_id, subjects)
        assert raw["entity_type"] == "workspace"
        assert list((home / "reports" / MONTH).glob(f"*-{client_id}.html"))
    assert not (home / "raw_data" / "freshservice_3.json").exists()
    assert "MSP internal ticket" not in (home / "reports" / MONTH / "index.html").read_text()
    complete_log(simulator)
    calls = scoped_calls(simulator)
    sweeps = [query for path, query in calls if path == "/api/v2/tickets"]
    assert sweeps and all(query.get("workspace_id") == ["0"] for query in sweeps)  # the account sweep reads every workspace
    assert all("workspace_id" in query for _path, query in calls), calls


def test_the_classic_batch_names_no_workspace(start_simulator, home, run_pull_info):
    account, ids = small_account()
    simulator = start_simulator(account)
    result = run_pull_info(simulator)
    assert result.returncode == 0, result.stderr
    assert "3 clients done, 0 failed" in result.stderr
    assert {c["entity_type"] for c in json.loads((home / "companies_list.json").read_text())} == {"department"}
    assert [len(read_raw(home, client_id)["tickets"]) for client_id in ids] == [5, 3, 0]
    complete_log(simulator)
    assert not any("workspace_id" in query for _path, query in scoped_calls(simulator))


def test_the_backfill_reads_the_msp_edition_by_workspace(start_simulator, home, run_pull_info):
    from tests.helpers.batch import three_months

    account, department_ids = three_months()
    moved = account.departments_as_workspaces()
    acme = moved[department_ids[0]]
    simulator = start_simulator(account, edition="msp")
    result = run_pull_info(simulator, "--backfill", "2")
    assert result.returncode == 0, result.stderr
    september = json.loads((home / "history" / str(acme) / "2026-09.json").read_text())
    assert september["volume"]["created"] == 3
    assert not (home / "history" / "3").exists()
