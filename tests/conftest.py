"""Shared fixtures: a simulator on 127.0.0.1 and a clean environment for every test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from simulators.base import LoopbackServer
from simulators.freshservice import Simulator, SimulatorSettings
from simulators.freshservice_data import Account
from tests.helpers import demo_run as demo_runs
from tests.helpers.batch import pull_info_runner
from tests.helpers.demo_run import OUR_PREFIXES, DemoRun
from tests.helpers.running import SIM_KEY, TEST_NOW

# Byte-code caches on, whatever the machine says: where PYTHONDONTWRITEBYTECODE is set (this project's
# machine sets it), every xdist worker and every script a test starts compiled the project anew (about
# 0.1 s a process), and each worker rewrote every test module's asserts again.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

ServerType = TypeVar("ServerType", bound="LoopbackServer")


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker more than the cores. Part of every test's time is spent waiting (on loopback
    servers, child processes, a retry's back-off), and a spare worker fills it; more than one spare
    only adds contention (measured in docs/development.md)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own setting, honoured by xdist
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores + 1


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No test sees the developer's own configuration; the home is a fresh folder; the clock is fixed."""
    outer_now = os.environ.get("INTEGOREPORT_NOW")  # CI runs the suite at chosen instants too
    for name in list(os.environ):
        if name.startswith(OUR_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("INTEGOREPORT_HOME", str(home))
    monkeypatch.setenv("INTEGOREPORT_NOW", outer_now or TEST_NOW)
    return home


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def home(clean_environment) -> Path:
    return clean_environment


@pytest.fixture
def serve():
    """Start any of the project's loopback servers for the test; every one is stopped after it."""
    started: list[LoopbackServer] = []

    def start(server: ServerType) -> ServerType:
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def start_simulator(serve):
    """Start Freshservice simulators with a given account and settings; all are stopped after the test."""

    def start(account: Account | None = None, **settings) -> Simulator:
        settings.setdefault("api_key", SIM_KEY)
        return serve(Simulator(account=account or Account(), settings=SimulatorSettings(**settings)))

    return start


@pytest.fixture
def own_signal_handlers():
    """SIGHUP and SIGTERM set to handlers of the test's own, whatever this run inherited; the originals come back after."""

    def not_caught(signum: int, _frame: object) -> None:
        raise AssertionError(f"{signal.Signals(signum).name} reached the test's handler, not the script's")

    originals = {signum: signal.signal(signum, not_caught) for signum in (signal.SIGHUP, signal.SIGTERM)}
    yield not_caught
    for signum, handler in originals.items():
        signal.signal(signum, handler)


@pytest.fixture
def run_in_process(monkeypatch, capsys):
    """Call a script's `main(argv)` here, the way run_script would run it (the env added, the output
    captured), without the second of a new interpreter; tests where the process is the point use run_script."""

    def run(main: Callable[[list[str]], int], *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as stop:  # argparse's usage errors
            code = stop.code if isinstance(stop.code, int) else 1
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess([main.__module__, *args], code, out, err)

    return run


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """The demo, run once for the whole session, in the background (see tests/helpers/demo_run.py)."""
    return demo_runs.wait_for(_shared_temp(tmp_path_factory))


def _shared_temp(tmp_path_factory) -> Path:
    """A folder common to the session's processes: under pytest-xdist, the parent of each worker's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def pytest_collection_modifyitems(config, items):
    """The tests that read the demo's outputs go last, so the run has time to finish beside the others."""
    items.sort(key=lambda item: "demo_run" in getattr(item, "fixturenames", ()))


def pytest_collection_finish(session):
    """Start the demo as soon as some collected test will want it (not for a run of a few other tests)."""
    if any("demo_run" in getattr(item, "fixturenames", ()) for item in session.items) and not session.config.option.collectonly:
        demo_runs.start_once(_shared_temp(session.config._tmp_path_factory))


def pytest_sessionfinish(session):
    """The process that outlives the workers (or the only one) stops a run the session cut short."""
    if not os.environ.get("PYTEST_XDIST_WORKER") and hasattr(session.config, "_tmp_path_factory"):
        demo_runs.stop(session.config._tmp_path_factory.getbasetemp())


@pytest.fixture
def run_pull_info(monkeypatch, capsys):
    """pull_info's main run in this process against a simulator, as cron would run the script (see helpers/batch.py)."""
    return pull_info_runner(monkeypatch, capsys)
