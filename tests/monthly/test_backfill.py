"""pull_info.py --backfill: earlier months into the history, its cost, skipping, and the report that follows."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers.batch import three_months

LINE = re.compile(r"Backfill: (\d+) months? stored for (\d+) clients?, (\d+) already in the history; (\d+) credits in (\d+) requests[.;]")




def summary_line(stdout: str) -> tuple[int, ...]:
    match = LINE.search(stdout)
    assert match, stdout
    return tuple(int(group) for group in match.groups())


def history_files(home: Path) -> list[str]:
    folder = home / "history"
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*.json")) if folder.exists() else []


def test_backfill_stores_earlier_months_only_and_prints_the_credits(start_simulator, home, run_pull_info):
    account, (acme, beta) = three_months()
    simulator = start_simulator(account)
    result = run_pull_info(simulator, "--backfill", "2")
    assert result.returncode == 0, result.stderr
    stored, clients, skipped, credits, requests = summary_line(result.stdout)
    assert (stored, clients, skipped) == (4, 2, 0)
    counted = simulator.counters()
    assert credits == counted["credits"] > 0 and requests == counted["requests"]  # the run was the backfill alone
    assert history_files(home) == [f"{acme}/2026-08.json", f"{acme}/2026-09.json", f"{beta}/2026-08.json", f"{beta}/2026-09.json"]
    assert not (home / "reports").exists() and not list((home / "raw_data").glob("freshservice_*.json"))

    august = json.loads((home / "history" / str(acme) / "2026-08.json").read_text())
    september = json.loads((home / "history" / str(acme) / "2026-09.json").read_text())
    assert august["volume"]["created"] == 2 and september["volume"]["created"] == 3 and september["volume"]["resolved"] == 3
    assert september["previous"]["month"] == "2026-08" and september["previous"]["volume"]["created"] == 2
    # Both months and both clients came from one shared sweep: the list endpoint was read once, not per month.
    assert counted["by_endpoint"]["tickets.list"]["requests"] == 1


def test_months_in_the_history_are_skipped_unless_refreshed(start_simulator, home, run_pull_info):
    account, (acme, _beta) = three_months()
    simulator = start_simulator(account)
    assert run_pull_info(simulator, "--backfill", "2").returncode == 0
    before = (home / "history" / str(acme) / "2026-09.json").stat().st_mtime_ns

    simulator.reset_counters()
    again = run_pull_info(simulator, "--backfill", "2")
    assert again.returncode == 0
    assert summary_line(again.stdout) == (0, 0, 4, 0, 0)
    assert simulator.counters()["requests"] == 0  # nothing asked of Freshservice at all
    assert (home / "history" / str(acme) / "2026-09.json").stat().st_mtime_ns == before

    (home / "history" / str(acme) / "2026-08.json").unlink()
    one = run_pull_info(simulator, "--backfill", "2")
    assert summary_line(one.stdout)[:3] == (1, 1, 3)
    assert summary_line(one.stdout)[3] > 0

    simulator.reset_counters()
    refreshed = run_pull_info(simulator, "--backfill", "2", "--refresh-history")
    stored, clients, skipped, credits, _ = summary_line(refreshed.stdout)
    assert (stored, clients, skipped) == (4, 2, 0)
    assert credits == simulator.counters()["credits"] > 0


def test_a_backfilled_history_gives_the_next_report_its_trend_and_changes(start_simulator, home, run_pull_info):
    account, (acme, _beta) = three_months()
    simulator = start_simulator(account)
    assert run_pull_info(simulator, "--backfill", "5", "--client", str(acme)).returncode == 0
    assert history_files(home) == [f"{acme}/2026-{month:02d}.json" for month in range(5, 10)]  # empty months too
    result = run_pull_info(simulator, "--client", str(acme))
    assert result.returncode == 0, result.stderr
    metrics_file = next((home / "reports" / "2026-10").glob(f"*-{acme}.json"))
    metrics = json.loads(metrics_file.read_text())
    by_month = {item["month"]: item for item in metrics["trend"]}
    assert by_month["2026-08"]["resolved"] == 2 and by_month["2026-09"]["resolved"] == 3
    assert by_month["2026-09"]["resolution_median_s"] == 5 * 3600
    assert metrics["previous"]["volume"] == {"created": 3, "resolved": 3, "open_at_end": 0}
    assert (home / "history" / str(acme) / "2026-10.json").exists()  # the built month joins the history


def test_backfill_usage_errors_exit_2(start_simulator, home, run_pull_info):
    account, _ = three_months()
    simulator = start_simulator(account)
    for args in (["--backfill", "0"], ["--backfill", "x"], ["--backfill", "25"], ["--refresh-history"]):
        result = run_pull_info(simulator, *args)
        assert result.returncode == 2, args
        assert "--backfill" in result.stderr or "refresh-history" in result.stderr
    assert simulator.counters()["requests"] == 0


def test_a_failing_client_fails_alone(start_simulator, home, run_pull_info):
    account, (acme, beta) = three_months()
    simulator = start_simulator(account)
    clients = [{"id": acme, "name": "Acme Law", "entity_type": "department"},
               {"id": 999, "name": "Gone Ltd", "entity_type": "department"},  # no longer in the helpdesk: 404
               {"id": beta, "name": "Beta Dental", "entity_type": "department"}]
    (home / "companies_list.json").write_text(json.dumps(clients), encoding="utf-8")
    result = run_pull_info(simulator, "--backfill", "2")
    assert result.returncode == 1
    assert summary_line(result.stdout)[:3] == (4, 2, 0) and "; 2 failed." in result.stdout
    assert "Gone Ltd (999), August 2026: backfill failed" in result.stderr
    assert history_files(home) == [f"{acme}/2026-08.json", f"{acme}/2026-09.json", f"{beta}/2026-08.json", f"{beta}/2026-09.json"]
