"""The Freshservice puller against the simulator: the right tickets, complete, cheaply."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from simulators.freshservice_data import Account
from tests.helpers.running import PROJECT_ROOT, SIM_KEY, default_signals, run_script
from tests.helpers.timing import SkippedTime
from utils.core.errors import ConfigError
from utils.core.period import report_period, resolve_timezone
from utils.services.freshservice_client import FreshserviceClient, freshservice_policy
from utils.services.freshservice_pull import AccountContext, pull_client_month
from utils.sources.freshservice_command import main as puller_main

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OCTOBER_UTC = report_period("2026-10", "UTC", NOW)
DOCUMENT_KEYS = {"schema_version", "source", "generated_at", "freshservice_url", "client", "entity_type", "period",
                 "tickets", "trend", "agents", "warnings", "api_usage", "usage"}
TICKET_KEYS = {"stats", "requester", "tags", "conversations", "time_entries", "csat", "status_text", "priority_text", "source_text"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def client_for(simulator, **options) -> FreshserviceClient:
    window = options["limiter"].window_seconds if "limiter" in options else 60.0  # the policy's waits follow the pacing window
    options.setdefault("policy", freshservice_policy(window, backoff_base=0.01))
    return FreshserviceClient(simulator.url, SIM_KEY, **options)


def pull(simulator, client_id, period=OCTOBER_UTC, **options) -> dict:
    context = AccountContext(client_for(simulator, **options.pop("client_options", {})))
    return pull_client_month(context, str(client_id), period, now=NOW, **options)


def ids(document: dict) -> set[int]:
    return {ticket["id"] for ticket in document["tickets"]}


@pytest.fixture
def two_clients():
    account = Account(now=NOW)
    ours = account.add_department("Ours Ltd", custom_fields={"type_of_client": "Managed"}, prime_user_name="Pat Prime", head_name="Hal Head")
    theirs = account.add_department("Theirs Inc")
    agent = account.add_agent("Sam", "Agent")
    requester = account.add_requester("Rita", "Requester", email="rita@ours.example")
    return account, ours["id"], theirs["id"], agent["id"], requester["id"]


# -- the period --------------------------------------------------------------------------------

@pytest.mark.parametrize("zone, start, end", [
    ("UTC", "2026-10-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00"),
    ("America/New_York", "2026-10-01T00:00:00-04:00", "2026-11-01T00:00:00-04:00"),
    ("Europe/Berlin", "2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00"),
    ("Australia/Sydney", "2026-10-01T00:00:00+10:00", "2026-11-01T00:00:00+11:00"),
])
def test_previous_month_in_several_zones(zone, start, end):
    period = report_period(None, zone, NOW)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)
    assert period.label == "October 2026" and period.month == "2026-10"


def test_january_and_december():
    period = report_period(None, "UTC", datetime(2027, 1, 15, tzinfo=UTC))
    assert period.month == "2026-12" and period.end.isoformat() == "2027-01-01T00:00:00+00:00"
    period = report_period("2026-01", "America/New_York", NOW)
    assert period.start.isoformat() == "2026-01-01T00:00:00-05:00" and period.end.isoformat() == "2026-02-01T00:00:00-05:00"
    assert period.label == "January 2026"


def test_previous_month_follows_the_report_zone():
    # 2026-11-01T02:00Z is still October 31st in New York: the previous full month there is September.
    assert report_period(None, "America/New_York", datetime(2026, 11, 1, 2, 0, tzinfo=UTC)).month == "2026-09"
    assert report_period(None, "UTC", datetime(2026, 11, 1, 2, 0, tzinfo=UTC)).month == "2026-10"


@pytest.mark.parametrize("month", ["2026-13", "26-10", "October", "2026-1"])
def test_malformed_month(month):
    with pytest.raises(ConfigError):
        report_period(month, "UTC", NOW)


def test_future_month_and_unknown_zone():
    with pytest.raises(ConfigError):
        report_period("2026-12", "UTC", NOW)
    with pytest.raises(ConfigError):
        resolve_timezone("Mars/Olympus_Mons")


# -- which tickets -------------------------------------------------------------------------------

def test_new_york_boundary_ticket_lands_in_september(start_simulator, two_clients):
    account, ours, *_ = two_clients
    boundary = account.add_ticket(ours, "2026-10-01T03:30:00Z", subject="Late-night printer jam",
                                  stats={"resolved_at": "2026-10-01T03:45:00Z", "first_responded_at": "2026-10-01T03:35:00Z"})
    simulator = start_simulator(account)
    september_ny = pull(simulator, ours, report_period("2026-09", "America/New_York", NOW))
    october_ny = pull(simulator, ours, report_period("2026-10", "America/New_York", NOW))
    october_utc = pull(simulator, ours, OCTOBER_UTC)
    assert boundary["id"] in ids(september_ny)
    assert boundary["id"] not in ids(october_ny)
    assert boundary["id"] in ids(october_utc)


def test_every_kind_of_ticket_that_touches_the_month_is_in(start_simulator, two_clients):
    account, ours, theirs, agent, _ = two_clients
    created_in = account.add_ticket(ours, "2026-10-05T10:00:00Z", subject="created in October")
    resolved_in = account.add_ticket(ours, "2026-09-20T10:00:00Z", subject="created in September, resolved in October",
                                     stats={"resolved_at": "2026-10-03T10:00:00Z"}, status=4)
    created_resolved_next = account.add_ticket(ours, "2026-10-30T10:00:00Z", subject="created in October, resolved in November",
                                               stats={"resolved_at": "2026-11-02T10:00:00Z"}, status=4)
    old_open = account.add_ticket(ours, "2026-05-01T10:00:00Z", subject="open since May", status=2, updated_at="2026-05-02T10:00:00Z")
    custom_open = account.add_ticket(ours, "2026-06-01T10:00:00Z", subject="waiting on customer", status=6, updated_at="2026-06-02T10:00:00Z")
    open_at_end_resolved_later = account.add_ticket(ours, "2026-08-01T10:00:00Z", subject="resolved in November",
                                                    stats={"resolved_at": "2026-11-10T10:00:00Z"}, status=5)
    time_logged = account.add_ticket(ours, "2026-07-01T10:00:00Z", subject="time logged in October",
                                     stats={"resolved_at": "2026-07-02T10:00:00Z"}, status=5)
    account.add_time_entry(time_logged["id"], "1:30", executed_at="2026-10-10T10:00:00Z", created_at="2026-10-10T11:00:00Z", agent_id=agent)
    csat_in = account.add_ticket(ours, "2026-09-25T10:00:00Z", subject="CSAT in October",
                                 stats={"resolved_at": "2026-09-28T10:00:00Z"}, status=5)
    account.set_csat(csat_in["id"], created_at="2026-10-02T09:00:00Z", overall_rating=101)
    untouched = account.add_ticket(ours, "2026-08-01T10:00:00Z", subject="resolved in August, closed in October",
                                   stats={"resolved_at": "2026-08-02T10:00:00Z", "closed_at": "2026-10-02T10:00:00Z"}, status=5)
    after = account.add_ticket(ours, "2026-11-03T10:00:00Z", subject="created in November")
    other_client = account.add_ticket(theirs, "2026-10-06T10:00:00Z", subject="another client's ticket")
    spam = account.add_ticket(ours, "2026-10-07T10:00:00Z", subject="spam", spam=True)
    simulator = start_simulator(account)
    document = pull(simulator, ours)
    expected = [created_in, resolved_in, created_resolved_next, old_open, custom_open, open_at_end_resolved_later, time_logged, csat_in]
    assert ids(document) == {t["id"] for t in expected}
    for excluded in (untouched, after, other_client, spam):
        assert excluded["id"] not in ids(document)
    assert all(ticket["department_id"] == ours for ticket in document["tickets"])
    by_id = {ticket["id"]: ticket for ticket in document["tickets"]}
    assert by_id[custom_open["id"]]["status_text"] == "Waiting on Customer"
    assert by_id[csat_in["id"]]["csat"]["overall_rating"] == 101
    assert by_id[created_in["id"]]["csat"] is None


def test_more_than_300_tickets_in_a_month_all_arrive(start_simulator, two_clients):
    account, ours, *_ = two_clients
    start = utc("2026-10-01T00:00:00Z")
    made = {account.add_ticket(ours, start + timedelta(hours=2 * n), subject=f"Ticket {n}",
                               stats={"resolved_at": (start + timedelta(hours=2 * n + 1)).isoformat()}, status=4)["id"] for n in range(340)}
    simulator = start_simulator(account)
    document = pull(simulator, ours)
    assert ids(document) == made
    assert len(document["tickets"]) == 340
    assert document["trend"][-1] == {"month": "2026-10", "created": 340, "resolved": None}


def test_many_conversations_and_time_entries_all_arrive(start_simulator, two_clients):
    account, ours, _, agent, requester = two_clients
    busy = account.add_ticket(ours, "2026-10-05T10:00:00Z", subject="busy", requester_id=requester)
    for n in range(130):
        account.add_conversation(busy["id"], created_at=(utc("2026-10-05T11:00:00Z") + timedelta(minutes=n)).isoformat(),
                                 incoming=n % 2 == 0, body_text=f"message {n}")
    for _n in range(12):
        account.add_time_entry(busy["id"], "0:15", executed_at="2026-10-06T10:00:00Z", agent_id=agent)
    twelve = account.add_ticket(ours, "2026-10-06T10:00:00Z", subject="twelve")
    for n in range(12):
        account.add_conversation(twelve["id"], created_at=(utc("2026-10-06T11:00:00Z") + timedelta(minutes=n)).isoformat())
    simulator = start_simulator(account)
    document = pull(simulator, ours)
    by_id = {ticket["id"]: ticket for ticket in document["tickets"]}
    assert len(by_id[busy["id"]]["conversations"]) == 130
    assert len(by_id[busy["id"]]["time_entries"]) == 12
    assert len(by_id[twelve["id"]]["conversations"]) == 12
    assert by_id[busy["id"]]["requester"]["name"] == "Rita Requester"


def test_forbidden_requesters_and_agents_become_warnings(start_simulator, two_clients):
    account, ours, *_ = two_clients
    account.add_ticket(ours, "2026-10-05T10:00:00Z", subject="hello")
    simulator = start_simulator(account, forbidden_requesters=True, forbidden_agents=True)
    document = pull(simulator, ours)
    assert len(document["tickets"]) == 1
    assert document["tickets"][0]["requester"] is None
    assert document["agents"] == {}
    assert any("requester" in warning and "403" in warning for warning in document["warnings"])
    assert any("agent" in warning and "403" in warning for warning in document["warnings"])


def comparable(document: dict) -> dict:
    return {key: value for key, value in document.items() if key not in ("generated_at", "api_usage", "usage", "freshservice_url")}


def test_429_storm_and_5xx_faults_give_the_same_file(start_simulator):
    from simulators.demo_freshservice import build_demo_account

    account = build_demo_account(now=NOW)
    sizes = {d: sum(1 for t in account.tickets.values() if t["department_id"] == d) for d in account.departments}
    client_id = sorted(sizes, key=sizes.get)[-2]  # the second-largest client: over a hundred tickets, under a minute
    calm = start_simulator(account)
    reference = pull(calm, client_id)
    stormy = start_simulator(account, rate_limit_total=60, rate_window_seconds=1.0, error_rate=0.05)
    waits = SkippedTime(stormy)  # the client's waits for the window pass at once, on both sides
    stormy_document = pull(stormy, client_id, client_options={"limiter": waits.limiter(window_seconds=1.0), "policy": freshservice_policy(1.0, max_tries=8, backoff_base=0.01)})
    assert waits.skipped >= 1.0  # it did wait for windows to reset
    assert stormy.counters()["rate_limited"] >= 1
    assert any(code >= 500 for code in stormy.counters()["status"])
    assert comparable(stormy_document) == comparable(reference)
    assert len(reference["tickets"]) > 50


def test_credits_per_ticket_on_the_demo_account(start_simulator):
    from simulators.demo_freshservice import build_demo_account

    account = build_demo_account(now=NOW)
    simulator = start_simulator(account)
    credits = tickets = 0
    for client_id in account.departments:
        simulator.reset_counters()
        document = pull(simulator, client_id)
        # The file's own count agrees with what the server charged.
        assert document["api_usage"]["credits"] == simulator.counters()["credits"]
        credits += document["api_usage"]["credits"]
        tickets += len(document["tickets"])
        if len(document["tickets"]) > 300:
            assert document["api_usage"]["credits"] / len(document["tickets"]) <= 3.0
    assert tickets > 500
    assert credits / tickets <= 3.0


def test_document_shape(start_simulator, two_clients):
    account, ours, _, agent, requester = two_clients
    ticket = account.add_ticket(ours, "2026-10-05T10:00:00Z", subject="shape", requester_id=requester, responder_id=agent, tags=["proactive"])
    account.add_time_entry(ticket["id"], "105:30", executed_at="2026-10-05T12:00:00Z", agent_id=agent)
    simulator = start_simulator(account)
    document = json.loads(json.dumps(pull(simulator, ours)))
    assert set(document) == DOCUMENT_KEYS
    assert document["schema_version"] == 1 and document["source"] == "freshservice" and document["entity_type"] == "department"
    assert document["client"]["name"] == "Ours Ltd" and document["client"]["client_type"] == "Managed"
    assert document["client"]["prime_user_name"] == "Pat Prime" and document["client"]["head_name"] == "Hal Head"
    assert document["period"] == {"kind": "month", "start": "2026-10-01T00:00:00+00:00", "end": "2026-11-01T00:00:00+00:00", "timezone": "UTC", "label": "October 2026"}
    assert [entry["month"] for entry in document["trend"]] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert document["agents"] == {str(agent): "Sam Agent"}
    assert set(document["api_usage"]) == {"requests", "credits", "retries", "rate_limited", "seconds_waited", "seconds_total",
                                          "csat_requests", "csat_probes"}
    record = document["tickets"][0]
    assert TICKET_KEYS <= set(record)
    assert record["stats"]["created_at"] == "2026-10-05T10:00:00Z"
    assert record["tags"] == ["proactive"]
    assert record["time_entries"][0]["time_spent"] == "105:30"
    assert record["priority_text"] == "Low" and record["source_text"] == "Portal"


# -- the script -----------------------------------------------------------------------------------

def script_env(simulator) -> dict[str, str]:
    return {"FRESHSERVICE_URL": simulator.url, "FRESHSERVICE_API_KEY": SIM_KEY, "REPORT_TIMEZONE": "UTC"}


def test_script_writes_the_file_and_a_summary(start_simulator, two_clients, home):
    account, ours, *_ = two_clients
    account.add_ticket(ours, "2026-10-05T10:00:00Z", subject="hello")
    simulator = start_simulator(account)
    result = run_script("data_pullers/freshservice.py", str(ours), "--month", "2026-10", env=script_env(simulator))
    assert result.returncode == 0, result.stderr
    path = home / "raw_data" / f"freshservice_{ours}.json"
    document = json.loads(path.read_text())
    assert len(document["tickets"]) == 1
    assert "1 ticket," in result.stderr and str(path) in result.stderr and "credits" in result.stderr
    assert SIM_KEY not in result.stderr + result.stdout


@pytest.mark.parametrize("args, code", [
    (["abc"], 2),  # a usage error, like a malformed --month
    (["999999"], 1),
    (["{ours}", "--month", "2026-13"], 2),
    (["{ours}", "--month", "2099-01"], 2),
    (["{ours}", "--tz", "Nowhere/Land"], 2),
])
def test_script_bad_input_keeps_the_old_file(start_simulator, two_clients, home, args, code, run_in_process):
    account, ours, *_ = two_clients
    simulator = start_simulator(account)
    old = home / "raw_data" / f"freshservice_{ours}.json"
    old.parent.mkdir()
    old.write_text('{"old": true}')
    result = run_in_process(puller_main, *[a.format(ours=ours) for a in args], env=script_env(simulator))
    assert result.returncode == code
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert old.read_text() == '{"old": true}'


def test_failing_ticket_details_write_nothing(start_simulator, two_clients, home, run_in_process):
    account, ours, *_ = two_clients
    for n in range(5):
        account.add_ticket(ours, f"2026-10-0{n + 1}T10:00:00Z", subject=f"t{n}")
    simulator = start_simulator(account, failing_department_ids={ours})
    result = run_in_process(puller_main, str(ours), "--month", "2026-10", env=script_env(simulator))
    assert result.returncode == 1
    assert "500" in result.stderr and "Traceback" not in result.stderr
    assert not (home / "raw_data" / f"freshservice_{ours}.json").exists()


def test_ctrl_c_exits_130_and_keeps_the_old_file(start_simulator, two_clients, home):
    account, ours, *_ = two_clients
    for n in range(60):
        account.add_ticket(ours, utc("2026-10-02T10:00:00Z") + timedelta(hours=n), subject=f"t{n}")
    simulator = start_simulator(account, latency_seconds=0.05)
    old = home / "raw_data" / f"freshservice_{ours}.json"
    old.parent.mkdir()
    old.write_text('{"old": true}')
    process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "data_pullers/freshservice.py"), str(ours), "--month", "2026-10",
                                "--workers", "1"], env={**os.environ, **script_env(simulator)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    deadline = time.monotonic() + 20
    while simulator.counters()["requests"] < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert old.read_text() == '{"old": true}'
    assert [p.name for p in old.parent.iterdir()] == [old.name]
