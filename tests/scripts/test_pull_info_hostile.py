"""pull_info.py against a hostile or unlucky month (issue 8): each test reproduces one finding."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import pull_info
from simulators.freshservice import Simulator, SimulatorSettings
from tests.helpers.batch import MONTH, batch_env, small_account
from tests.helpers.running import PROJECT_ROOT, SIM_KEY, default_signals
from tests.helpers.sources import plain_source
from utils.core.cli import Terminated, termination_as_interrupt
from utils.core.period import Period
from utils.sources import SOURCES


def files_under(folder) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_a_client_id_from_the_server_never_names_a_file(home, tmp_path, run_pull_info):
    account, ids = small_account()
    # The department list also serves a record whose id is a path.
    hostile = [{"id": "9/../../escaped", "name": "Escapee"}]
    simulator = Simulator(account=account, settings=SimulatorSettings(api_key=SIM_KEY, extra_departments=hostile))
    simulator.start()
    try:
        result = run_pull_info(simulator)
    finally:
        simulator.stop()
    assert result.returncode == 1
    assert "Escapee: the client id '9/../../escaped' from the server is not a number; skipped" in result.stderr
    assert "3 clients done, 1 failed" in result.stderr
    everything = files_under(tmp_path)
    assert not [name for name in everything if "escaped" in name]
    assert {f"home/raw_data/freshservice_{client_id}.json" for client_id in ids} == {n for n in everything if n.startswith("home/raw_data/")}
    assert "Escapee" in (home / "reports" / MONTH / "index.html").read_text()


def test_a_client_id_on_the_command_line_must_be_a_number(home, capsys):
    assert pull_info.main(["--month", MONTH, "--client", "../7"]) == 2
    assert "must be a client id" in capsys.readouterr().err


def test_a_duplicate_client_is_pulled_once(start_simulator, home, run_pull_info):
    account, (acme, _beta, _quiet) = small_account()
    simulator = start_simulator(account)
    result = run_pull_info(simulator, "--client", str(acme), "--client", str(acme))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Acme Law: 5 tickets") == 1
    assert "1 client done, 0 failed" in result.stderr
    assert (home / "reports" / MONTH / "index.html").read_text().count("Acme Law") == 1


def test_a_401_in_the_middle_of_a_batch_stops_it_at_once(home, run_pull_info, start_simulator):
    account, _ids = small_account()
    simulator = start_simulator(account, endpoint_status={"tickets.conversations": 401})
    result = run_pull_info(simulator)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and ("401" in errors[0] or "refused" in errors[0]), result.stderr
    assert "Beta Dental" not in result.stderr  # the second client was never tried
    assert simulator.counters()["by_endpoint"]["tickets.conversations"]["requests"] <= 5  # Acme's tickets at most


def test_a_rerun_of_one_client_keeps_the_month(start_simulator, home, run_pull_info):
    account, (acme, beta, quiet) = small_account()
    simulator = start_simulator(account)
    assert run_pull_info(simulator).returncode == 0
    raw = home / "raw_data"
    before = {client_id: (raw / f"freshservice_{client_id}.json").read_text() for client_id in (beta, quiet)}
    result = run_pull_info(simulator, "--client", str(acme))
    assert result.returncode == 0, result.stderr
    index = (home / "reports" / MONTH / "index.html").read_text()
    for name, client_id in (("Acme Law", acme), ("Beta Dental", beta), ("Quiet Co", quiet)):
        assert name in index and f"-{client_id}.html" in index
    assert "3 built" in index
    assert {client_id: (raw / f"freshservice_{client_id}.json").read_text() for client_id in (beta, quiet)} == before
    assert files_under(raw / "archive") == {f"{MONTH}/freshservice_{acme}.json"}  # only the file this run replaced


def test_settings_are_checked_before_the_first_request(start_simulator, home, run_pull_info, monkeypatch):
    account, _ids = small_account()
    simulator = start_simulator(account)
    monkeypatch.setenv("INTEGOREPORT_BUSINESS_HOURS", "whenever")
    result = run_pull_info(simulator)
    assert result.returncode == 2
    assert "INTEGOREPORT_BUSINESS_HOURS" in result.stderr
    assert simulator.counters()["requests"] == 0


def test_server_text_cannot_forge_log_lines_or_reach_the_terminal_raw(start_simulator, home, run_pull_info):
    account, (acme, _beta, _quiet) = small_account()
    account.departments[acme]["name"] = "Acme\nerror: forged line\x1b[2J\x07\u202e"
    simulator = start_simulator(account)
    result = run_pull_info(simulator)
    assert result.returncode == 0, result.stderr
    log_text = next((home / "logs").glob("pull_info-*.log")).read_text()
    for text in (result.stderr, result.stdout, log_text):
        assert "Acme error: forged line" in text  # the name is shown, on one line, in every place
        assert not any(line.startswith("error: forged") for line in text.splitlines())
        assert not any(char in text for char in "\x1b\x07\u202e")


def test_sighup_is_handled_like_ctrl_c(start_simulator, home, run_pull_info, monkeypatch, own_signal_handlers):
    account, (acme, beta, _quiet) = small_account()
    simulator = start_simulator(account)

    def hang_up_at_the_second_client(client_id: str, period: Period) -> dict:
        if client_id == str(beta):
            os.kill(os.getpid(), signal.SIGHUP)  # as a closed terminal does, while the run is busy
        return {"period": period.as_dict()}

    monkeypatch.setattr("utils.sources.SOURCES", (*SOURCES, plain_source("probe", hang_up_at_the_second_client)))
    result = run_pull_info(simulator)
    assert result.returncode == 128 + signal.SIGHUP
    assert "stopped by SIGHUP" in result.stderr and "Traceback" not in result.stderr
    assert not (home / ".pull_info.lock").exists()
    assert signal.getsignal(signal.SIGHUP) is own_signal_handlers  # the handler is put back as it was
    folder = home / "reports" / MONTH
    assert list(folder.glob(f"acme-law-{acme}.html"))  # the finished client is kept
    index = (folder / "index.html").read_text()
    assert "Acme Law" in index and "Beta Dental" in index and "stopped" in index and "Quiet Co" not in index


def test_under_nohup_a_hangup_leaves_the_run_going(start_simulator, home, run_pull_info, monkeypatch, own_signal_handlers):
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what nohup does before it starts the script
    account, (acme, beta, quiet) = small_account()
    simulator = start_simulator(account)

    def hang_up_at_the_second_client(client_id: str, period: Period) -> dict:
        if client_id == str(beta):
            os.kill(os.getpid(), signal.SIGHUP)  # the terminal nohup was started from is closed
        return {"period": period.as_dict()}

    monkeypatch.setattr("utils.sources.SOURCES", (*SOURCES, plain_source("probe", hang_up_at_the_second_client)))
    result = run_pull_info(simulator)
    assert result.returncode == 0, result.stderr
    assert "SIGHUP" not in result.stderr
    for client_id in (acme, beta, quiet):
        assert (home / "raw_data" / f"freshservice_{client_id}.json").exists()
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN  # still ignored, as it was


def test_the_termination_handlers_are_put_back_as_they_were(own_signal_handlers):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with pytest.raises(Terminated), termination_as_interrupt():
        assert signal.getsignal(signal.SIGHUP) not in (own_signal_handlers, signal.SIG_DFL, signal.SIG_IGN)
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(5)  # the handler raises Terminated at once
    assert signal.getsignal(signal.SIGHUP) is own_signal_handlers
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    with termination_as_interrupt():
        pass
    assert signal.getsignal(signal.SIGHUP) is own_signal_handlers and signal.getsignal(signal.SIGTERM) is signal.SIG_IGN


@pytest.mark.parametrize("signum, code, message", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "stopped by SIGTERM")])
def test_ctrl_c_and_sigterm_stop_release_the_lock_and_keep_finished_clients(start_simulator, home, signum, code, message):
    account, (acme, _beta, _quiet) = small_account()
    simulator = start_simulator(account, latency_seconds=0.05)
    process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "pull_info.py"), "--month", MONTH, "--workers", "1"],
                               env={**os.environ, **batch_env(simulator)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=default_signals)
    first_report = home / "reports" / MONTH / f"acme-law-{acme}.html"
    deadline = time.monotonic() + 60
    while not first_report.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # waiting for a file to appear, not for time to pass
    simulator.switch(latency_seconds=1.0)  # the run is surely still busy with the next client when the signal lands
    process.send_signal(signum)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert message in err and "Traceback" not in err
    assert not (home / ".pull_info.lock").exists()
    assert first_report.exists()
    assert "Acme Law" in (home / "reports" / MONTH / "index.html").read_text()
    assert json.loads((home / "raw_data" / f"freshservice_{acme}.json").read_text())["client"]["id"] == acme
    for folder in (home / "raw_data", home / "reports" / MONTH):
        assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no half-written files


def test_help_lists_the_exit_codes(capsys):
    assert pull_info.main(["--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "exit codes: 0 ok; 1 a client or data source failed" in help_text and "143 SIGTERM; 129 SIGHUP" in help_text


def test_the_log_file_is_readable_by_its_owner_only(start_simulator, home, run_pull_info):
    account, _ids = small_account()
    simulator = start_simulator(account)
    assert run_pull_info(simulator, "--no-build").returncode == 0
    log_file = next((home / "logs").glob("pull_info-*.log"))
    assert log_file.stat().st_mode & 0o777 == 0o600
    assert (home / "logs").stat().st_mode & 0o077 == 0
