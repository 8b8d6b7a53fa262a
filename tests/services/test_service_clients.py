"""The service clients shaped alike, over real HTTP to the simulators: one constructor shape, one check
policy that every `--check` uses, and one `usage` block in every raw file."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from simulators.freshservice_data import Account
from simulators.graph import GraphSimulator, GraphTenant
from simulators.mailchimp import MailchimpOptions, MailchimpSimulator
from simulators.sentinelone import SentinelOneData, SentinelOneOptions, SentinelOneSimulator
from tests.helpers.running import SIM_KEY
from tests.helpers.settings import read_settings
from utils.delivery import mailchimp
from utils.monthly.checks import OK, registered_checks, run_checks
from utils.services.freshservice_client import FreshserviceClient
from utils.services.graph_client import GraphClient
from utils.services.http import CHECK_POLICY, CHECK_TIMEOUT, RetryPolicy
from utils.services.sentinelone_client import SentinelOneClient
from utils.sources import SOURCES, freshservice_command, ms365_command, sentinelone_command

APP_ID, SECRET = "11111111-2222-3333-4444-555555555555", "graph-shape-secret"
TENANT_ID, TENANT = "aaaaaaaa-0000-0000-0000-000000000002", "fabrikam.onmicrosoft.com"
S1_TOKEN, MAILCHIMP_KEY = "s1-shape-token-31", "md-shape-key-52"
CLIENT = "21"
CLIENTS = (FreshserviceClient, GraphClient, SentinelOneClient)
USAGE_KEYS = ["requests", "retries", "rate_limited", "waited_seconds"]  # in this order, before a service's extras


@pytest.fixture
def services(serve, start_simulator):
    """One of each service's simulator, one client in all of them, and settings naming every one."""
    account = Account()
    department = account.add_department("Shape Ltd")
    account.add_ticket(department["id"], datetime(2026, 10, 5, 9, 0, tzinfo=UTC), subject="Printer")
    freshservice = start_simulator(account)
    tenant = GraphTenant(TENANT_ID, TENANT)
    tenant.control_profiles = [{"id": "AdminMFAV2", "title": "MFA", "maxScore": 1.0, "rank": 1}]
    graph = serve(GraphSimulator([tenant], app_id=APP_ID, client_secret=SECRET))
    data = SentinelOneData(now=datetime(2026, 11, 2, tzinfo=UTC))
    site = data.add_site("Shape Ltd", total_licenses=10)
    data.add_agent(site, "SHAPE-001", last_active=datetime(2026, 11, 1, tzinfo=UTC) - timedelta(hours=1))
    sentinelone = serve(SentinelOneSimulator(data, SentinelOneOptions(api_token=S1_TOKEN)))
    mail = serve(MailchimpSimulator(MailchimpOptions(key=MAILCHIMP_KEY)))
    return {"freshservice": freshservice, "graph": graph, "sentinelone": sentinelone, "mailchimp": mail,
            "department": str(department["id"]), "site": site["id"]}


def configure(home: Path, services: dict, monkeypatch) -> None:
    graph_url = services["graph"].url
    (home / "integoreport.toml").write_text(
        f'[freshservice]\nurl = "{services["freshservice"].url}"\n\n'
        f'[ms365]\napp_id = "{APP_ID}"\nlogin_url = "{graph_url}"\ngraph_url = "{graph_url}"\n\n'
        f'[sentinelone]\nurl = "{services["sentinelone"].url}"\n\n'
        f'[delivery]\nmethod = "mailchimp"\nfrom = "Acme IT <reports@acme.example>"\n\n'
        f'[delivery.mailchimp]\nurl = "{services["mailchimp"].api_url}"\n\n'
        f'[clients.{CLIENT}]\nms365_tenant = "{TENANT}"\nsentinelone_site = "{services["site"]}"\n'
        f'to = ["ops@shape.example"]\n', encoding="utf-8")
    for name, value in (("FRESHSERVICE_API_KEY", SIM_KEY), ("MS365_CLIENT_SECRET", SECRET),
                        ("SENTINELONE_API_TOKEN", S1_TOKEN), ("MAILCHIMP_TRANSACTIONAL_KEY", MAILCHIMP_KEY)):
        monkeypatch.setenv(name, value)


# -- one constructor shape ---------------------------------------------------------------------------

@pytest.mark.parametrize("client_class", CLIENTS)
def test_every_client_is_made_the_same_way(client_class):
    parameters = inspect.signature(client_class.__init__).parameters
    positional = [name for name, parameter in parameters.items() if parameter.kind is parameter.POSITIONAL_OR_KEYWORD]
    assert len(positional) == 3  # self, the service's URL, the secret
    for name in ("policy", "session", "timeout", "sleep"):
        assert parameters[name].kind is parameters[name].KEYWORD_ONLY, name


