"""Microsoft 365 in the monthly batch and the demo: pulled for every client with a tenant, isolated failures."""

from __future__ import annotations

import json

import pytest

import pull_info
from simulators.demo_ms365 import DEMO_TENANTS, start_demo_source
from simulators.graph import GraphSimulator
from tests.helpers.batch import MONTH, batch_env, report_dir, small_account
from tests.helpers.ms365 import APP_ID, PREMIUM_OR_DIRECTORY, SECRET, TENANT_ID, make_tenant, other_tenant
from tests.helpers.running import run_script
from utils.core.period import report_period
from utils.monthly.batch import slugify


@pytest.fixture
def graph_simulator():
    simulator = GraphSimulator([make_tenant()], app_id=APP_ID, client_secret=SECRET)
    simulator.start()
    yield simulator
    simulator.stop()


def test_batch_pulls_each_tenant_and_a_failure_marks_only_that_source(start_simulator, graph_simulator, home, monkeypatch, capsys):
    account, (acme, beta, quiet) = small_account()
    freshservice = start_simulator(account)
    for name, value in batch_env(freshservice).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MS365_CLIENT_SECRET", SECRET)
    (home / "integoreport.toml").write_text(
        f'[ms365]\napp_id = "{APP_ID}"\nlogin_url = "{graph_simulator.url}"\ngraph_url = "{graph_simulator.url}"\n\n'
        f'[clients.{acme}]\nms365_tenant = "{TENANT_ID}"\n\n[clients.{beta}]\nms365_tenant = "gone.onmicrosoft.com"\n', encoding="utf-8")

    code = pull_info.main(["--month", MONTH])
    out, err = capsys.readouterr()

    assert code == 1  # one source failed for one client
    folder = report_dir(home)
    names = {department_id: account.departments[department_id]["name"] for department_id in (acme, beta, quiet)}

    def report(department_id: int, suffix: str) -> str:
        return (folder / f"{slugify(names[department_id])}-{department_id}.{suffix}").read_text(encoding="utf-8")

    acme_metrics = json.loads(report(acme, "json"))
    assert acme_metrics["m365"]["mfa"] == {"eligible": 5, "registered": 3, "rate": 0.6, "admins_without": 0,
                                           "without_names": ["Person 001", "Person 003"]}
    assert "Microsoft 365" in report(acme, "html") and "Person 001" in report(acme, "html")
    assert (home / "raw_data" / f"ms365_{acme}.json").exists()

    beta_metrics = json.loads(report(beta, "json"))
    assert "m365" not in beta_metrics
    assert "The Microsoft 365 data could not be read this month" in report(beta, "html")
    assert "AADSTS90002" in report(beta, "txt")
    assert not (home / "raw_data" / f"ms365_{beta}.json").exists()

    assert "m365" not in json.loads(report(quiet, "json"))  # no tenant: skipped, no note
    assert "Microsoft 365" not in report(quiet, "html")

    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "ms365 failed" in index and "AADSTS90002" in index
    assert "Person 00" not in index  # the index never carries the clients' people
    assert graph_simulator.tokens_issued == 1
    assert SECRET not in out + err


def test_bad_secret_fails_the_source_for_every_client_without_asking_again(start_simulator, graph_simulator, home, monkeypatch, capsys):
    account, (acme, beta, _quiet) = small_account()
    freshservice = start_simulator(account)
    for name, value in batch_env(freshservice).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MS365_CLIENT_SECRET", "expired-secret-value")
    (home / "integoreport.toml").write_text(
        f'[ms365]\napp_id = "{APP_ID}"\nlogin_url = "{graph_simulator.url}"\ngraph_url = "{graph_simulator.url}"\n\n'
        f'[clients.{acme}]\nms365_tenant = "{TENANT_ID}"\n\n[clients.{beta}]\nms365_tenant = "{TENANT_ID}"\n', encoding="utf-8")

    assert pull_info.main(["--month", MONTH]) == 1
    capsys.readouterr()

    assert graph_simulator.counters()["by_endpoint"] == {"token": 1}  # refused once, not asked again for the second client
    index = (report_dir(home) / "index.html").read_text(encoding="utf-8")
    assert index.count("AADSTS7000215") == 2 and "expired-secret-value" not in index



@pytest.mark.parametrize(("code", "stops"), [(7000229, False), (700016, False), (65001, False), (53003, False),
                                             (7000222, True), (7000216, True)])
def test_only_an_app_level_aadsts_code_stops_microsoft_365_for_the_batch(start_simulator, serve, home, monkeypatch, capsys,
                                                                          code, stops):
    account, (acme, beta, _quiet) = small_account()
    freshservice = start_simulator(account)
    graph = serve(GraphSimulator([other_tenant(1, aadsts=code), make_tenant()], app_id=APP_ID, client_secret=SECRET))
    for name, value in batch_env(freshservice).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MS365_CLIENT_SECRET", SECRET)
    (home / "integoreport.toml").write_text(
        f'[ms365]\napp_id = "{APP_ID}"\nlogin_url = "{graph.url}"\ngraph_url = "{graph.url}"\n\n'
        f'[clients.{acme}]\nms365_tenant = "client1.onmicrosoft.com"\n\n[clients.{beta}]\nms365_tenant = "{TENANT_ID}"\n',
        encoding="utf-8")

    assert pull_info.main(["--month", MONTH]) == 1
    capsys.readouterr()

    index = json.loads((report_dir(home) / "index.json").read_text(encoding="utf-8"))
    failed = {str(row["client"]["id"]): row["steps_failed"].get("ms365") for row in index}
    assert f"AADSTS{code}" in failed[str(acme)]
    if stops:  # the app's secret: every client would fail alike, so nobody is asked again
        assert failed[str(beta)] == failed[str(acme)]
        assert graph.counters()["by_endpoint"] == {"token": 1}
    else:  # one client's tenant: that client's Microsoft 365 only, with what its admin must do
        assert "The client's admin must" in failed[str(acme)]
        assert failed[str(beta)] is None and (home / "raw_data" / f"ms365_{beta}.json").exists()
        assert graph.tenant_counters()[TENANT_ID]["token"] == 1

