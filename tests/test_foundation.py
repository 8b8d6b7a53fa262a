"""The foundation over real HTTP: configuration, the Freshservice client, atomic files, the client manager."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from datetime import timedelta

import pytest

from simulators.freshservice_data import Account
from tests.conftest import PROJECT_ROOT, SIM_KEY, SkippedTime, run_in_threads, run_script
from utils.core import files
from utils.core.errors import APIError, AuthenticationError, ConfigError, ConnectionFailed, DataError, ForbiddenError, NotFoundError
from utils.core.files import read_json, write_json_atomic
from utils.core.secrets import load_api_key
from utils.core.settings import load_settings
from utils.core.urls import freshservice_url
from utils.services import client_list as client_manager
from utils.services.freshservice_client import USER_AGENT, FreshserviceClient, RateLimiter, client_from_settings, freshservice_policy


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


# -- configuration ---------------------------------------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    ("acme", "https://acme.freshservice.com"),
    ("acme.freshservice.com", "https://acme.freshservice.com"),
    ("https://acme.freshservice.com/", "https://acme.freshservice.com"),
    ("https://Acme.Freshservice.com/api/v2", "https://acme.freshservice.com"),
    ("http://127.0.0.1:8089", "http://127.0.0.1:8089"),
    ("http://127.5.6.7:80", "http://127.5.6.7:80"),
    ("http://localhost:8089", "http://localhost:8089"),
    ("http://[::1]:8089", "http://[::1]:8089"),
])
def test_url_forms_are_normalised(given, expected):
    assert freshservice_url(given) == expected


@pytest.mark.parametrize("given, words", [
    ("http://acme.freshservice.com", "refusing plain http://"),
    ("http://10.0.0.5:8080", "refusing plain http://"),
    ("http://128.0.0.1", "refusing plain http://"),
    ("ftp://acme.freshservice.com", "malformed"),
    ("acme corp", "malformed"),
    ("https://acme.freshservice.com/helpdesk/tickets", "without a path"),
    ("", "no Freshservice URL"),
    (None, "no Freshservice URL"),
])
def test_bad_urls_are_one_line_configuration_errors(given, words):
    with pytest.raises(ConfigError) as caught:
        freshservice_url(given)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_key_precedence_environment_then_token_file(tmp_path, caplog):
    token = tmp_path / "token.txt"
    token.write_text("  file-key-123 \n")
    token.chmod(0o600)
    assert load_api_key(tmp_path, {}) == "file-key-123"
    assert load_api_key(tmp_path, {"FRESHSERVICE_API_KEY": "env-key-456"}) == "env-key-456"
    assert load_api_key(tmp_path, {"FRESHSERVICE_API_KEY": "   "}) == "file-key-123"


def test_missing_or_empty_key_names_both_places(tmp_path):
    for content in (None, "", "  \n"):
        if content is not None:
            (tmp_path / "token.txt").write_text(content)
        with pytest.raises(ConfigError) as caught:
            load_api_key(tmp_path, {})
        assert "FRESHSERVICE_API_KEY" in str(caught.value) and "token.txt" in str(caught.value)


def test_token_readable_by_others_warns_once(tmp_path, caplog):
    token = tmp_path / "token.txt"
    token.write_text("file-key-123")
    token.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        load_api_key(tmp_path, {})
        load_api_key(tmp_path, {})
    warnings = [r for r in caplog.records if "readable by other users" in r.getMessage()]
    assert len(warnings) == 1
    assert "file-key-123" not in caplog.text


def test_url_flag_beats_environment_and_home_defaults_to_env(home, monkeypatch):
    monkeypatch.setenv("FRESHSERVICE_URL", "envdesk")
    monkeypatch.setenv("FRESHSERVICE_API_KEY", "k-123456")
    assert client_from_settings(load_settings()).base_url == "https://envdesk.freshservice.com"
    assert client_from_settings(load_settings().with_freshservice_url("flagdesk")).base_url == "https://flagdesk.freshservice.com"
    assert load_settings().home == home


def test_reserve_setting(home):
    def reserve(value: str | None) -> float:
        return load_settings(home, {} if value is None else {"FRESHSERVICE_RATE_RESERVE": value}).freshservice.rate_reserve

    assert reserve(None) == 0.10
    assert reserve("25%") == 0.25
    assert reserve("0.05") == 0.05
    with pytest.raises(ConfigError):
        reserve("lots")
    with pytest.raises(ConfigError):
        reserve("1.5")


# -- the client over HTTP ------------------------------------------------------------------------

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




class FakeClock:
    """Time that moves only when somebody sleeps, so pacing can be checked exactly."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


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


# -- files -----------------------------------------------------------------------------------------

def test_atomic_write_keeps_old_file_when_interrupted(tmp_path, monkeypatch):
    folder = tmp_path / "atomic"
    target = folder / "data.json"
    write_json_atomic(target, {"version": 1})

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_json_atomic(target, {"version": 2})
    assert read_json(target) == {"version": 1}
    assert [p.name for p in folder.iterdir()] == ["data.json"]  # no temporary file left behind


def test_atomic_write_gives_normal_permissions_and_keeps_existing_ones(tmp_path):
    fresh = write_json_atomic(tmp_path / "fresh.json", {})
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    private = tmp_path / "private.json"
    private.write_text("{}")
    private.chmod(0o600)
    write_json_atomic(private, {"a": 1})
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_read_json_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError) as caught:
        read_json(bad, "raw file")
    assert str(bad) in str(caught.value) and "not valid JSON" in str(caught.value)


# -- the client manager, end to end ----------------------------------------------------------------

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
    simulator.settings.garbage_response = "html"
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


def test_every_script_has_help():
    for script in ("utils/client_manager.py", "data_pullers/freshservice.py", "build_report.py", "pull_info.py"):
        assert (PROJECT_ROOT / script).exists(), script
        result = run_script(script, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout, script
