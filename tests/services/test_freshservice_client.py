"""The Freshservice client over real HTTP to the simulator: paging, retries, typed errors, the rate limiter, redaction."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

import pytest

from simulators.base import LoopbackServer, Reply, Request
from simulators.freshservice_data import Account
from tests.helpers.running import SIM_KEY, run_in_threads
from tests.helpers.timing import FakeClock, SkippedTime
from utils.core.cli import redact
from utils.core.errors import APIError, AuthenticationError, ConnectionFailed, ForbiddenError, NotFoundError
from utils.services.freshservice_client import USER_AGENT, FreshserviceClient, RateLimiter, freshservice_policy

ECHOED_KEY = "echo-key-5e6f7a"


def make_client(simulator, **options) -> FreshserviceClient:
    window = options["limiter"].window_seconds if "limiter" in options else 60.0  # the policy's waits follow the pacing window
    options.setdefault("policy", freshservice_policy(window, backoff_base=0.01))
    return FreshserviceClient(simulator.url, options.pop("api_key", SIM_KEY), **options)


def small_account(departments: int = 3, tickets: int = 0) -> Account:
    account = Account()
    ids = [account.add_department(f"Client {n:03d}")["id"] for n in range(departments)]
    for n in range(tickets):
        account.add_ticket(ids[0], account.now.replace(microsecond=0) - timedelta(hours=n + 1), subject=f"Ticket {n}")
    return account


def test_auth_header_and_user_agent(start_simulator):
    simulator = start_simulator(small_account())
    make_client(simulator).get_json("departments")
    _method, path, headers = simulator.last_requests[-1]
    expected = "Basic " + base64.b64encode(f"{SIM_KEY}:X".encode()).decode()
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["authorization"] == expected
    assert lowered["user-agent"] == USER_AGENT
    assert path.startswith("/api/v2/departments")


def test_link_pagination_follows_every_page(start_simulator):
    simulator = start_simulator(small_account(departments=250))
    client = make_client(simulator)
    names = [d["name"] for d in client.paginate("departments", "departments")]
    assert len(names) == 250 and len(set(names)) == 250
    assert simulator.counters()["by_endpoint"]["departments"]["requests"] == 3  # 100 + 100 + 50
    assert client.counters.requests == 3


def test_filter_pagination_reads_every_page_and_total(start_simulator):
    simulator = start_simulator(small_account(tickets=75))
    client = make_client(simulator)
    tickets, total = client.filter_tickets("priority:1")
    assert total == 75
    assert len({t["id"] for t in tickets}) == 75
    assert simulator.counters()["by_endpoint"]["tickets.filter"]["requests"] == 3


def test_filter_stops_at_the_ten_page_cap(start_simulator):
    simulator = start_simulator(small_account(tickets=330))
    client = make_client(simulator)
    tickets, total = client.filter_tickets("priority:1")
    assert total == 330
    assert len(tickets) == 300  # the caller sees total > len and must split the query
    assert simulator.counters()["by_endpoint"]["tickets.filter"]["requests"] == 10
    with pytest.raises(APIError) as caught:
        client.filter_page("priority:1", 11)
    assert caught.value.status == 400


def test_5xx_is_retried_then_succeeds(start_simulator):
    simulator = start_simulator(small_account())
    client = make_client(simulator)
    simulator.fail_next(2, status=503)
    body = client.get_json("departments")
    assert len(body["departments"]) == 3
    assert client.counters.retries == 2
    assert simulator.counters()["status"].get(503) == 2


def test_dropped_connection_is_retried(start_simulator):
    simulator = start_simulator(small_account())
    client = make_client(simulator)
    simulator.fail_next(1, status=0)
    assert len(client.get_json("departments")["departments"]) == 3
    assert client.counters.retries == 1


def test_retry_exhaustion_raises_with_status_and_path(start_simulator):
    simulator = start_simulator(small_account())
    client = make_client(simulator, policy=freshservice_policy(max_tries=3, backoff_base=0.01))
    simulator.fail_next(10, status=500)
    with pytest.raises(APIError) as caught:
        client.get_json("departments")
    assert caught.value.status == 500 and caught.value.path == "/api/v2/departments"
    assert simulator.counters()["requests"] == 3


def test_401_fails_fast_without_retry(start_simulator):
    simulator = start_simulator(small_account())
    client = make_client(simulator, api_key="wrong-key-000111")
    with pytest.raises(AuthenticationError) as caught:
        client.get_json("departments")
    assert simulator.counters()["requests"] == 1
    assert "wrong-key-000111" not in str(caught.value)


def test_403_and_404_are_typed(start_simulator):
    simulator = start_simulator(small_account(), forbidden_agents=True)
    client = make_client(simulator)
    with pytest.raises(ForbiddenError):
        client.get_json("agents")
    with pytest.raises(NotFoundError):
        client.get_json("departments/999")
    assert simulator.counters()["requests"] == 2


def test_timeout_is_retried_then_reported(start_simulator):
    simulator = start_simulator(small_account(), latency_seconds=1.0)
    client = make_client(simulator, timeout=(1.0, 0.2), policy=freshservice_policy(max_tries=2, backoff_base=0.01))
    with pytest.raises(ConnectionFailed) as caught:
        client.get_json("departments")
    assert "timed out" in str(caught.value)


def test_refused_connection_is_one_clear_error(closed_port):
    client = FreshserviceClient(f"http://127.0.0.1:{closed_port}", SIM_KEY, policy=freshservice_policy(max_tries=2, backoff_base=0.01))
    with pytest.raises(ConnectionFailed) as caught:
        client.get_json("departments")
    assert "connection refused" in str(caught.value)


@pytest.mark.parametrize("garbage", ["html", "badjson"])
def test_non_json_answer_is_a_clear_error(start_simulator, garbage):
    simulator = start_simulator(small_account(), garbage_response=garbage)
    with pytest.raises(APIError) as caught:
        make_client(simulator).get_json("departments")
    assert "not valid JSON" in str(caught.value)


def test_429_honours_retry_after_and_pauses_every_thread(start_simulator):
    simulator = start_simulator(small_account(), rate_limit_total=12, rate_window_seconds=1.0)
    # The waits pass at once, moving the limiter's clock and the simulator's window together.
    client = make_client(simulator, limiter=SkippedTime(simulator).limiter(window_seconds=1.0, reserve=0.0))
    errors: list[Exception] = []

    def worker():
        try:
            for _ in range(10):
                client.get_json("departments")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    run_in_threads(worker, 4)
    assert errors == []
    assert simulator.counters()["status"][200] == 40
    # 40 credits at 12 a window need at least three window resets, each announced by a 429 or waited for.
    assert client.counters.seconds_waited > 0
    # Paused together: far fewer 429s than requests that would each have hit the limit on their own.
    assert 1 <= client.counters.rate_limited <= 4 * 4




def test_rate_limiter_blocks_all_threads_until_retry_after():
    clock = FakeClock()
    limiter = RateLimiter(reserve=0.1, window_seconds=60, clock=clock, sleep=clock.sleep)
    limiter.block(0.5)
    sent_at: list[float] = []

    def take_turn():
        with limiter.turn():
            sent_at.append(clock())

    run_in_threads(take_turn, 3)
    assert len(sent_at) == 3 and min(sent_at) >= 0.5


def test_rate_limiter_paces_below_the_reserve_until_it_knows_the_window():
    clock = FakeClock()
    limiter = RateLimiter(reserve=0.1, window_seconds=60, clock=clock, sleep=clock.sleep)
    limiter.observe({"X-Ratelimit-Total": "200", "X-Ratelimit-Remaining": "150"})
    with limiter.turn() as waited:
        assert waited == 0.0  # plenty left: no pause
    limiter.observe({"X-Ratelimit-Total": "200", "X-Ratelimit-Remaining": "15"})
    waits = []
    for _ in range(4):
        with limiter.turn() as waited:
            waits.append(waited)
    # Below 10 %, with no 429 seen yet: one request at a time, one credit every 60 / (200 * 0.9) s.
    assert waits == pytest.approx([0.0, 60 / 180, 60 / 180, 60 / 180])


def test_rate_limiter_waits_for_the_next_window_once_it_knows_it():
    clock = FakeClock()
    limiter = RateLimiter(reserve=0.1, window_seconds=60, clock=clock, sleep=clock.sleep)
    limiter.observe({"X-Ratelimit-Total": "200", "X-Ratelimit-Remaining": "0"})
    limiter.block(5.0)  # a 429 said: the window resets in 5 s
    with limiter.turn() as waited:
        assert waited == pytest.approx(5.0)
    limiter.observe({"X-Ratelimit-Total": "200", "X-Ratelimit-Remaining": "150"})
    with limiter.turn() as waited:
        assert waited == 0.0
    clock.now = 30.0
    limiter.observe({"X-Ratelimit-Total": "200", "X-Ratelimit-Remaining": "12"})
    with limiter.turn() as waited:
        # Below the reserve: wait for the next reset (5 + 60 s), leaving the reserve to others.
        assert waited == pytest.approx(35.0)


def test_rate_limiter_probes_until_the_window_really_resets():
    clock = FakeClock()
    limiter = RateLimiter(reserve=0.1, window_seconds=60, clock=clock, sleep=clock.sleep)
    limiter.observe({"X-Ratelimit-Total": "200", "X-Ratelimit-Remaining": "4"})
    limiter.block(5.0)
    with limiter.turn() as waited:  # one request goes first when the reset is due
        assert waited == pytest.approx(5.0)
    limiter.observe({"X-Ratelimit-Total": "200", "X-Ratelimit-Remaining": "3"}, sent_at=5.0)  # the server's window had not reset
    with limiter.turn() as waited:
        assert waited == pytest.approx(limiter.recheck_seconds)  # it looks again shortly, not a whole window later
    limiter.observe({"X-Ratelimit-Total": "200", "X-Ratelimit-Remaining": "199"}, sent_at=clock.now)
    with limiter.turn() as waited:
        assert waited == 0.0  # the fresh budget: everybody goes
    assert limiter.reset_at == pytest.approx(5.0 + limiter.recheck_seconds + 60)  # the window began with that request


def test_rate_limiter_counts_requests_in_flight():
    limiter = RateLimiter(reserve=0.1, window_seconds=60, clock=FakeClock(), sleep=lambda s: None)
    limiter.observe({"X-Ratelimit-Total": "100", "X-Ratelimit-Remaining": "14"})
    with limiter.turn(3), limiter.turn(3):
        assert limiter._low()  # 14 - 6 in flight is below the reserve of 10
    assert not limiter._low()


def test_key_never_appears_in_errors_or_logs(start_simulator, caplog):
    simulator = start_simulator(small_account(), forbidden_requesters=True)
    client = make_client(simulator, policy=freshservice_policy(max_tries=2, backoff_base=0.01))
    messages = []
    with caplog.at_level(logging.DEBUG):
        for path in ("requesters", "departments/12345", "tickets/filter"):
            try:
                client.get_json(path)
            except APIError as exc:
                messages.append(str(exc))
        simulator.fail_next(5, status=500)
        try:
            client.get_json("departments")
        except APIError as exc:
            messages.append(str(exc))
    assert len(messages) == 4
    for text in messages + [caplog.text]:
        assert SIM_KEY not in text
        assert base64.b64encode(f"{SIM_KEY}:X".encode()).decode() not in text


def test_link_to_another_host_is_refused(start_simulator):
    simulator = start_simulator(small_account())
    client = make_client(simulator)
    with pytest.raises(APIError) as caught:
        client.request("http://127.0.0.2:1/api/v2/departments")
    assert "another host" in str(caught.value)


@pytest.mark.parametrize(("link", "followed"), [
    ("https://graph.microsoft.com/v1.0/users?$skiptoken=x", True),
    ("https://GRAPH.microsoft.com:443/v1.0/users?$skiptoken=x", True),  # the same origin, written differently
    ("https://graph.microsoft.com.evil.example/v1.0/users", False),
    ("http://graph.microsoft.com/v1.0/users", False),  # the token would travel unencrypted
    ("https://graph.microsoft.com:8443/v1.0/users", False),
    ("file:///etc/passwd", False),
    ("/v1.0/users?$skiptoken=x", False),
    ("https://graph.microsoft.com:notaport/v1.0/users", False),
])
def test_a_link_is_followed_only_on_its_base_urls_origin(link, followed):
    from utils.services.http import same_origin_link

    if followed:
        assert same_origin_link(link, "https://graph.microsoft.com") == link
    else:
        with pytest.raises(APIError, match="refusing to follow a link to another host"):
            same_origin_link(link, "https://graph.microsoft.com")


class EchoingServer(LoopbackServer):
    """Answers 400 quoting the request's Authorization header back, as a careless proxy might."""

    def handle(self, request: Request) -> Reply:
        return Reply(400, {"message": f"bad request; you sent Authorization: {request.header('Authorization')}"})


def test_echoed_basic_auth_header_is_redacted():
    with EchoingServer() as server:
        with pytest.raises(APIError) as caught:
            FreshserviceClient(server.url, ECHOED_KEY).get_json("departments")
    encoded = base64.b64encode(f"{ECHOED_KEY}:X".encode()).decode()
    assert "[REDACTED]" in str(caught.value) and encoded not in str(caught.value)
    assert redact(f"Basic {encoded}") == "Basic [REDACTED]"

