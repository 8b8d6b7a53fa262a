"""The SentinelOne puller and client against the SentinelOne simulator on 127.0.0.1.

Covers the raw file and every `s1.*` metric from a real pull, paging past 1,000 agents and threats
with each quirk (an empty page before the end, `totalItems` 0 with a cursor, string booleans), the
cost per site, each error path (401, 403, 400, 404, unknown site, 429 with and without Retry-After,
500, no connection) and the usage errors of the script.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from simulators.sentinelone import ERROR_BODIES, SentinelOneData, SentinelOneOptions, SentinelOneSimulator
from tests.helpers.sentinelone import AS_OF, EXPECTED, MONTH, TIMEZONE, build_site_data
from utils.core.errors import ConnectionFailed
from utils.core.period import report_period
from utils.reporting import sentinelone_metrics
from utils.services import sentinelone_pull as sentinelone
from utils.services.http import RetryPolicy
from utils.services.sentinelone_client import SentinelOneClient, SentinelOneError, SiteForbidden, SiteNotFound, TokenRefused
from utils.sources import sentinelone as sentinelone_source
from utils.sources import sentinelone_command

TOKEN = "s1-test-token-5b9e2d7a41"
CLIENT = "101"
NOW = datetime.fromisoformat(AS_OF)
PERIOD = report_period(MONTH, TIMEZONE, now=NOW)


@pytest.fixture
def s1_sim(serve):
    def start(data: SentinelOneData, **options) -> SentinelOneSimulator:
        return serve(SentinelOneSimulator(data, SentinelOneOptions(api_token=TOKEN, **options)))

    return start


@pytest.fixture(autouse=True)
def pull_time(monkeypatch):
    monkeypatch.setenv("INTEGOREPORT_NOW", AS_OF)


def configure(home: Path, url: str, monkeypatch, site: str | None, token: str = TOKEN) -> None:
    client_table = f'\n[clients.{CLIENT}]\nsentinelone_site = "{site}"\n' if site else ""
    (home / "integoreport.toml").write_text(f'[sentinelone]\nurl = "{url}"\n{client_table}', encoding="utf-8")
    monkeypatch.setenv("SENTINELONE_API_TOKEN", token)


def client_for(simulator: SentinelOneSimulator, token: str = TOKEN, sleeps: list[float] | None = None, **options) -> SentinelOneClient:
    return SentinelOneClient(simulator.url, token, sleep=(sleeps.append if sleeps is not None else (lambda seconds: None)), **options)


def raw_path(home: Path) -> Path:
    return home / "raw_data" / f"sentinelone_{CLIENT}.json"


def queries(simulator: SentinelOneSimulator, endpoint: str) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(path).query) for _, path, _ in simulator.last_requests if urlsplit(path).path.endswith(endpoint)]


# -- the raw file and the metrics --------------------------------------------------------------

def test_pull_writes_the_raw_file_and_every_metric_matches(home, s1_sim, monkeypatch, capsys):
    data, site_id = build_site_data()
    simulator = s1_sim(data)
    configure(home, simulator.url, monkeypatch, site_id)
    assert sentinelone_command.main([CLIENT, "--month", MONTH, "--tz", TIMEZONE]) == 0

    raw = json.loads(raw_path(home).read_text(encoding="utf-8"))
    assert (raw["schema_version"], raw["source"]) == (1, "sentinelone")
    assert raw["client"] == {"id": CLIENT, "site_id": site_id}
    assert raw["period"] == PERIOD.as_dict()  # the same block as the Freshservice file
    assert raw["generated_at"] == "2026-11-02T04:00:00-05:00"  # the pull's instant, in the report zone
    assert raw["site"]["name"] == "Acme Dental"
    assert all(isinstance(agent["id"], str) and len(agent["id"]) == 18 for agent in raw["agents"])
    assert {threat["id"] for threat in raw["threats"]} <= {threat["id"] for threat in data.threats}
    section = sentinelone_metrics.compute(raw)
    assert section["as_of"] == raw["generated_at"]
    assert {key: section[key] for key in ("threats", "agents", "licenses")} == {key: EXPECTED[key] for key in ("threats", "agents", "licenses")}

    # Four requests, the bounds as UTC instants of the New York month, the token as an ApiToken header.
    assert raw["requests"] == 4 and simulator.counters()["by_site"] == {site_id: 4}
    created = [query for query in queries(simulator, "/threats") if "createdAt__gte" in query][0]
    assert created["createdAt__gte"] == ["2026-10-01T04:00:00.000000Z"]
    assert created["createdAt__lt"] == ["2026-11-01T04:00:00.000000Z"]
    assert all(query["limit"] == ["1000"] for endpoint in ("/threats", "/agents") for query in queries(simulator, endpoint))
    assert all(headers.get("Authorization") == f"ApiToken {TOKEN}" for _, _, headers in simulator.last_requests)
    err = capsys.readouterr().err
    assert "4 requests" in err and site_id in err and TOKEN not in err


def test_site_option_overrides_the_settings_and_the_token_file_works(home, s1_sim, monkeypatch):
    data, site_id = build_site_data()
    simulator = s1_sim(data)
    configure(home, simulator.url, monkeypatch, site="999999999999999999")
    monkeypatch.delenv("SENTINELONE_API_TOKEN")
    token_file = home / "sentinelone_token.txt"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    assert sentinelone_command.main([CLIENT, "--month", MONTH, "--tz", TIMEZONE, "--site", site_id]) == 0
    assert json.loads(raw_path(home).read_text(encoding="utf-8"))["client"]["site_id"] == site_id


# -- paging and the quirks ---------------------------------------------------------------------

@functools.lru_cache(maxsize=2)
def big_site(agents: int, threats: int) -> tuple[SentinelOneData, str]:
    """A site of `agents` endpoints and `threats` threats in the month (shared, never changed by the simulator)."""
    data = SentinelOneData(now=NOW)
    site = data.add_site("Big Co", total_licenses=agents + 100)
    first = [data.add_agent(site, f"BIG-{index:05d}", isUpToDate=index % 100 != 0) for index in range(agents)]
    start = PERIOD.start.astimezone(UTC)
    for index in range(threats):
        data.add_threat(first[index % agents], start + timedelta(minutes=index), incident="unresolved" if index % 250 == 0 else "resolved")
    return data, site["id"]


@pytest.mark.parametrize("quirks, expected_requests", [
    ({}, 1 + 2 + 1 + 3),  # site, 1,001 threats in 2 pages, open threats, 2,345 agents in 3 pages
    ({"empty_page_before_end": True}, 1 + 3 + 1 + 4),  # one more (empty) page for each listing of several pages
    ({"zero_total_with_cursor": True, "string_booleans": True}, 7),
    ({"empty_page_before_end": True, "zero_total_with_cursor": True, "string_booleans": True}, 9),
], ids=["plain", "empty-page", "zero-total-and-strings", "all-quirks"])
def test_paging_past_1000_agents_and_threats_survives_every_quirk(s1_sim, quirks, expected_requests):
    data, site_id = big_site(agents=2345, threats=1001)
    simulator = s1_sim(data, **quirks)
    client = client_for(simulator)
    raw = sentinelone.pull_client_month(client, CLIENT, site_id, PERIOD)
    assert len(raw["agents"]) == 2345 and len({agent["id"] for agent in raw["agents"]}) == 2345
    assert len(raw["threats"]) == 1001 and len(raw["open_threats"]) == 5
    assert raw["requests"] == expected_requests == simulator.counters()["requests"]
    section = sentinelone_metrics.compute(raw)
    assert section["agents"]["total"] == 2345 and section["agents"]["out_of_date"] == 24  # BIG-00000, BIG-00100, ... BIG-02300
    assert section["threats"]["created"] == 1001 and section["threats"]["auto_resolved"] == 1001 - 5
    if quirks.get("string_booleans"):
        assert raw["agents"][0]["isUpToDate"] in ("True", "False")
    cursors = [query for query in queries(simulator, "/agents") if "cursor" in query]
    assert len(cursors) == expected_requests - 4 - (len([q for q in queries(simulator, "/threats") if "cursor" in q]))


def test_a_site_under_1000_agents_and_threats_costs_four_requests(s1_sim):
    data, site_id = big_site(agents=999, threats=999)
    simulator = s1_sim(data)
    raw = sentinelone.pull_client_month(client_for(simulator), CLIENT, site_id, PERIOD)
    assert raw["requests"] == 4 and simulator.counters()["by_endpoint"] == {"sites": 1, "threats": 2, "agents": 1}


def test_simulator_quirks_and_limits_as_the_reference_describes(s1_sim):
    data, site_id = big_site(agents=30, threats=0)
    simulator = s1_sim(data, empty_page_before_end=True, zero_total_with_cursor=True)
    headers = {"Authorization": f"ApiToken {TOKEN}"}
    url = f"{simulator.url}/web/api/v2.1/agents"
    first = requests.get(url, params={"siteIds": site_id, "limit": 20}, headers=headers, timeout=5).json()
    assert len(first["data"]) == 20 and first["pagination"]["totalItems"] == 30
    empty = requests.get(url, params={"siteIds": site_id, "limit": 20, "cursor": first["pagination"]["nextCursor"]},
                         headers=headers, timeout=5).json()
    assert empty["data"] == [] and empty["pagination"]["totalItems"] == 0 and empty["pagination"]["nextCursor"]
    last = requests.get(url, params={"siteIds": site_id, "limit": 20, "cursor": empty["pagination"]["nextCursor"]},
                        headers=headers, timeout=5).json()
    assert len(last["data"]) == 10 and last["pagination"]["nextCursor"] is None
    count = requests.get(url, params={"siteIds": site_id, "countOnly": "true"}, headers=headers, timeout=5).json()
    assert count == {"data": [], "pagination": {"totalItems": 30, "nextCursor": None}}
    too_many = requests.get(url, params={"limit": 1001}, headers=headers, timeout=5)
    assert too_many.status_code == 400 and too_many.json()["errors"][0]["title"] == "Validation Error"
    refused = requests.get(url, headers={"Authorization": "ApiToken wrong"}, timeout=5)
    assert refused.status_code == 401 and refused.json() == ERROR_BODIES[401]
    assert simulator.counters()["status"] == {200: 4, 400: 1, 401: 1}


def test_a_page_cursor_that_is_an_object_is_one_line_exit_1_not_a_crash(home, s1_sim, monkeypatch, capsys):
    data, site_id = big_site(agents=2345, threats=1001)
    simulator = s1_sim(data, object_cursor=True)
    with pytest.raises(SentinelOneError) as caught:
        client_for(simulator).agents(site_id)
    assert "page cursor for /agents that is not text (an object)" in str(caught.value)
    assert simulator.counters()["requests"] == 1  # stopped at the first page: no loop, no guessing
    configure(home, simulator.url, monkeypatch, site_id)
    assert sentinelone_command.main([CLIENT, "--month", MONTH, "--tz", TIMEZONE]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cursor" in err and "unexpected" not in err and not raw_path(home).exists()


# -- licences ----------------------------------------------------------------------------------

def test_a_bundle_licensed_site_reads_its_seats_from_the_bundles(s1_sim):
    data, site_id = build_site_data()
    raw = sentinelone.pull_client_month(client_for(s1_sim(data, bundle_licenses=True)), CLIENT, site_id, PERIOD)
    assert "totalLicenses" not in raw["site"] and raw["site"]["licenses"]["bundles"][0]["totalSurfaces"] == 10
    section = sentinelone_metrics.compute(raw)
    assert section["licenses"] == EXPECTED["licenses"] == {"active": 5, "total": 10, "unlimited": False}
    assert sentinelone_metrics.context(section)["license_text"] == "5 of 10 licences in use"


def test_a_site_with_neither_total_nor_bundles_says_not_available_never_0(s1_sim):
    data, site_id = build_site_data()
    data.site(site_id)["totalLicenses"] = None  # a bundle-licensed site answered without any bundle
    raw = sentinelone.pull_client_month(client_for(s1_sim(data, bundle_licenses=True)), CLIENT, site_id, PERIOD)
    assert raw["site"]["licenses"]["bundles"] == []
    section = sentinelone_metrics.compute(raw)
    assert section["licenses"] == {"active": 5, "total": None, "unlimited": False}
    text = sentinelone_metrics.context(section)["license_text"]
    assert text == "5 licences in use (the total is not available)" and " 0 " not in f" {text} "
    section["licenses"]["active"] = None
    assert sentinelone_metrics.context(section)["license_text"] == "Licence use: not available"


# -- errors ------------------------------------------------------------------------------------

def test_a_refused_token_is_one_line_exit_1_no_file_and_never_shows_the_token(home, s1_sim, monkeypatch, capsys):
    data, site_id = build_site_data()
    simulator = s1_sim(data)
    wrong = "s1-expired-token-0c0ffee0c0ffee"
    configure(home, simulator.url, monkeypatch, site_id, token=wrong)
    assert sentinelone_command.main([CLIENT, "--month", MONTH, "--tz", TIMEZONE]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Authentication Failed" in err and "HTTP 401" in err
    assert wrong not in err and TOKEN not in err
    assert not raw_path(home).exists() and simulator.counters()["requests"] == 1


def test_429_waits_retry_after_when_sent_and_backs_off_when_not(s1_sim):
    data, site_id = build_site_data()
    simulator = s1_sim(data)
    sleeps: list[float] = []
    client = client_for(simulator, sleeps=sleeps)
    simulator.fail_next(1, 429, headers=[("Retry-After", "7")])
    assert client.site(site_id)["id"] == site_id
    assert sleeps == [7.0]
    sleeps.clear()
    simulator.fail_next(2, 429)
    assert len(client.agents(site_id)) == 5
    policy = RetryPolicy()
    assert len(sleeps) == 2 and all(0 <= wait <= policy.backoff_cap for wait in sleeps)
    assert client.requests_for(site_id) == 1 + 1 + 3


def test_500_is_retried_through_the_shared_policy_then_a_one_line_error(s1_sim):
    data, site_id = build_site_data()
    simulator = s1_sim(data)
    sleeps: list[float] = []
    client = client_for(simulator, sleeps=sleeps)
    simulator.fail_next(2, 500)
    assert len(client.open_threats(site_id)) == 2 and len(sleeps) == 2
    simulator.fail_next(RetryPolicy().max_tries, 500)
    with pytest.raises(SentinelOneError) as caught:
        client.agents(site_id)
    assert caught.value.status == 500 and caught.value.code == 5000010
    assert "Internal server error: Server could not process the request." in str(caught.value)


@pytest.mark.parametrize("status, error_type, words", [
    (401, TokenRefused, "refused the API token (Authentication Failed"),
    (403, SiteForbidden, "may not read this (Insufficient permissions, HTTP 403)"),
    (404, SiteNotFound, "not found (Resource not found, HTTP 404)"),
])
def test_error_statuses_become_typed_one_line_errors(s1_sim, status, error_type, words):
    data, site_id = build_site_data()
    simulator = s1_sim(data)
    simulator.fail_next(1, status)
    with pytest.raises(error_type) as caught:
        client_for(simulator).agents(site_id)
    assert words in str(caught.value) and "\n" not in str(caught.value) and TOKEN not in str(caught.value)


def test_a_refused_request_says_what_sentinelone_said(s1_sim):
    data, _ = build_site_data()
    client = client_for(s1_sim(data))
    with pytest.raises(SentinelOneError) as caught:
        client.get_json("/agents", {"limit": 5000})
    assert caught.value.status == 400 and "Validation Error: limit: must be between 1 and 1000" in str(caught.value)


def test_an_unknown_site_fails_the_pull(home, s1_sim, monkeypatch, capsys):
    data, _ = build_site_data()
    configure(home, s1_sim(data).url, monkeypatch, site="123456789012345678")
    assert sentinelone_command.main([CLIENT, "--month", MONTH]) == 1
    assert "site 123456789012345678 was not found" in capsys.readouterr().err and not raw_path(home).exists()


def test_cannot_connect_is_a_connection_error_naming_sentinelone(closed_port):
    client = SentinelOneClient(f"http://127.0.0.1:{closed_port}", TOKEN, sleep=lambda seconds: None)
    with pytest.raises(ConnectionFailed) as caught:
        client.check()
    assert "SentinelOne" in str(caught.value) and TOKEN not in str(caught.value)


def test_check_is_one_cheap_call(s1_sim):
    data, _ = build_site_data()
    simulator = s1_sim(data)
    assert client_for(simulator).check() == 2
    assert simulator.counters()["requests"] == 1
    with pytest.raises(TokenRefused):
        client_for(simulator, token="nope-nope-nope").check()


@pytest.mark.parametrize("toml, args, words", [
    ('[sentinelone]\nurl = "https://x.sentinelone.net"\n', [CLIENT], "has no SentinelOne site"),
    ('[sentinelone]\nurl = "https://x.sentinelone.net"\n', [CLIENT, "--site", "my-site"], "site ids are digits"),
    (f'[clients.{CLIENT}]\nsentinelone_site = "657613730168123595"\n', [CLIENT], "SentinelOne is not configured"),
    ('[sentinelone]\nurl = "https://x.sentinelone.net"\n', [CLIENT, "--site", "657613730168123595", "--month", "2026-13"], "malformed month"),
    ('[sentinelone]\nurl = "https://x.sentinelone.net"\n', ["../101", "--site", "657613730168123595"], "client id must be a number"),
])
def test_usage_and_settings_errors_exit_2(home, capsys, toml, args, words):
    (home / "integoreport.toml").write_text(toml, encoding="utf-8")
    assert sentinelone_command.main(args) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


def test_a_missing_token_names_both_places(home, capsys):
    (home / "integoreport.toml").write_text('[sentinelone]\nurl = "https://x.sentinelone.net"\n', encoding="utf-8")
    assert sentinelone_command.main([CLIENT, "--site", "657613730168123595", "--month", MONTH]) == 2
    err = capsys.readouterr().err
    assert "SENTINELONE_API_TOKEN" in err and "sentinelone_token.txt" in err


def test_the_setup_check_makes_one_call_and_says_what_it_reached(home, s1_sim, monkeypatch):
    from tests.helpers.settings import read_settings

    data, site_id = build_site_data()
    simulator = s1_sim(data)
    configure(home, simulator.url, monkeypatch, site_id)
    assert sentinelone_source.check(read_settings()) == f"{simulator.url}: token accepted, 2 sites visible; 1 client with a site in the settings"
    assert simulator.counters()["requests"] == 1
    monkeypatch.setenv("SENTINELONE_API_TOKEN", "s1-wrong-token-000111")
    with pytest.raises(TokenRefused) as caught:
        sentinelone_source.check(read_settings())
    assert "s1-wrong-token-000111" not in str(caught.value)
    (home / "integoreport.toml").write_text("", encoding="utf-8")
    assert sentinelone_source.check(read_settings()) is None  # not configured: nothing to check
