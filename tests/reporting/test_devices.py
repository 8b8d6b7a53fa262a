"""Issue 19: devices from Freshservice's assets: the simulator, the puller, the summary and the review's Devices part."""

from __future__ import annotations

from datetime import UTC, date, datetime

import requests

from simulators.freshservice_data import Account
from tests.helpers.reports import synthetic_month
from tests.helpers.running import SIM_KEY
from utils.core.period import parse_period
from utils.core.settings import ReportSettings
from utils.reporting.devices import devices_summary
from utils.reporting.report import build_outputs
from utils.services.freshservice_assets import fetch_devices
from utils.services.freshservice_client import FreshserviceClient, freshservice_policy
from utils.services.freshservice_pull import AccountContext, pull_client_month

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
QUARTER = parse_period("UTC", quarter="2026-Q3", now=NOW)


def client_for(simulator) -> FreshserviceClient:
    return FreshserviceClient(simulator.url, SIM_KEY, policy=freshservice_policy(60.0, backoff_base=0.01))


def account_with_devices(count: int = 35) -> tuple[Account, int, int]:
    account = Account(now=NOW)
    ours, bare = account.add_department("Ours Ltd")["id"], account.add_department("No Assets Inc")["id"]
    for number in range(count):
        kind = "Laptop" if number % 3 else "Server"
        account.assets.add_asset(ours, f"OURS-{number:03d}", kind, acquired=date(2020 + number % 6, 1, 15),
                                 warranty_ends=date(2026, 9, 1) if number % 5 == 0 else date(2026, 12, 1) if number % 5 == 1 else date(2029, 1, 1))
    account.assets.add_asset(None, "SPARE-001", "Laptop")  # in no department: never any client's
    return account, ours, bare


def test_the_simulator_serves_30_assets_a_page_for_3_credits_with_type_fields(start_simulator):
    account, ours, _ = account_with_devices()
    simulator = start_simulator(account)
    auth = (SIM_KEY, "X")
    first = requests.get(f"{simulator.url}/api/v2/assets", params={"filter": f'"department_id:{ours}"', "include": "type_fields"},
                         auth=auth, timeout=5)
    assert first.status_code == 200 and len(first.json()["assets"]) == 30
    assert any(key.startswith("warranty_expiry_date_") for key in first.json()["assets"][0]["type_fields"])
    assert simulator.counters()["by_endpoint"]["assets"]["credits"] == 3
    second = requests.get(f"{simulator.url}/api/v2/assets", params={"filter": f'"department_id:{ours}"', "page": 2}, auth=auth, timeout=5)
    assert len(second.json()["assets"]) == 5 and "type_fields" not in second.json()["assets"][0]
    for params in ({"per_page": 100}, {"page": 41}, {"filter": "department_id:1"}, {"include": "requester"}):
        assert requests.get(f"{simulator.url}/api/v2/assets", params=params, auth=auth, timeout=5).status_code == 400


def test_a_quarter_pull_keeps_the_clients_devices_and_a_month_pull_spends_nothing_on_them(start_simulator):
    account, ours, bare = account_with_devices()
    simulator = start_simulator(account)
    warnings: list[str] = []
    devices = fetch_devices(client_for(simulator), ours, warnings)
    assert devices is not None and len(devices) == 35 and warnings == []
    assert {item["type"] for item in devices} == {"Laptop", "Server"}
    assert next(item for item in devices if item["name"] == "OURS-000") == {
        "id": devices[-1]["id"], "name": "OURS-000", "type": "Server", "acquired": "2020-01-15", "warranty_ends": "2026-09-01"}
    quarter = pull_client_month(AccountContext(client_for(simulator)), str(ours), QUARTER, now=NOW)
    assert len(quarter["devices"]) == 35
    simulator.reset_counters()
    month = pull_client_month(AccountContext(client_for(simulator)), str(ours), parse_period("UTC", month="2026-10", now=NOW), now=NOW)
    assert "devices" not in month and simulator.counters()["by_endpoint"]["assets"]["requests"] == 0
    without = pull_client_month(AccountContext(client_for(simulator)), str(bare), QUARTER, now=NOW)
    assert "devices" not in without


def test_an_account_that_refuses_assets_has_no_devices(start_simulator):
    account, ours, _ = account_with_devices()
    simulator = start_simulator(account, endpoint_status={"assets": 403})
    assert fetch_devices(client_for(simulator), ours, []) is None


def _devices(*warranties):
    return [{"id": n, "name": f"PC-{n}", "type": "Laptop", "acquired": "2022-03-01" if n % 2 else None, "warranty_ends": w}
            for n, w in enumerate(warranties)]


def test_devices_by_type_age_and_warranty_as_of_the_quarters_end():
    summary = devices_summary({"devices": _devices("2026-09-30", "2026-10-01", "2026-12-29", "2026-12-30", None)}, QUARTER)
    assert summary is not None and summary["total"] == "5" and summary["warranty_known"] is True
    assert (summary["warranty_ended"], summary["warranty_ending"], summary["unknown_warranty"]) == (1, 2, 1)
    assert [row["name"] for row in summary["warranty_rows"]] == ["PC-0", "PC-1", "PC-2"]
    assert [row["label"] for row in summary["by_age"]] == ["3 to 5 years", "Not recorded"]


def test_devices_without_warranty_data_say_so_and_a_client_without_devices_shows_nothing():
    summary = devices_summary({"devices": _devices(None, None)}, QUARTER)
    assert summary is not None and summary["warranty_known"] is False and summary["warranty_ended"] == 0
    raw = synthetic_month(30, period=QUARTER.as_dict())
    html, _, _ = build_outputs(dict(raw, devices=_devices(None, None)), settings=ReportSettings())
    assert "Devices</h2>" in html and "No warranty dates are recorded" in html and "out of warranty and" not in html
    assert devices_summary({"devices": []}, QUARTER) is None and devices_summary(raw, QUARTER) is None
    html, _, _ = build_outputs(raw, settings=ReportSettings())
    assert "Devices</h2>" not in html and "warranty" not in html.lower()
    html, _, _ = build_outputs(dict(raw, devices=_devices("2026-09-01", "2027-06-01")), settings=ReportSettings())
    assert "1 out of warranty and 0 ending within 90 days" in html and "Plan to replace or extend the warranty of 1 device." in html
