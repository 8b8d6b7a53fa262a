"""The shared retry policy (utils/services/http.py) over real HTTP to a scripted loopback server."""

from __future__ import annotations

import socket
from collections import deque
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from simulators.base import LoopbackServer, Reply, Request
from tests.helpers.running import SIM_KEY
from tests.helpers.timing import FakeClock
from utils.core.errors import APIError, ConnectionFailed, OutcomeUnknown, WaitBudgetSpent
from utils.services.freshservice_client import FreshserviceClient, RateLimiter, freshservice_policy
from utils.services.http import RetryPolicy, WaitBudget, retry_after_seconds, send

CUT_SHORT = "cut-short"  # a body shorter than its Content-Length, then the connection closes
BROKEN_CHUNKS = "broken-chunks"  # a chunked body whose chunk promises more than arrives


class ScriptedServer(LoopbackServer):
    """Answers each request with the next scripted reply; 200 {"ok": true} once the script is used up."""

    def __init__(self) -> None:
        super().__init__()
        self.script: deque[Reply | str] = deque()

    def handle(self, request: Request) -> Reply:
        with self._lock:
            step = self.script.popleft() if self.script else Reply(200, {"ok": True})
        if isinstance(step, str):
            return Reply(200, raw=step.encode())
        return step

    def send(self, handler: BaseHTTPRequestHandler, reply: Reply, extra_headers=()) -> None:  # type: ignore[override]
        if reply.raw == CUT_SHORT.encode():
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "100")
            handler.end_headers()
            handler.wfile.write(b'{"ok": tr')
            handler.close_connection = True
        elif reply.raw == BROKEN_CHUNKS.encode():
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            handler.wfile.write(b"40\r\n{\"ok\": tr")
            handler.close_connection = True
        else:
            LoopbackServer.send(handler, reply, extra_headers)


@pytest.fixture
def server():
    with ScriptedServer() as running:
        yield running


