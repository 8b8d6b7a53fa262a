"""The monthly batch end to end: pull_info.py run as cron would, against the simulator."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from simulators.demo_freshservice import build_demo_account
from tests.helpers.batch import MONTH, report_dir, small_account
from tests.helpers.running import SIM_KEY
from tests.helpers.sources import batch_run
from utils.core.period import parse_period, report_period
from utils.monthly import batch
from utils.monthly.batch import slugify
from utils.services.freshservice_client import FreshserviceClient, freshservice_policy


def test_demo_batch_of_every_client_leaves_a_real_home_untouched(demo_run):
    # demo_run (tests/conftest.py): one `pull_info.py --demo` with REPORT_TIMEZONE=UTC, shared by the
    # tests that read its outputs, next to a real home holding a key, a client list and a raw file.
    assert demo_run.exit_code == 0, demo_run.stderr
    out, err, demo_home = demo_run.stdout, demo_run.stderr, demo_run.demo_home
    assert demo_run.home_after == demo_run.home_before
    account = build_demo_account()  # the demo's own account: anchored at the same (fixed) clock
    # --demo reports the last full month as of INTEGOREPORT_NOW (in UTC here), which CI moves to month ends.
    demo_period = report_period(None, "UTC")
    demo_month = demo_period.start.strftime("%Y-%m")
    folder = demo_home / "reports" / demo_month
    for department in account.departments.values():
        stem = f"{slugify(department['name'])}-{department['id']}"
        html = (folder / f"{stem}.html").read_text()
        metrics = json.loads((folder / f"{stem}.json").read_text())
        text = (folder / f"{stem}.txt").read_text()
        assert metrics["client"]["id"] == department["id"] and metrics["period"]["label"] == demo_period.label
        assert department["name"].split()[0] in text
        assert demo_period.label in html and "{{" not in html
        assert (demo_home / "raw_data" / f"freshservice_{department['id']}.json").exists()
        assert (demo_home / "history" / str(department["id"]) / f"{demo_month}.json").exists()
    index = (folder / "index.html").read_text()
    assert index.count('href="') >= len(account.departments)
    assert "failed" not in index.lower()
    assert f"Index: {folder / 'index.html'}" in out
    report_line = next(line for line in out.splitlines() if line.startswith("Report for "))
    assert Path(report_line.split(": ", 1)[1]).is_file()
    assert len(list(folder.glob("*.html"))) == len(account.departments) + 1  # and the index
    # Beside the month, only the demo's previous quarter (issue 19), with the same reports and its own index.
    quarter = parse_period("UTC", quarter="previous").key
    assert sorted(path.name for path in (demo_home / "reports").iterdir()) == sorted([demo_month, quarter])
    assert len(list((demo_home / "reports" / quarter).glob("*.html"))) == len(account.departments) + 1
    # It ends with the demo's emails in the outbox (utils/delivery/outbound.py), one a client, nothing sent.
    assert len(list((folder / "outbox").glob("*.eml"))) == len(account.departments) and "Emails (written, not sent): 6" in out
    assert "6 clients done, 0 failed" in err
    assert json.loads((demo_home / "companies_list.json").read_text())[0]["entity_type"] == "department"
    # The batch shares one sweep: the whole month stays within the 3-credits-a-ticket budget.
    summary = re.search(r"clients done, 0 failed; (\d+) tickets, (\d+) credits", err)
    assert summary is not None and int(summary.group(1)) > 500
    assert int(summary.group(2)) <= 3 * int(summary.group(1))
    log_files = list((demo_home / "logs").glob("pull_info-*.log"))
    assert len(log_files) == 1 and " done, 0 failed" in log_files[0].read_text()


def test_failing_client_is_marked_and_the_others_complete(start_simulator, home):
    account, (acme, beta, quiet) = small_account()
    simulator = start_simulator(account, failing_department_ids={beta})
    client = FreshserviceClient(simulator.url, SIM_KEY, policy=freshservice_policy(backoff_base=0))  # its 500s are retried without waiting
    summary, _index = batch.run_batch(batch_run(client, home, report_period(MONTH, "UTC")))
    assert [o.client["id"] for o in summary.failed] == [beta]
    index = (report_dir(home) / "index.html").read_text()
    assert "Beta Dental" in index and "failed" in index and "500" in index
    assert (report_dir(home) / f"acme-law-{acme}.html").exists()
    assert (report_dir(home) / f"quiet-co-{quiet}.html").exists()
    assert not (report_dir(home) / f"beta-dental-{beta}.html").exists()


def test_client_with_no_tickets_still_gets_a_report(start_simulator, home, run_pull_info):
    account, (_acme, _beta, quiet) = small_account()
    simulator = start_simulator(account)
    result = run_pull_info(simulator, "--client", str(quiet))
    assert result.returncode == 0, result.stderr
    html = (report_dir(home) / f"quiet-co-{quiet}.html").read_text()
    assert "Quiet Co" in html
    assert len(list(report_dir(home).glob("*.html"))) == 2  # its report and the index


def test_unknown_client_is_named_and_the_others_run(start_simulator, home, run_pull_info):
    account, (acme, _beta, _quiet) = small_account()
    simulator = start_simulator(account)
    result = run_pull_info(simulator, "--client", str(acme), "--client", "424242")
    assert result.returncode == 1
    assert "unknown client id 424242" in result.stderr
    assert (report_dir(home) / f"acme-law-{acme}.html").exists()


def test_lock_refuses_a_second_run_and_takes_over_a_stale_one(start_simulator, home, run_pull_info):
    account, _ids = small_account()
    simulator = start_simulator(account)
    lock = home / ".pull_info.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running batch holds it
        held.write(f"{os.getpid()}\n")
        held.flush()
        result = run_pull_info(simulator)
    assert result.returncode == 1
    assert f"another run is in progress (pid {os.getpid()})" in result.stderr
    assert simulator.counters()["requests"] == 0
    gone = subprocess.Popen(["true"])
    gone.wait()
    lock.write_text(f"{gone.pid}\n")
    result = run_pull_info(simulator)
    assert result.returncode == 0, result.stderr
    assert "stale lock" in result.stderr
    assert not lock.exists()


def test_previous_raw_files_are_archived_not_lost(start_simulator, home, run_pull_info):
    account, (acme, beta, quiet) = small_account()
    simulator = start_simulator(account)
    raw = home / "raw_data"
    raw.mkdir()
    old = {"period": {"start": "2026-09-01T00:00:00+00:00"}, "tickets": [], "marker": "september"}
    (raw / f"freshservice_{acme}.json").write_text(json.dumps(old))
    (raw / "freshservice_999.json").write_text("not json at all")
    archived_before = raw / "archive" / "2026-09"
    archived_before.mkdir(parents=True)
    (archived_before / f"freshservice_{acme}.json").write_text('{"an": "older archive"}')
    result = run_pull_info(simulator, "--no-build")
    assert result.returncode == 0, result.stderr
    assert json.loads((archived_before / f"freshservice_{acme}.2.json").read_text())["marker"] == "september"
    assert json.loads((archived_before / f"freshservice_{acme}.json").read_text()) == {"an": "older archive"}
    assert (raw / "archive" / "unknown" / "freshservice_999.json").read_text() == "not json at all"
    current = sorted(p.name for p in raw.glob("freshservice_*.json"))
    assert current == sorted(f"freshservice_{i}.json" for i in (acme, beta, quiet))
    assert not (home / "reports").exists()  # --no-build


def test_corrupt_client_list_is_refreshed(start_simulator, home, run_pull_info):
    account, _ids = small_account()
    simulator = start_simulator(account)
    (home / "companies_list.json").write_text("[{broken")
    result = run_pull_info(simulator, "--no-build")
    assert result.returncode == 0, result.stderr
    assert "corrupt" in result.stderr
    assert len(json.loads((home / "companies_list.json").read_text())) == 3


def test_unwritable_reports_folder_fails_before_pulling(start_simulator, home, run_pull_info):
    account, _ids = small_account()
    simulator = start_simulator(account)
    (home / "reports").write_text("a file where the reports folder should be")
    result = run_pull_info(simulator)
    assert result.returncode == 1
    assert "reports" in result.stderr and "Traceback" not in result.stderr
    assert simulator.counters()["requests"] == 0


def test_second_run_replaces_the_reports(start_simulator, home, run_pull_info):
    account, (acme, _beta, _quiet) = small_account()
    simulator = start_simulator(account)
    assert run_pull_info(simulator).returncode == 0
    report = report_dir(home) / f"acme-law-{acme}.html"
    report.write_text("stale")
    result = run_pull_info(simulator)
    assert result.returncode == 0, result.stderr
    assert "Acme Law" in report.read_text()
    leftovers = [p.name for p in report_dir(home).iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert len(list((home / "raw_data" / "archive" / MONTH).glob("*.json"))) == 3  # the first run's raw files


def test_logs_are_rotated_to_the_last_twelve(start_simulator, home, run_pull_info):
    account, _ids = small_account()
    simulator = start_simulator(account)
    logs = home / "logs"
    logs.mkdir()
    for n in range(15):
        (logs / f"pull_info-20250101-0000{n:02d}.log").write_text("old")
    assert run_pull_info(simulator, "--no-build").returncode == 0
    kept = sorted(p.name for p in logs.glob("pull_info-*.log"))
    assert len(kept) == 12
    assert not (logs / "pull_info-20250101-000000.log").exists()


@pytest.mark.parametrize("name, slug", [("Müller & Söhne GmbH", "muller-sohne-gmbh"), ("日本語", "client"), ("  A--B  ", "a-b")])
def test_slugify(name, slug):
    assert slugify(name) == slug
