"""SentinelOne in the monthly batch (pull_info.py): pulled for every client with a site, isolated per
client, named in the index when it fails, never asked again after a refused token; and in --demo."""

from __future__ import annotations

import json
from pathlib import Path

from simulators.demo_freshservice import COMPANIES
from simulators.demo_sentinelone import demo_department_ids
from simulators.sentinelone import SentinelOneOptions, SentinelOneSimulator
from tests.helpers.batch import MONTH, pull_info_runner, small_account
from tests.helpers.sentinelone import build_site_data
from utils.core.period import report_period

TOKEN = "s1-batch-token-77e1c2d9"


def start_s1(data) -> SentinelOneSimulator:
    simulator = SentinelOneSimulator(data, SentinelOneOptions(api_token=TOKEN))
    simulator.start()
    return simulator


def write_settings(home: Path, url: str, sites: dict[int, str]) -> None:
    tables = "".join(f'\n[clients.{client_id}]\nsentinelone_site = "{site}"\n' for client_id, site in sites.items())
    (home / "integoreport.toml").write_text(f'[sentinelone]\nurl = "{url}"\n{tables}', encoding="utf-8")


def reports(home: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in (home / "reports" / MONTH).glob("*.html")}


def test_batch_pulls_each_client_with_a_site_and_isolates_a_failing_one(start_simulator, home, monkeypatch, capsys):
    account, (acme, beta, quiet) = small_account()
    freshservice = start_simulator(account)
    data, site_id = build_site_data()
    s1 = start_s1(data)
    try:
        write_settings(home, s1.url, {acme: site_id, beta: "123456789012345678"})  # beta's site does not exist
        monkeypatch.setenv("SENTINELONE_API_TOKEN", TOKEN)
        result = pull_info_runner(monkeypatch, capsys)(freshservice)
        assert result.returncode == 1  # a source failed for one client
        raw = json.loads((home / "raw_data" / f"sentinelone_{acme}.json").read_text(encoding="utf-8"))
        assert raw["client"] == {"id": str(acme), "site_id": site_id} and raw["period"]["start"].startswith("2026-10-01")
        assert not (home / "raw_data" / f"sentinelone_{beta}.json").exists()
        assert not (home / "raw_data" / f"sentinelone_{quiet}.json").exists()
        built = reports(home)
        acme_report = next(text for name, text in built.items() if name.endswith(f"-{acme}.html"))
        beta_report = next(text for name, text in built.items() if name.endswith(f"-{beta}.html"))
        quiet_report = next(text for name, text in built.items() if name.endswith(f"-{quiet}.html"))
        assert "Endpoint protection" in acme_report and "ACME-LT-001" in acme_report
        assert "The Endpoint protection data could not be read this month" in beta_report
        assert "Endpoint protection" not in quiet_report
        index = built["index.html"]
        assert "sentinelone failed" in index and "site 123456789012345678 was not found" in index
        assert "ACME-" not in index  # endpoint names are the client's own: never in the MSP index
        metrics = json.loads((home / "reports" / MONTH / next(name for name in built if name.endswith(f"-{acme}.html"))
                              ).with_suffix(".json").read_text(encoding="utf-8"))
        assert metrics["s1"]["licenses"] == {"active": 5, "total": 10, "unlimited": False}
        assert s1.counters()["by_site"] == {site_id: 4, "123456789012345678": 1}
        assert TOKEN not in result.stdout + result.stderr
    finally:
        s1.stop()


def test_a_refused_token_fails_the_source_for_every_client_after_one_request(start_simulator, home, monkeypatch, capsys):
    account, (acme, beta, _quiet) = small_account()
    freshservice = start_simulator(account)
    data, site_id = build_site_data()
    s1 = start_s1(data)
    try:
        write_settings(home, s1.url, {acme: site_id, beta: site_id})
        wrong = "s1-revoked-token-3141592653"
        monkeypatch.setenv("SENTINELONE_API_TOKEN", wrong)
        result = pull_info_runner(monkeypatch, capsys)(freshservice)
        assert result.returncode == 1
        assert s1.counters()["requests"] == 1
        index = reports(home)["index.html"]
        rows = {name: next(row for row in index.split("<tr") if name in row) for name in ("Acme Law", "Beta Dental")}
        assert all("sentinelone failed: SentinelOne refused the API token (Authentication Failed, HTTP 401)" in row
                   for row in rows.values())
        logs = "".join(path.read_text(encoding="utf-8") for path in (home / "logs").glob("*.log"))
        assert wrong not in result.stdout + result.stderr + index + logs
    finally:
        s1.stop()


def test_demo_shows_the_section_for_the_clients_with_a_site(demo_run):
    # demo_run (tests/conftest.py): the one shared `pull_info.py --demo` of every client for the last
    # full month, whose Endpoint protection section shows the demo's threats of that month.
    assert demo_run.exit_code == 0, demo_run.stderr
    demo_home = demo_run.demo_home
    ids = demo_department_ids()
    month = report_period(None, "UTC").month
    names = {company.key: company.name for company in COMPANIES}
    listed = {str(entry["id"]): entry["name"] for entry in json.loads((demo_home / "companies_list.json").read_text(encoding="utf-8"))}
    assert {names[key]: client_id for key, client_id in ids.items()} == {name: client_id for client_id, name in listed.items()}
    built = {path.name: path.read_text(encoding="utf-8") for path in (demo_home / "reports" / month).glob("*.html")}
    law = next(text for name, text in built.items() if name.endswith(f"-{ids['law']}.html"))
    accounting = next(text for name, text in built.items() if name.endswith(f"-{ids['accounting']}.html"))
    assert "Endpoint protection" in law and "OutlookAddinHelper.exe" in law and "still open" in law
    assert "Endpoint protection" not in accounting  # the break-fix client has no site
    assert "HV-LT" not in built["index.html"]


def test_pull_info_check_proves_the_token_with_one_call(start_simulator, home, monkeypatch, capsys):
    import pull_info
    from tests.helpers.running import SIM_KEY

    freshservice = start_simulator(small_account()[0])
    data, site_id = build_site_data()
    s1 = start_s1(data)
    try:
        (home / "integoreport.toml").write_text(f'[freshservice]\nurl = "{freshservice.url}"\n\n[sentinelone]\nurl = "{s1.url}"\n'
                                                f'\n[clients.101]\nsentinelone_site = "{site_id}"\n', encoding="utf-8")
        monkeypatch.setenv("FRESHSERVICE_API_KEY", SIM_KEY)
        monkeypatch.setenv("SENTINELONE_API_TOKEN", TOKEN)
        assert pull_info.main(["--check"]) == 0
        line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("SentinelOne"))
        assert "token accepted, 2 sites visible; 1 client with a site" in line and line.endswith("OK")
        assert s1.counters()["requests"] == 1
        wrong = "s1-wrong-token-2718281828"
        monkeypatch.setenv("SENTINELONE_API_TOKEN", wrong)
        assert pull_info.main(["--check"]) == 1
        output = capsys.readouterr()
        line = next(line for line in output.out.splitlines() if line.startswith("SentinelOne"))
        assert "Authentication Failed" in line and wrong not in output.out + output.err
        assert s1.counters()["requests"] == 2 and not (home / "raw_data").exists()
    finally:
        s1.stop()