def test_demo_tenants_cost_at_most_eight_requests_and_one_lacks_p1(tmp_path):
    simulator, step = start_demo_source(tmp_path)
    try:
        period = report_period(None, "America/New_York")
        documents = {demo.department_id: step.pull(demo.department_id, period) for demo in DEMO_TENANTS}
    finally:
        simulator.stop()
    assert not step.configured("21000351606")  # the newest demo client has no tenant
    assert all(document["requests"] <= 8 for document in documents.values())
    assert documents["21000351604"]["unavailable"] == {"sign_in": PREMIUM_OR_DIRECTORY, "mfa": PREMIUM_OR_DIRECTORY}
    assert all(not document["unavailable"] for key, document in documents.items() if key != "21000351604")
    law = documents["21000351601"]
    assert len(law["users"]) > 120  # paged: the law firm has more users than one page with sign-in activity
    scores = [item["currentScore"] for item in law["secure_scores"]]
    assert scores[0] > scores[-1]  # the score climbs during the month


def test_pull_info_check_gets_a_token_for_each_tenant(start_simulator, graph_simulator, home, monkeypatch, capsys):
    from tests.helpers.running import SIM_KEY

    freshservice = start_simulator(small_account()[0])
    settings = (f'[freshservice]\nurl = "{freshservice.url}"\n\n[ms365]\napp_id = "{APP_ID}"\nlogin_url = "{graph_simulator.url}"\n'
                f'graph_url = "{graph_simulator.url}"\n\n[clients.101]\nms365_tenant = "{TENANT_ID}"\n')
    (home / "integoreport.toml").write_text(settings, encoding="utf-8")
    monkeypatch.setenv("FRESHSERVICE_API_KEY", SIM_KEY)
    monkeypatch.setenv("MS365_CLIENT_SECRET", SECRET)

    assert pull_info.main(["--check"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Microsoft 365"))
    assert "a token for each of the 1 configured tenants" in line and line.endswith("OK")
    assert graph_simulator.counters()["by_endpoint"] == {"token": 1}

    (home / "integoreport.toml").write_text(settings + '\n[clients.102]\nms365_tenant = "gone.onmicrosoft.com"\n', encoding="utf-8")
    assert pull_info.main(["--check"]) == 1
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Microsoft 365"))
    assert "client 102" in line and "AADSTS90002" in line

    monkeypatch.delenv("MS365_CLIENT_SECRET")
    assert pull_info.main(["--check"]) == 2  # the secret is missing: a settings error
    output = capsys.readouterr()
    assert "MS365_CLIENT_SECRET" in output.out + output.err and SECRET not in output.out + output.err
    assert not (home / "raw_data").exists()


def test_a_huge_retry_after_again_and_again_stops_microsoft_365_for_the_run_with_one_line(start_simulator, graph_simulator,
                                                                                          home, monkeypatch):
    account, (acme, beta, _quiet) = small_account()
    freshservice = start_simulator(account)
    for name, value in batch_env(freshservice).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MS365_CLIENT_SECRET", SECRET)
    (home / "integoreport.toml").write_text(
        f'[ms365]\napp_id = "{APP_ID}"\nlogin_url = "{graph_simulator.url}"\ngraph_url = "{graph_simulator.url}"\n\n'
        f'[clients.{acme}]\nms365_tenant = "{TENANT_ID}"\n\n[clients.{beta}]\nms365_tenant = "{TENANT_ID}"\n', encoding="utf-8")
    graph_simulator.fail_endpoint("token", count=50, status=429, retry_after="3600")  # more than the run's 15 min
    graph_simulator.fail_endpoint("secureScores", count=50, status=429, retry_after="3600")

    result = run_script("pull_info.py", "--month", MONTH, timeout=60)  # not hours

    assert result.returncode == 1, result.stderr
    assert graph_simulator.counters()["requests"] == 1  # refused once, not asked again for the second client
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]  # the summary then names both clients
    assert len(errors) == 1 and "Microsoft sign-in rate limit" in errors[0] and "past the 15 min" in errors[0], result.stderr
    assert "Traceback" not in result.stderr and SECRET not in result.stdout + result.stderr
    index = (report_dir(home) / "index.html").read_text(encoding="utf-8")
    assert index.count("past the 15 min") == 2  # both clients' reports were built, naming why Microsoft 365 is missing
    assert len(list(report_dir(home).glob("*.html"))) == 4  # three reports and the index
