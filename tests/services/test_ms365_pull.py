"""The Microsoft 365 puller and Graph client against the Graph simulator on 127.0.0.1.

Covers the raw file, paging, the unavailable paths (no P1/P2, each permission not granted), token
reuse, expiry and refresh, 429/503 with Retry-After, the token errors by AADSTS code, and hostile
answers (a nextLink to another host or a file, a nextLink that never ends, null items).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulators.graph import SIGN_IN, GraphSimulator, GraphTenant
from tests.helpers.ms365 import APP_ID, DOMAIN, PREMIUM_OR_DIRECTORY, SECRET, TENANT_ID, make_tenant, other_tenant
from tests.helpers.timing import SkippedTime
from utils.core.errors import WaitBudgetSpent
from utils.core.period import report_period
from utils.reporting.ms365_metrics import compute
from utils.services import ms365_pull as ms365
from utils.services.graph_client import AppCredentialsRefused, GraphClient, GraphError, TenantRefused
from utils.services.http import RetryPolicy
from utils.sources import ms365 as ms365_source
from utils.sources import ms365_command

CLIENT = "21000351601"
PERIOD = report_period("2026-10", "America/New_York")








@pytest.fixture
def graph_sim(serve):
    def start(*tenants: GraphTenant, **options) -> GraphSimulator:
        return serve(GraphSimulator(list(tenants), app_id=APP_ID, client_secret=SECRET, **options))

    return start


def configure(home: Path, simulator: GraphSimulator, monkeypatch, tenant: str | None = DOMAIN, secret: str = SECRET) -> None:
    client_table = f'\n[clients.{CLIENT}]\nms365_tenant = "{tenant}"\n' if tenant else ""
    (home / "integoreport.toml").write_text(f'[ms365]\napp_id = "{APP_ID}"\nlogin_url = "{simulator.url}"\n'
                                            f'graph_url = "{simulator.url}"\n{client_table}', encoding="utf-8")
    monkeypatch.setenv("MS365_CLIENT_SECRET", secret)


def client_for(simulator: GraphSimulator, **options) -> GraphClient:
    options.setdefault("sleep", lambda seconds: None)
    return GraphClient(simulator.url, SECRET, app_id=APP_ID, login_url=simulator.url, **options)


def raw_path(home: Path) -> Path:
    return home / "raw_data" / f"ms365_{CLIENT}.json"


# -- the puller script -------------------------------------------------------------------------

def test_pull_writes_the_raw_file_in_one_call_per_endpoint(home, graph_sim, monkeypatch, caplog):
    monkeypatch.setenv("INTEGOREPORT_NOW", "2026-11-05T09:00:00+00:00")
    simulator = graph_sim(make_tenant())
    configure(home, simulator, monkeypatch)
    monkeypatch.setenv("INTEGOREPORT_NOW", "2026-11-05T09:00:00+00:00")  # the stamp below depends on it
    caplog.set_level("INFO")

    assert ms365_command.main([CLIENT, "--month", "2026-10", "--tz", "America/New_York"]) == 0

    raw = json.loads(raw_path(home).read_text(encoding="utf-8"))
    assert raw["schema_version"] == 1 and raw["source"] == "ms365"
    assert raw["period"] == PERIOD.as_dict()
    assert raw["client"] == {"id": CLIENT, "tenant": DOMAIN}
    assert raw["generated_at"] == "2026-11-05T04:00:00-05:00"  # INTEGOREPORT_NOW in the report's zone
    # October's 31 days in New York: 2026-10-01T00:00Z is still 30 September there, so 10-02..11-01 UTC stamps, plus the eve.
    days = [item["createdDateTime"][:10] for item in raw["secure_scores"]]
    assert days[0] == "2026-11-01" and days[-2] == "2026-10-02" and days[-1] == "2026-10-01" and len(days) == 32
    assert len(raw["control_profiles"]) == 3 and len(raw["subscribed_skus"]) == 2
    assert len(raw["users"]) == 5 and "signInActivity" in raw["users"][0]
    assert len(raw["mfa_registrations"]) == 5
    assert raw["unavailable"] == {}
    assert raw["requests"] == 6  # one token and one call per endpoint
    assert simulator.tenant_counters()[TENANT_ID] == {"token": 1, "secureScores": 1, "secureScoreControlProfiles": 1,
                                                      "subscribedSkus": 1, "users": 1, "userRegistrationDetails": 1}
    assert "6 requests" in caplog.text
    assert SECRET not in caplog.text


def test_requests_ask_for_the_largest_pages(home, graph_sim, monkeypatch):
    simulator = graph_sim(make_tenant())
    configure(home, simulator, monkeypatch)
    assert ms365_command.main([CLIENT, "--month", "2026-10", "--tz", "UTC"]) == 0
    paths = [path for method, path, _ in simulator.last_requests if method == "GET"]
    assert "/v1.0/security/secureScores?$top=90" in paths
    assert any(path.startswith("/v1.0/users?$select=") and "signInActivity" in path and path.endswith("$top=120") for path in paths)
    assert "/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=999" in paths


def test_paging_follows_next_link_exactly(home, graph_sim, monkeypatch):
    tenant = make_tenant(users=250)
    simulator = graph_sim(tenant, profiles_page_size=2, skus_page_size=1)
    graph = client_for(simulator)

    raw = ms365.pull_client_month(graph, CLIENT, DOMAIN, PERIOD)

    assert [user["id"] for user in raw["users"]] == [f"u{index}" for index in range(250)]
    assert [profile["id"] for profile in raw["control_profiles"]] == ["AdminMFAV2", "MFARegistrationV2", "OneAdmin"]
    assert len(raw["subscribed_skus"]) == 2
    counts = simulator.tenant_counters()[TENANT_ID]
    assert counts["users"] == 3  # 120 + 120 + 10
    assert counts["secureScoreControlProfiles"] == 2 and counts["subscribedSkus"] == 2
    assert counts["userRegistrationDetails"] == 1  # 250 < 999
    assert simulator.counters()["status"] == {200: sum(counts.values())}  # no rebuilt link was refused


def test_a_rebuilt_next_link_is_refused_by_the_simulator(graph_sim):
    simulator = graph_sim(make_tenant(users=130))
    graph = client_for(simulator)
    first = graph.get_json(DOMAIN, graph.url("/users", {"$select": "id,signInActivity", "$top": 120}))
    link = first["@odata.nextLink"]
    assert link.startswith(simulator.url + "/v1.0/users?") and "$skiptoken=" in link
    with pytest.raises(Exception, match="page token"):
        graph.get_json(DOMAIN, link.replace("$top=120", "$top=100"))


def test_tenant_without_p1_records_sign_in_and_mfa_as_unavailable(home, graph_sim, monkeypatch):
    simulator = graph_sim(make_tenant(premium=False))
    configure(home, simulator, monkeypatch)

    assert ms365_command.main([CLIENT, "--month", "2026-10", "--tz", "UTC"]) == 0

    raw = json.loads(raw_path(home).read_text(encoding="utf-8"))
    assert raw["unavailable"] == {"sign_in": PREMIUM_OR_DIRECTORY, "mfa": PREMIUM_OR_DIRECTORY}
    assert raw["mfa_registrations"] is None
    assert len(raw["users"]) == 5 and all("signInActivity" not in item for item in raw["users"])
    assert raw["requests"] == 7  # the users call once more without signInActivity
    users_calls = [path for _, path, _ in simulator.last_requests if path.startswith("/v1.0/users")]
    assert "signInActivity" in users_calls[0] and "signInActivity" not in users_calls[1] and users_calls[1].endswith("$top=999")


@pytest.mark.parametrize(("denied", "expected"), [
    ({"subscribedSkus"}, {"licenses": "permission Organization.Read.All not granted"}),
    ({"secureScores"}, {"secure_score": "permission SecurityEvents.Read.All not granted"}),
    ({"secureScoreControlProfiles"}, {"control_profiles": "permission SecurityEvents.Read.All not granted"}),
    ({SIGN_IN}, {"sign_in": "permission AuditLog.Read.All not granted"}),
    ({"userRegistrationDetails"}, {"mfa": "permission AuditLog.Read.All not granted"}),
    ({"users", SIGN_IN}, {"users": "permission User.Read.All not granted", "sign_in": "permission User.Read.All not granted"}),
])
def test_a_permission_not_granted_is_recorded_not_fatal(graph_sim, denied, expected):
    simulator = graph_sim(make_tenant(denied=set(denied)))
    raw = ms365.pull_client_month(client_for(simulator), CLIENT, DOMAIN, PERIOD)
    assert raw["unavailable"] == expected
    for part, key in (("licenses", "subscribed_skus"), ("secure_score", "secure_scores"), ("mfa", "mfa_registrations"),
                      ("users", "users"), ("control_profiles", "control_profiles")):
        assert (raw[key] is None) == (part in expected)


def test_deny_permission_withdraws_every_endpoint_needing_it(graph_sim):
    tenant = make_tenant()
    tenant.deny_permission("AuditLog.Read.All")
    raw = ms365.pull_client_month(client_for(graph_sim(tenant)), CLIENT, DOMAIN, PERIOD)
    assert raw["unavailable"] == {"sign_in": "permission AuditLog.Read.All not granted", "mfa": "permission AuditLog.Read.All not granted"}


def test_bad_secret_is_one_line_naming_the_aadsts_code(home, graph_sim, monkeypatch, capsys):
    simulator = graph_sim(make_tenant())
    configure(home, simulator, monkeypatch, secret="not-the-right-secret-123")

    assert ms365_command.main([CLIENT, "--month", "2026-10"]) == 1

    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "AADSTS7000215" in err and "Invalid client secret provided." in err
    assert "not-the-right-secret-123" not in err and "Trace ID" not in err
    assert not raw_path(home).exists()


@pytest.mark.parametrize(("tenant", "code"), [("nosuch.onmicrosoft.com", "AADSTS90002"), ("fabrikam.onmicrosoft.com", "AADSTS700016")])
def test_unknown_or_unconsented_tenant_is_one_line_naming_the_code(home, graph_sim, monkeypatch, capsys, tenant, code):
    simulator = graph_sim(make_tenant(), GraphTenant("7d0d0d0d-0000-4000-8000-000000000001", "fabrikam.onmicrosoft.com", consented=False))
    configure(home, simulator, monkeypatch, tenant=tenant)

    assert ms365_command.main([CLIENT, "--month", "2026-10"]) == 1

    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and code in err and tenant in err
    assert not raw_path(home).exists()


def test_client_without_a_tenant_is_a_usage_error(home, graph_sim, monkeypatch, capsys):
    simulator = graph_sim(make_tenant())
    configure(home, simulator, monkeypatch, tenant=None)
    assert ms365_command.main([CLIENT, "--month", "2026-10"]) == 2
    assert "ms365_tenant" in capsys.readouterr().err
    assert simulator.counters()["requests"] == 0


def test_a_client_id_that_is_not_a_number_is_a_usage_error(home, graph_sim, monkeypatch, capsys):
    simulator = graph_sim(make_tenant())
    configure(home, simulator, monkeypatch)
    assert ms365_command.main(["../../etc/x", "--month", "2026-10", "--tenant", DOMAIN]) == 2
    assert "client id must be a number" in capsys.readouterr().err
    assert simulator.counters()["requests"] == 0 and not (home / "raw_data").exists()


def test_tenant_flag_overrides_and_missing_app_settings_are_usage_errors(home, graph_sim, monkeypatch, capsys):
    simulator = graph_sim(make_tenant())
    configure(home, simulator, monkeypatch, tenant=None)
    assert ms365_command.main([CLIENT, "--month", "2026-10", "--tenant", TENANT_ID]) == 0
    assert json.loads(raw_path(home).read_text(encoding="utf-8"))["client"]["tenant"] == TENANT_ID
    (home / "integoreport.toml").unlink()
    assert ms365_command.main([CLIENT, "--month", "2026-10", "--tenant", TENANT_ID]) == 2
    assert "[ms365]" in capsys.readouterr().err



def test_the_non_premium_403_names_directory_read_all_as_a_cause(home, graph_sim, monkeypatch, capsys):
    simulator = graph_sim(make_tenant(premium=False))
    configure(home, simulator, monkeypatch)
    monkeypatch.setenv("INTEGOREPORT_NOW", "2026-11-05T09:00:00+00:00")
    assert ms365_command.main([CLIENT, "--month", "2026-10", "--tz", "UTC"]) == 0
    section = compute(json.loads(raw_path(home).read_text(encoding="utf-8")))
    assert section["unavailable"] == {"sign_in": PREMIUM_OR_DIRECTORY, "mfa": PREMIUM_OR_DIRECTORY}
    assert "Directory.Read.All" in ms365.APPLICATION_PERMISSIONS


def test_the_docs_list_every_application_permission_and_what_the_non_premium_403_means():
    from simulators.graph import PERMISSIONS as SIMULATED

    section = (Path(__file__).resolve().parents[2] / "docs" / "microsoft-365.md").read_text(encoding="utf-8")
    assert set(ms365.PERMISSIONS.values()) | set(SIMULATED.values()) < set(ms365.APPLICATION_PERMISSIONS)
    for permission in ms365.APPLICATION_PERMISSIONS:
        assert f"| `{permission}` |" in section, permission
    assert f'"{ms365.NEEDS_PREMIUM}"' in " ".join(section.split())


# -- hostile answers ---------------------------------------------------------------------------

@pytest.mark.parametrize("elsewhere", ["other-host", "file"])
def test_a_next_link_off_the_graph_host_is_refused_and_gets_no_token(home, graph_sim, monkeypatch, capsys, elsewhere):
    other = graph_sim(make_tenant())  # another server, which must never see the tenant's bearer token
    base = other.url if elsewhere == "other-host" else "file://"
    simulator = graph_sim(make_tenant(users=130), next_link_base=base)
    configure(home, simulator, monkeypatch)

    assert ms365_command.main([CLIENT, "--month", "2026-10", "--tz", "UTC"]) == 1

    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "refusing to follow a link to another host" in err and "/users" in err
    assert other.counters()["requests"] == 0
    assert not raw_path(home).exists()
    sent = [headers.get("Authorization", "") for _, _, headers in simulator.last_requests]
    assert all(value[len("Bearer "):] not in err for value in sent if value)


def test_a_next_link_that_never_ends_stops_at_the_page_cap(graph_sim):
    simulator = graph_sim(make_tenant(), endless_next_link=True)
    graph = client_for(simulator, max_pages=4)
    with pytest.raises(GraphError, match="/security/secureScoreControlProfiles did not end after 4 pages"):
        ms365.pull_client_month(graph, CLIENT, DOMAIN, PERIOD)
    assert simulator.tenant_counters()[TENANT_ID]["secureScoreControlProfiles"] == 4


def test_null_items_in_graph_lists_are_skipped(graph_sim):
    simulator = graph_sim(make_tenant(users=130, null_items=True), profiles_page_size=2)
    raw = ms365.pull_client_month(client_for(simulator), CLIENT, DOMAIN, PERIOD)
    for key in ("secure_scores", "control_profiles", "subscribed_skus", "users", "mfa_registrations"):
        assert raw[key] and all(isinstance(item, dict) for item in raw[key]), key
    assert [user["id"] for user in raw["users"]] == [f"u{index}" for index in range(130)]  # two pages, each led by a null
    assert len(raw["control_profiles"]) == 3
    section = compute(raw)
    assert section["mfa"]["eligible"] == 130 and section["users"]["members"] == 130



def test_a_control_the_tenant_ignored_or_covers_elsewhere_is_not_recommended(graph_sim):
    tenant = make_tenant()
    tenant.set_control_state("AdminMFAV2", "Ignored")
    tenant.set_control_state("MFARegistrationV2", "Ignored", "2026-09-01T00:00:00Z")
    tenant.set_control_state("MFARegistrationV2", "ThirdParty", "2026-10-01T00:00:00Z")
    tenant.set_control_state("OneAdmin", "Reviewed")
    tenant.secure_scores = [{**item, "controlScores": [{"controlName": name, "score": 1.0} for name in
                                                       ("AdminMFAV2", "MFARegistrationV2", "OneAdmin")]} for item in tenant.secure_scores]
    raw = ms365.pull_client_month(client_for(graph_sim(tenant)), CLIENT, DOMAIN, PERIOD)
    assert raw["control_profiles"][0]["controlStateUpdates"][0]["state"] == "Ignored"
    assert [action["id"] for action in compute(raw)["improvement_actions"]] == ["OneAdmin"]

# -- token errors by AADSTS code ---------------------------------------------------------------

@pytest.mark.parametrize(("code", "app_level", "advice"), [
    (7000215, True, "MS365_CLIENT_SECRET"),
    (7000222, True, "has expired"),
    (7000216, True, "No app secret was sent"),
    (7000229, False, "The client's admin must grant admin consent to the app at "),
    (700016, False, "The client's admin must grant admin consent to the app at "),
    (90002, False, "The client's admin must confirm their tenant ID or primary domain"),
    (65001, False, "The client's admin must grant admin consent again at "),
    (53003, False, "The client's admin must check the app in their Entra admin center"),  # a code this tool does not know
])
def test_a_token_error_is_decided_by_its_aadsts_code(graph_sim, code, app_level, advice):
    simulator = graph_sim(make_tenant(aadsts=code))
    with pytest.raises(TenantRefused) as caught:
        client_for(simulator).token(DOMAIN)
    error = caught.value
    assert isinstance(error, AppCredentialsRefused) is app_level
    assert error.code == code
    message = str(error)
    assert message.count("\n") == 0 and f"AADSTS{code}:" in message and DOMAIN in message and advice in message
    assert "Trace ID" not in message and SECRET not in message
    if not app_level:  # a tenant that is not found (90002) has no admin to consent: no link; every other tenant code gives it
        assert (f"{simulator.url}/{DOMAIN}/adminconsent?client_id={APP_ID}" in message) is (code != 90002), message


def test_a_sign_in_failure_without_a_code_is_this_tenants_and_blames_no_admin(graph_sim):
    simulator = graph_sim(make_tenant())
    simulator.fail_endpoint("token", count=1, status=500)
    with pytest.raises(TenantRefused) as caught:
        client_for(simulator, policy=RetryPolicy(max_tries=1)).token(DOMAIN)
    assert not isinstance(caught.value, AppCredentialsRefused) and caught.value.code is None
    message = str(caught.value)
    assert f"tenant {DOMAIN} refused: HTTP 500. " in message and "gave no AADSTS code" in message and "admin" not in message


def test_an_unconsented_tenant_fails_its_own_pull_with_what_the_admin_must_do(home, graph_sim, monkeypatch, capsys):
    simulator = graph_sim(make_tenant(aadsts=7000229))
    configure(home, simulator, monkeypatch)
    assert ms365_command.main([CLIENT, "--month", "2026-10"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "AADSTS7000229" in err and "missing service principal" in err
    assert "The client's admin must grant admin consent" in err

# -- tokens ------------------------------------------------------------------------------------

def test_one_token_per_tenant_is_shared_by_a_batch(graph_sim):
    simulator = graph_sim(make_tenant())
    graph = client_for(simulator)
    ms365.pull_client_month(graph, CLIENT, DOMAIN, PERIOD)
    ms365.pull_client_month(graph, "other", DOMAIN, PERIOD)
    assert simulator.tokens_issued == 1
    assert graph.requests_for(DOMAIN) == 11


def test_an_expired_token_mid_run_is_replaced_and_the_call_retried_once(graph_sim):
    simulator = graph_sim(make_tenant())
    graph = client_for(simulator)
    graph.get_all(DOMAIN, "/subscribedSkus")
    simulator.expire_tokens()  # the server ends the token's life before the client expected

    raw = ms365.pull_client_month(graph, CLIENT, DOMAIN, PERIOD)

    assert raw["unavailable"] == {} and len(raw["users"]) == 5
    assert simulator.tokens_issued == 2
    assert simulator.counters()["status"].get(401) == 1


def test_a_token_is_renewed_before_expires_in_runs_out(graph_sim):
    now = [1000.0]
    simulator = graph_sim(make_tenant(), token_lifetime=3599)
    graph = client_for(simulator, clock=lambda: now[0])
    graph.get_all(DOMAIN, "/subscribedSkus")
    now[0] += 3000  # still well inside the lifetime: the same token
    graph.get_all(DOMAIN, "/subscribedSkus")
    assert simulator.tokens_issued == 1
    now[0] += 400  # within five minutes of expiry: renewed first, never refused
    graph.get_all(DOMAIN, "/subscribedSkus")
    assert simulator.tokens_issued == 2
    assert 401 not in simulator.counters()["status"]


# -- throttling --------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "endpoint"), [(429, "users"), (503, "secureScores"), (429, "token")])
def test_429_and_503_wait_for_retry_after(graph_sim, status, endpoint):
    simulator = graph_sim(make_tenant())
    waits: list[float] = []
    simulator.fail_endpoint(endpoint, count=2, status=status, retry_after="7")
    graph = client_for(simulator, sleep=waits.append, policy=RetryPolicy(max_wait=60))

    raw = ms365.pull_client_month(graph, CLIENT, DOMAIN, PERIOD)

    assert waits == [7.0, 7.0]
    assert raw["unavailable"] == {} and len(raw["users"]) == 5
    assert raw["requests"] == 8  # the two refused tries count
    assert simulator.counters()["status"][status] == 2


def test_429s_again_and_again_stop_microsoft_365_once_the_runs_wait_budget_is_spent(graph_sim):
    simulator = graph_sim(make_tenant())
    simulator.fail_endpoint("users", count=100, status=429, retry_after="300")
    waits = SkippedTime()  # the waits pass at once, on the client's own clock
    graph = client_for(simulator, sleep=waits.sleep, clock=waits.clock)

    with pytest.raises(WaitBudgetSpent) as caught:
        ms365.pull_client_month(graph, CLIENT, DOMAIN, PERIOD)

    assert waits.skipped == 900  # three waits of 5 min; a fourth would pass the 15 min budget (not 30 capped ones)
    assert simulator.counters()["status"][429] == 4
    assert str(caught.value) == ("Microsoft Graph rate limit on /v1.0/users: it asks to wait 5 min, past the 15 min this run may "
                                 "wait for Microsoft 365 (15 min waited so far)")


# -- the setup check ---------------------------------------------------------------------------

def test_check_gets_a_token_for_each_configured_tenant(home, graph_sim, monkeypatch):
    from tests.helpers.settings import read_settings
    from utils.services.graph_client import AppCredentialsRefused, TenantRefused

    simulator = graph_sim(make_tenant())
    configure(home, simulator, monkeypatch)
    assert ms365_source.check(read_settings(home)) == f"Microsoft 365 app {APP_ID}: a token for each of the 1 configured tenants"
    assert simulator.tokens_issued == 1

    configure(home, simulator, monkeypatch, tenant="gone.onmicrosoft.com")
    with pytest.raises(TenantRefused, match=f"client {CLIENT}: .*AADSTS90002"):
        ms365_source.check(read_settings(home))
    configure(home, simulator, monkeypatch, secret="wrong-secret-value")
    with pytest.raises(AppCredentialsRefused, match="AADSTS7000215"):
        ms365_source.check(read_settings(home))
    (home / "integoreport.toml").write_text("", encoding="utf-8")
    assert ms365_source.check(read_settings(home)) is None


def check_settings(home: Path, simulator: GraphSimulator, monkeypatch, tenants: dict[str, str], secret: str = SECRET):
    from tests.helpers.settings import read_settings

    table = "".join(f'\n[clients.{client_id}]\nms365_tenant = "{tenant}"\n' for client_id, tenant in tenants.items())
    (home / "integoreport.toml").write_text(f'[ms365]\napp_id = "{APP_ID}"\nlogin_url = "{simulator.url}"\n'
                                            f'graph_url = "{simulator.url}"\n{table}', encoding="utf-8")
    monkeypatch.setenv("MS365_CLIENT_SECRET", secret)
    return read_settings(home)




def test_check_asks_every_tenant_and_names_each_failure(home, graph_sim, monkeypatch):
    simulator = graph_sim(make_tenant(), other_tenant(1, aadsts=7000229), other_tenant(2, aadsts=65001))
    settings = check_settings(home, simulator, monkeypatch, {"101": "client1.onmicrosoft.com", "102": "gone.onmicrosoft.com",
                                                             "103": DOMAIN, "104": "client2.onmicrosoft.com"})
    with pytest.raises(TenantRefused) as caught:
        ms365_source.check(settings)
    message = str(caught.value)
    assert not isinstance(caught.value, AppCredentialsRefused)  # one client's consent is not the app's secret
    assert message.startswith("Microsoft 365: 3 of 4 tenants refused the app: ")
    assert "client 101: " in message and "AADSTS7000229" in message and "client 102: " in message and "AADSTS90002" in message
    assert "client 104: " in message and "AADSTS65001" in message and "client 103" not in message
    assert message.count("The client's admin must") == 3
    assert simulator.counters()["by_endpoint"] == {"token": 4}


def test_check_with_a_refused_secret_still_asks_every_tenant(home, graph_sim, monkeypatch):
    simulator = graph_sim(make_tenant(), other_tenant(1))
    settings = check_settings(home, simulator, monkeypatch, {"101": DOMAIN, "102": "client1.onmicrosoft.com",
                                                             "103": "gone.onmicrosoft.com"}, secret="wrong-secret-value")
    with pytest.raises(AppCredentialsRefused) as caught:
        ms365_source.check(settings)
    message = str(caught.value)
    assert "the app itself was refused (2 of them)" in message and "AADSTS7000215" in message
    assert "client 103: " in message and "AADSTS90002" in message and "wrong-secret-value" not in message
    assert simulator.counters()["by_endpoint"] == {"token": 3}


def test_check_says_app_id_when_no_directory_knows_the_app(home, graph_sim, monkeypatch):
    simulator = graph_sim(make_tenant(aadsts=700016), other_tenant(1, aadsts=700016))
    settings = check_settings(home, simulator, monkeypatch, {"101": DOMAIN, "102": "client1.onmicrosoft.com"})
    with pytest.raises(TenantRefused, match=f"every tenant answered AADSTS700016: check app_id {APP_ID} in \\[ms365\\]"):
        ms365_source.check(settings)
