"""The one paging helper (utils/services/paging.py) over real HTTP to the simulators: each strategy, the one loop guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from simulators.freshservice_data import Account
from simulators.graph import GraphSimulator, GraphTenant
from simulators.sentinelone import SentinelOneData, SentinelOneOptions, SentinelOneSimulator
from tests.helpers.running import SIM_KEY
from utils.core.errors import APIError
from utils.services.freshservice_client import FreshserviceClient, freshservice_policy
from utils.services.graph_client import GraphClient, GraphError
from utils.services.paging import Cursor, JsonNextLink, LinkHeader, Page, PageGuard, PageNumber, Token, paginate
from utils.services.sentinelone_client import SentinelOneClient, SentinelOneError

APP_ID, SECRET, TENANT = "11111111-2222-3333-4444-555555555555", "graph-paging-secret", "contoso.onmicrosoft.com"
TENANT_ID = "aaaaaaaa-0000-0000-0000-000000000001"
S1_TOKEN = "s1-paging-token-77"


def account(departments: int = 0, tickets: int = 0) -> Account:
    books = Account()
    ids = [books.add_department(f"Client {n:03d}")["id"] for n in range(max(departments, 1))]
    for n in range(tickets):
        books.add_ticket(ids[0], books.now.replace(microsecond=0) - timedelta(hours=n + 1), subject=f"Ticket {n}")
    return books


def freshservice(simulator) -> FreshserviceClient:
    return FreshserviceClient(simulator.url, SIM_KEY, policy=freshservice_policy(backoff_base=0.01))


def tenant(profiles: int) -> GraphTenant:
    books = GraphTenant(TENANT_ID, TENANT)
    books.control_profiles = [{"id": f"Control{n}", "title": f"Control {n}", "maxScore": 1.0, "rank": n} for n in range(profiles)]
    return books


def graph(simulator: GraphSimulator, **options) -> GraphClient:
    return GraphClient(simulator.url, SECRET, app_id=APP_ID, login_url=simulator.url, sleep=lambda seconds: None, **options)


def console(serve, agents: int, **options) -> tuple[SentinelOneClient, SentinelOneSimulator, str]:
    data = SentinelOneData(now=datetime(2026, 11, 2, tzinfo=UTC))
    site = data.add_site("Paged Co", total_licenses=agents + 10)
    for index in range(agents):
        data.add_agent(site, f"PAGED-{index:05d}")
    simulator = serve(SentinelOneSimulator(data, SentinelOneOptions(api_token=S1_TOKEN, **options)))
    return SentinelOneClient(simulator.url, S1_TOKEN, sleep=lambda seconds: None), simulator, site["id"]


# -- each strategy ---------------------------------------------------------------------------------

def test_the_helper_alone_follows_a_link_header_with_plain_requests(start_simulator):
    simulator = start_simulator(account(departments=250))
    session = requests.Session()
    session.auth = (SIM_KEY, "X")

    def fetch(token: Token | None) -> Page:
        response = session.get(str(token) if token else f"{simulator.url}/api/v2/departments", timeout=5,
                               params=None if token else {"per_page": 100})
        return Page(response.json()["departments"], response=response)

    guard = PageGuard("Freshservice", "/api/v2/departments", base_url=simulator.url)
    pages = [len(page.items) for page in paginate(fetch, LinkHeader(), guard)]
    assert pages == [100, 100, 50]


def test_link_header_strategy_reads_every_freshservice_page(start_simulator):
    simulator = start_simulator(account(departments=250))
    client = freshservice(simulator)
    assert len({department["id"] for department in client.paginate("departments", "departments")}) == 250
    assert simulator.counters()["by_endpoint"]["departments"]["requests"] == 3


def test_page_number_strategy_stops_at_the_filter_cap_without_an_error(start_simulator):
    simulator = start_simulator(account(tickets=330))
    tickets, total = freshservice(simulator).filter_tickets("priority:1")
    assert (len(tickets), total) == (300, 330)  # the caller sees total > len and splits the query
    assert simulator.counters()["by_endpoint"]["tickets.filter"]["requests"] == 10


def test_page_number_strategy_stops_at_a_short_page(start_simulator):
    simulator = start_simulator(account(tickets=45))
    tickets, total = freshservice(simulator).filter_tickets("priority:1")
    assert (len(tickets), total) == (45, 45)
    assert simulator.counters()["by_endpoint"]["tickets.filter"]["requests"] == 2


def test_json_next_link_strategy_reads_every_graph_page(serve):
    simulator = serve(GraphSimulator([tenant(profiles=7)], app_id=APP_ID, client_secret=SECRET, profiles_page_size=3))
    profiles = graph(simulator).get_all(TENANT, "/security/secureScoreControlProfiles")
    assert [profile["id"] for profile in profiles] == [f"Control{n}" for n in range(7)]
    assert simulator.tenant_counters()[TENANT_ID]["secureScoreControlProfiles"] == 3


def test_cursor_strategy_reads_every_sentinelone_page_until_the_cursor_is_null(serve):
    client, simulator, site_id = console(serve, agents=2345)
    assert len(client.agents(site_id)) == 2345
    assert simulator.counters()["by_endpoint"] == {"agents": 3}


def test_cursor_strategy_does_not_stop_at_an_empty_page(serve):
    client, simulator, site_id = console(serve, agents=1500, empty_page_before_end=True)
    assert len(client.agents(site_id)) == 1500
    assert simulator.counters()["by_endpoint"] == {"agents": 3}  # 1000, an empty page, 500


# -- the one loop guard --------------------------------------------------------------------------------

def test_a_repeated_link_header_is_a_loop_error(start_simulator):
    simulator = start_simulator(account(departments=250), repeated_link=True)
    with pytest.raises(APIError, match="Freshservice /api/v2/departments sent the same next page link twice"):
        list(freshservice(simulator).paginate("departments", "departments"))
    assert simulator.counters()["by_endpoint"]["departments"]["requests"] == 2  # page 1, then page 2 linking to itself


def test_a_repeated_graph_next_link_is_a_loop_error(serve):
    simulator = serve(GraphSimulator([tenant(profiles=9)], app_id=APP_ID, client_secret=SECRET, profiles_page_size=2,
                                     repeated_next_link=True))
    with pytest.raises(GraphError, match=r"/security/secureScoreControlProfiles sent the same next page link twice \(tenant "):
        graph(simulator).get_all(TENANT, "/security/secureScoreControlProfiles")
    assert simulator.tenant_counters()[TENANT_ID]["secureScoreControlProfiles"] == 2


def test_a_repeated_cursor_is_a_loop_error(serve):
    client, simulator, site_id = console(serve, agents=3500, repeated_cursor=True)
    with pytest.raises(SentinelOneError, match=f"SentinelOne /agents sent the same next page cursor twice \\(site {site_id}\\)"):
        client.agents(site_id)
    assert simulator.counters()["by_endpoint"] == {"agents": 2}


@pytest.mark.parametrize("service", ["freshservice", "graph", "sentinelone"])
def test_every_client_stops_at_its_page_cap(service, start_simulator, serve):
    if service == "freshservice":
        simulator = start_simulator(account(departments=250))
        with pytest.raises(APIError, match="Freshservice /api/v2/departments did not end after 2 pages"):
            list(freshservice(simulator).paginate("departments", "departments", max_pages=2))
        assert simulator.counters()["by_endpoint"]["departments"]["requests"] == 2
    elif service == "graph":
        graph_simulator = serve(GraphSimulator([tenant(profiles=3)], app_id=APP_ID, client_secret=SECRET, endless_next_link=True))
        with pytest.raises(GraphError, match="/security/secureScoreControlProfiles did not end after 3 pages"):
            graph(graph_simulator, max_pages=3).get_all(TENANT, "/security/secureScoreControlProfiles")
    else:
        _, s1, site_id = console(serve, agents=3500)
        capped = SentinelOneClient(s1.url, S1_TOKEN, sleep=lambda seconds: None, max_pages=2)
        with pytest.raises(SentinelOneError, match="SentinelOne /agents did not end after 2 pages"):
            capped.agents(site_id)
        assert s1.counters()["by_endpoint"] == {"agents": 2}


def test_an_off_origin_link_is_refused_before_any_request(start_simulator, serve):
    other = start_simulator(account(departments=1))
    simulator = start_simulator(account(departments=250))
    session = requests.Session()

    def fetch(token: Token | None) -> Page:
        response = session.get(str(token) if token else f"{simulator.url}/api/v2/departments", timeout=5, auth=(SIM_KEY, "X"))
        body = response.json()
        # A hostile answer: its next link points at another server.
        return Page(body["departments"], {"next": f"{other.url}/api/v2/departments?page=2"})

    guard = PageGuard("Freshservice", "/api/v2/departments", base_url=simulator.url)
    with pytest.raises(APIError, match="has a next link: refusing to follow a link to another host"):
        list(paginate(fetch, JsonNextLink("next"), guard))
    assert other.counters()["requests"] == 0


def test_a_cursor_that_is_not_text_is_refused():
    guard = PageGuard("SentinelOne", "/agents", error=SentinelOneError)
    with pytest.raises(SentinelOneError, match="page cursor for /agents that is not text \\(a number\\)"):
        Cursor(lambda body: body["next"]).next_token(Page([{}], {"next": 7}), 1, guard)
    assert PageNumber(cap=10, page_size=30).next_token(Page([{}] * 30), 10, guard) is None  # the cap ends, no error