class Waits(list):
    """Records the waits `send` asks for instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


POLICY = RetryPolicy(max_tries=4, backoff_base=0.25, backoff_cap=1.0, max_rate_limited=3, max_wait=50.0)


def get(server: ScriptedServer, waits: Waits, policy: RetryPolicy = POLICY, url: str | None = None) -> requests.Response:
    with requests.Session() as session:
        return send(session, "GET", url or server.url + "/thing", service="Example", policy=policy, sleep=waits)


def test_retryable_statuses_back_off_then_succeed(server):
    server.script.extend([Reply(500, {}), Reply(502, {}), Reply(504, {})])
    waits = Waits()
    response = get(server, waits)
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert server.counters()["requests"] == 4
    # Full jitter under 0.25, 0.5, 1.0.
    assert len(waits) == 3 and all(0 <= wait <= cap for wait, cap in zip(waits, (0.25, 0.5, 1.0), strict=True))


def test_last_retryable_status_is_returned_after_the_tries(server):
    server.script.extend([Reply(500, {})] * 10)
    waits = Waits()
    assert get(server, waits).status_code == 500
    assert server.counters()["requests"] == POLICY.max_tries and len(waits) == POLICY.max_tries - 1


def test_other_statuses_come_back_at_once(server):
    server.script.extend([Reply(404, {}), Reply(400, {})])
    waits = Waits()
    assert get(server, waits).status_code == 404
    assert waits == [] and server.counters()["requests"] == 1


def test_503_retry_after_is_honoured(server):
    server.script.append(Reply(503, {}, [("Retry-After", "7")]))
    waits = Waits()
    assert get(server, waits).status_code == 200
    assert waits == [7.0]


def test_429_waits_a_retry_after_of_up_to_an_hour_in_full(server):
    server.script.extend([Reply(429, {}, [("Retry-After", "3")]), Reply(429, {}, [("Retry-After", "3600")])])
    waits = Waits()
    assert get(server, waits).status_code == 200
    assert waits == [3.0, 3600.0]  # not cut to max_wait (a 503's cap) and retried early into another 429


@pytest.mark.parametrize("huge", ["100000", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_429_asking_more_than_an_hour_is_a_clear_error_at_once(server, huge):
    server.script.append(Reply(429, {}, [("Retry-After", huge)]))
    waits = Waits()
    with pytest.raises(WaitBudgetSpent, match=r"^Example rate limit on /thing: it asks to wait .* longer than the 1 h") as caught:
        get(server, waits)
    assert caught.value.status == 429 and "\n" not in str(caught.value)
    assert waits == [] and server.counters()["requests"] == 1


def test_429_waits_stop_when_the_run_budget_is_spent_and_stay_stopped(server):
    clock = FakeClock()
    budget = WaitBudget("Example", 10.0, clock=clock)
    server.script.extend([Reply(429, {}, [("Retry-After", "4")])] * 5)
    with requests.Session() as session:
        with pytest.raises(WaitBudgetSpent, match="past the 10 s this run may wait for Example") as caught:
            send(session, "GET", server.url + "/thing", service="Example", sleep=clock.sleep, budget=budget)
        assert clock.now == 8.0 and budget.spent == 8.0  # 4 + 4; the third 4 would pass 10
        assert server.counters()["requests"] == 3
        assert caught.value.status == 429
        server.script.clear()
        server.script.append(Reply(429, {}, [("Retry-After", "1")]))
        with pytest.raises(WaitBudgetSpent):  # spent for the rest of the run, even for a short wait
            send(session, "GET", server.url + "/thing", service="Example", sleep=clock.sleep, budget=budget)
        assert clock.now == 8.0


def test_whole_waits_fill_the_budget_exactly_whatever_the_clock_reads():
    clock = FakeClock()
    clock.now = 130772.16303133311  # here (now + 300) - now is not 300 in floating point
    budget = WaitBudget("Example", 900.0, clock=clock)
    for _ in range(3):
        budget.reserve(300.0, "/a")
        clock.sleep(300.0)
    assert budget.spent == 900.0


def test_overlapping_waits_count_once_against_the_budget():
    clock = FakeClock()
    budget = WaitBudget("Example", 150.0, clock=clock)
    assert budget.reserve(100.0, "/a") is True  # a new pause
    clock.now = 1.0
    assert budget.reserve(100.0, "/b") is False  # another thread rate-limited during the same pause
    assert budget.spent == 101.0
    clock.now = 101.0
    with pytest.raises(WaitBudgetSpent):
        budget.reserve(50.0, "/c")
    assert budget.spent == 101.0


@pytest.mark.parametrize("nonsense", ["inf", "nan", "-5", "soon", "1e400", ""])
def test_nonsense_retry_after_backs_off_instead(server, nonsense):
    server.script.append(Reply(429, {}, [("Retry-After", nonsense)]))
    waits = Waits()
    assert get(server, waits).status_code == 200
    assert len(waits) == 1 and 0 <= waits[0] <= POLICY.backoff_base


def test_429_without_retry_after_backs_off(server):
    server.script.extend([Reply(429, {}), Reply(429, {})])
    waits = Waits()
    assert get(server, waits).status_code == 200
    assert len(waits) == 2 and 0 <= waits[0] <= 0.25 and 0 <= waits[1] <= 0.5


def test_rate_limit_that_never_lifts_is_a_clear_error(server):
    server.script.extend([Reply(429, {}, [("Retry-After", "1")])] * 10)
    with pytest.raises(APIError) as caught:
        get(server, Waits())
    assert caught.value.status == 429 and "Example" in str(caught.value)
    assert server.counters()["requests"] == POLICY.max_rate_limited


def test_retry_after_seconds_reads_numbers_and_dates():
    assert retry_after_seconds({"Retry-After": "12"}, default=5, cap=60) == 12
    assert retry_after_seconds({"Retry-After": "2.5"}, default=5, cap=60) == 2.5
    assert retry_after_seconds({"Retry-After": "100000"}, default=5, cap=60) == 60
    assert retry_after_seconds({}, default=5, cap=60) == 5
    assert retry_after_seconds({}, default=500, cap=60) == 60
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, default=5, cap=60) == 0
    assert retry_after_seconds({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, default=5, cap=60) == 60
    for nonsense in ("inf", "-inf", "nan", "-1", "later", "0x10"):
        assert retry_after_seconds({"Retry-After": nonsense}, default=5, cap=60) == 5


@pytest.mark.parametrize("truncation", [CUT_SHORT, BROKEN_CHUNKS])
def test_truncated_body_is_retried_like_a_dropped_connection(server, truncation):
    server.script.extend([truncation, truncation])
    waits = Waits()
    response = get(server, waits)
    assert response.json() == {"ok": True}
    assert server.counters()["requests"] == 3 and len(waits) == 2


def test_truncated_body_every_time_is_one_clear_error(server):
    server.script.extend([CUT_SHORT] * 10)
    with pytest.raises(ConnectionFailed) as caught:
        get(server, Waits())
    assert "Example" in str(caught.value) and "cut off" in str(caught.value) and "4 tries" in str(caught.value)


def test_dropped_connection_is_retried(server):
    server.script.append(Reply(0, drop=True))
    waits = Waits()
    assert get(server, waits).status_code == 200 and len(waits) == 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_refused_connection_names_the_service_never_the_query():
    waits = Waits()
    with pytest.raises(ConnectionFailed) as caught:
        get(None, waits, url=f"http://127.0.0.1:{closed_port()}/x?token=abc-secret-123")  # type: ignore[arg-type]
    message = str(caught.value)
    assert "cannot reach Example (127.0.0.1): connection refused (gave up after 4 tries)" == message
    assert len(waits) == 3


NOT_IDEMPOTENT = RetryPolicy(max_tries=4, backoff_base=0.25, idempotent=False)


def test_not_idempotent_never_resends_after_a_possible_delivery(server):
    server.script.append(Reply(503, {}))
    assert get(server, Waits(), NOT_IDEMPOTENT).status_code == 503
    server.script.append(Reply(0, drop=True))
    with pytest.raises(OutcomeUnknown) as caught:
        get(server, Waits(), NOT_IDEMPOTENT)
    assert isinstance(caught.value, APIError) and "Example" in str(caught.value)
    server.script.append(CUT_SHORT)
    with pytest.raises(OutcomeUnknown):
        get(server, Waits(), NOT_IDEMPOTENT)
    assert server.counters()["requests"] == 3


def test_not_idempotent_still_retries_429_and_refused_connections(server):
    server.script.append(Reply(429, {}, [("Retry-After", "2")]))
    waits = Waits()
    assert get(server, waits, NOT_IDEMPOTENT).status_code == 200 and waits == [2.0]
    with pytest.raises(ConnectionFailed):
        get(None, Waits(), NOT_IDEMPOTENT, url=f"http://127.0.0.1:{closed_port()}/x")  # type: ignore[arg-type]


# ---- the Freshservice client on top of the policy


def test_freshservice_waits_an_hourly_retry_after_in_full_and_refuses_a_longer_one(server):
    server.script.append(Reply(429, {}, [("Retry-After", "2400")]))
    clock = FakeClock()
    limiter = RateLimiter(window_seconds=60, clock=clock, sleep=clock.sleep)
    client = FreshserviceClient(server.url, SIM_KEY, limiter=limiter)
    assert client.get_json("departments") == {"ok": True}
    assert clock.now == 2400.0 and client.counters.rate_limited == 1
    server.script.append(Reply(429, {}, [("Retry-After", "100000")]))
    with pytest.raises(WaitBudgetSpent, match="Freshservice rate limit on /api/v2/departments"):
        client.get_json("departments")
    assert clock.now == 2400.0  # refused at once, not slept


def test_freshservice_429_without_retry_after_waits_a_window(server):
    server.script.append(Reply(429, {}))
    clock = FakeClock()
    client = FreshserviceClient(server.url, SIM_KEY, limiter=RateLimiter(window_seconds=60, clock=clock, sleep=clock.sleep))
    assert client.get_json("departments") == {"ok": True}
    assert clock.now == 60.0


def test_freshservice_retries_a_truncated_body(server):
    server.script.append(CUT_SHORT)
    client = FreshserviceClient(server.url, SIM_KEY, policy=freshservice_policy(backoff_base=0.01))
    assert client.get_json("departments") == {"ok": True}
    assert client.counters.retries == 1 and client.counters.requests == 2
