"""utils/monthly/batch.py on its own: the declared sources it loops over, and per-client isolation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.batch import MONTH, small_account
from tests.helpers.running import SIM_KEY
from tests.helpers.sources import batch_run, plain_settings, plain_source
from utils.core.errors import AuthenticationError
from utils.core.period import Period, report_period
from utils.monthly.batch import run_batch
from utils.services.freshservice_client import FreshserviceClient
from utils.sources import SOURCES

PERIOD = report_period(MONTH, "UTC")


def batch(simulator, home: Path, *sources, settings=None):
    client = FreshserviceClient(simulator.url, SIM_KEY)
    return run_batch(batch_run(client, home, PERIOD, *sources, settings=settings))


def test_a_failing_source_marks_only_that_source_and_the_report_is_still_built(start_simulator, home):
    account, (acme, beta, quiet) = small_account()
    simulator = start_simulator(account)
    pulled: list[str] = []

    def pull_extra(client_id: str, period: Period) -> dict:
        pulled.append(client_id)
        if client_id == str(beta):
            raise KeyError("tenant")  # not only our own errors: anything a source raises is isolated
        return {"period": period.as_dict(), "devices": int(client_id)}

    extra = plain_source("extra", pull_extra, client_field="extra_site")  # quiet has no site: not configured for it
    summary, index = batch(simulator, home, extra, settings=plain_settings(home, {str(acme): "1", str(beta): "2"}))
    by_id = {o.client["id"]: o for o in summary.outcomes}
    assert sorted(pulled) == sorted([str(acme), str(beta)])  # quiet is not configured for it
    assert [o.error for o in summary.outcomes] == [None, None, None]
    assert all(o.report_path and o.report_path.exists() for o in summary.outcomes)
    assert by_id[acme].steps["extra"].status == "ok" and by_id[quiet].steps["extra"].status == "skipped"
    assert by_id[beta].steps["extra"].status == "failed" and "KeyError" in by_id[beta].steps["extra"].detail
    assert summary.with_failed_steps == [by_id[beta]]
    assert json.loads((home / "raw_data" / f"extra_{acme}.json").read_text())["devices"] == acme
    assert not (home / "raw_data" / f"extra_{beta}.json").exists()
    assert index is not None
    assert "extra failed: unexpected KeyError" in index.read_text()


def test_a_refused_source_key_is_not_tried_again(start_simulator, home):
    account, _ids = small_account()
    simulator = start_simulator(account)
    calls: list[str] = []

    def refused(client_id: str, period: Period) -> dict:
        calls.append(client_id)
        raise AuthenticationError("the Microsoft 365 secret was refused (401)")

    summary, _index = batch(simulator, home, plain_source("m365", refused))
    assert len(calls) == 1
    assert [o.steps["m365"].detail for o in summary.outcomes] == ["the Microsoft 365 secret was refused (401)"] * 3
    assert all(o.report_path is not None and o.report_path.exists() for o in summary.outcomes)


def test_pull_info_exits_1_when_a_source_failed(start_simulator, home, run_pull_info, monkeypatch):

    account, _ids = small_account()
    simulator = start_simulator(account)

    def broken(client_id: str, period: Period) -> dict:
        raise RuntimeError("boom\nforged line")

    monkeypatch.setattr("utils.sources.SOURCES", (*SOURCES, plain_source("s1", broken)))
    result = run_pull_info(simulator)
    assert result.returncode == 1
    assert "3 clients done, 0 failed" in result.stderr
    assert "s1 failed: Acme Law" in result.stderr and "unexpected RuntimeError: boom forged line" in result.stderr


def test_a_failing_shared_sweep_falls_back_to_each_client_on_its_own(home, run_pull_info, start_simulator):
    account, ids = small_account()
    simulator = start_simulator(account, endpoint_status={"tickets.list": 403})
    result = run_pull_info(simulator)
    assert result.returncode == 0, result.stderr
    assert "warning: the shared ticket sweep failed" in result.stderr
    assert "3 clients done, 0 failed" in result.stderr
    for client_id, count in zip(ids, (5, 3, 0), strict=True):
        raw = json.loads((home / "raw_data" / f"freshservice_{client_id}.json").read_text())
        assert len(raw["tickets"]) == count
        assert list((home / "reports" / MONTH).glob(f"*-{client_id}.html"))


def test_an_unexpected_error_for_one_client_marks_it_failed_and_the_others_complete(start_simulator, home, run_pull_info):
    account, (acme, beta, quiet) = small_account()
    account.departments[beta]["custom_fields"] = ["not", "a", "mapping"]  # a shape no code expects
    simulator = start_simulator(account)
    result = run_pull_info(simulator)
    assert result.returncode == 1
    assert "2 clients done, 1 failed" in result.stderr
    index = (home / "reports" / MONTH / "index.html").read_text()
    assert "Beta Dental" in index and "failed: " in index
    assert list((home / "reports" / MONTH).glob(f"*-{acme}.html")) and list((home / "reports" / MONTH).glob(f"*-{quiet}.html"))
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("clients", [(), ("--client", "first")])
def test_unreadable_reference_data_is_a_warning_in_every_report_not_a_failure(home, run_pull_info, clients, start_simulator):
    account, ids = small_account()
    simulator = start_simulator(account, endpoint_status={"agents": 400})
    result = run_pull_info(simulator, *[str(ids[0]) if arg == "first" else arg for arg in clients])
    assert result.returncode == 0, result.stderr
    assert "warning: agent names and custom status labels could not be read" in result.stderr
    raw = json.loads((home / "raw_data" / f"freshservice_{ids[0]}.json").read_text())
    assert any("agent names" in warning for warning in raw["warnings"])
    assert simulator.counters()["by_endpoint"]["agents"]["requests"] == 1