@pytest.mark.parametrize("source", SOURCES, ids=[source.name for source in SOURCES])
def test_every_source_makes_its_client_from_the_settings_the_same_way(source):
    made = inspect.signature(source.make_client).parameters
    assert list(made)[0] == "settings"
    assert made["for_check"].kind is made["for_check"].KEYWORD_ONLY and made["for_check"].default is False


def test_each_source_makes_its_client_with_the_batch_or_the_check_policy(home, services, monkeypatch):
    configure(home, services, monkeypatch)
    settings = read_settings(home)
    assert [type(source.make_client(settings)) for source in SOURCES] == list(CLIENTS)
    for source in SOURCES:
        batch = source.make_client(settings)
        check = source.make_client(settings, for_check=True)
        assert check.policy is CHECK_POLICY and check.timeout == CHECK_TIMEOUT, source.name
        assert batch.policy is not CHECK_POLICY and batch.policy.max_tries > CHECK_POLICY.max_tries, source.name


# -- one check policy ----------------------------------------------------------------------------------

def test_the_check_policy_is_one_named_policy():
    assert RetryPolicy.for_check() is CHECK_POLICY
    assert mailchimp.PING_POLICY is CHECK_POLICY
    assert CHECK_POLICY.max_tries == 2 and CHECK_POLICY.max_rate_limit_wait <= 15.0


def test_every_check_gives_up_after_the_check_policys_tries(home, services, monkeypatch):
    configure(home, services, monkeypatch)
    simulators = {"Freshservice": services["freshservice"], "Microsoft 365": services["graph"],
                  "SentinelOne": services["sentinelone"], "Email delivery": services["mailchimp"]}
    assert set(simulators) == set(registered_checks())  # every check is exercised here
    for simulator in simulators.values():
        simulator.fail_next(10, 500)

    results = {result.service: result for result in run_checks(read_settings(home))}

    for name, simulator in simulators.items():
        assert results[name].failed, name
        # The batch's policy tries 5 times: only the one check policy stops after 2.
        assert simulator.counters()["requests"] == CHECK_POLICY.max_tries, name


def test_every_check_passes_against_the_simulators(home, services, monkeypatch):
    configure(home, services, monkeypatch)
    results = run_checks(read_settings(home))
    assert [(result.service, result.status) for result in results] == [(name, OK) for name in registered_checks()]


# -- one usage block -------------------------------------------------------------------------------------

def test_the_usage_block_is_alike_in_every_raw_file(home, services, monkeypatch):
    configure(home, services, monkeypatch)
    monkeypatch.setenv("INTEGOREPORT_NOW", "2026-11-02T09:00:00+00:00")
    # One retry, so the counts are not all zero; its Retry-After makes the wait certain (a jittered
    # back-off can draw a few milliseconds, which rounds to 0.0 in the usage block).
    services["sentinelone"].fail_next(1, 503, headers=[("Retry-After", "1")])
    argv = ["--month", "2026-10", "--tz", "UTC"]
    assert freshservice_command.main([services["department"], *argv]) == 0
    assert ms365_command.main([CLIENT, *argv]) == 0
    assert sentinelone_command.main([CLIENT, *argv]) == 0

    raw = {source: json.loads((home / "raw_data" / f"{source}_{number}.json").read_text(encoding="utf-8"))
           for source, number in (("freshservice", services["department"]), ("ms365", CLIENT), ("sentinelone", CLIENT))}
    for source, document in raw.items():
        usage = document["usage"]
        assert list(usage)[:4] == USAGE_KEYS, source
        assert all(isinstance(usage[key], int) for key in USAGE_KEYS[:3]) and isinstance(usage["waited_seconds"], float), source
        assert usage["requests"] > 0, source
    assert raw["sentinelone"]["usage"]["requests"] == services["sentinelone"].counters()["requests"] == 5
    assert raw["sentinelone"]["usage"]["retries"] == 1 and raw["sentinelone"]["usage"]["waited_seconds"] > 0
    assert raw["ms365"]["usage"]["requests"] == services["graph"].counters()["requests"]
    assert raw["ms365"]["usage"]["tokens"] == 1
    assert raw["freshservice"]["usage"]["requests"] == services["freshservice"].counters()["requests"]
    assert raw["freshservice"]["usage"]["credits"] == services["freshservice"].counters()["credits"]
    # The older keys stay for their readers, and agree with the block.
    assert raw["freshservice"]["api_usage"]["requests"] == raw["freshservice"]["usage"]["requests"]
    assert raw["ms365"]["requests"] == raw["ms365"]["usage"]["requests"]
    assert raw["sentinelone"]["requests"] == raw["sentinelone"]["usage"]["requests"]
