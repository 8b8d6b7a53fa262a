"""Shared fixtures: a simulator on 127.0.0.1 and a clean environment for every test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from simulators.freshservice import Simulator, SimulatorSettings
from simulators.freshservice_data import Account

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SIM_KEY = "sim-secret-key-9f3a7c"

# Every setting and secret the scripts read from the environment starts with one of these.
_OUR_PREFIXES = ("INTEGOREPORT_", "FRESHSERVICE_", "REPORT_", "MS365_", "SENTINELONE_", "SMTP_", "MAILCHIMP_")
# The tests' "now": a fixed instant, so no test depends on the day it runs (tests may set their own).
TEST_NOW = "2026-11-05T09:00:00+00:00"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No test sees the developer's own configuration; the home is a fresh folder; the clock is fixed."""
    outer_now = os.environ.get("INTEGOREPORT_NOW")  # CI runs the suite at chosen instants too
    for name in list(os.environ):
        if name.startswith(_OUR_PREFIXES):
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
def start_simulator():
    """Start simulators with a given account and settings; all are stopped after the test."""
    started: list[Simulator] = []

    def start(account: Account | None = None, **settings) -> Simulator:
        settings.setdefault("api_key", SIM_KEY)
        simulator = Simulator(account=account or Account(), settings=SimulatorSettings(**settings))
        simulator.start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


def run_script(script: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120):
    """Run one of the project's scripts as a user would, from another working directory."""
    full_env = {key: value for key, value in os.environ.items()}
    full_env.update(env or {})
    return subprocess.run([sys.executable, str(PROJECT_ROOT / script), *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or Path("/"), timeout=timeout)


def run_in_threads(target: Callable[[], None], count: int) -> None:
    """Run `target` in `count` threads at once and wait for them all."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
