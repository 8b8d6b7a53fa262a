"""Shared fixtures: a simulator on 127.0.0.1 and a clean environment for every test."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from simulators.base import LoopbackServer
from simulators.freshservice import Simulator, SimulatorSettings
from simulators.freshservice_data import Account
from tests.helpers.batch import pull_info_runner
from tests.helpers.running import SIM_KEY, TEST_NOW

# Every setting and secret the scripts read from the environment starts with one of these.
_OUR_PREFIXES = ("INTEGOREPORT_", "FRESHSERVICE_", "REPORT_", "MS365_", "SENTINELONE_", "SMTP_", "MAILCHIMP_")
ServerType = TypeVar("ServerType", bound="LoopbackServer")



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




def tree_digest(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under `folder`."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass(frozen=True)
class DemoRun:
    """One `pull_info.py --demo` (every client, the default month, REPORT_TIMEZONE=UTC) and what it left.

    `home` is a "real" home with a key, a client list and a raw file; `home_before`/`home_after` are
    its digests around the run (the demo must not touch it); the demo wrote under `demo_home`."""

    home: Path
    demo_home: Path
    exit_code: int
    stdout: str
    stderr: str
    home_before: dict[str, str]
    home_after: dict[str, str]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """The demo, run once for the whole session (and once across xdist workers): it pulls half a
    year for six clients, so every test that only reads its outputs shares this one run."""
    base = tmp_path_factory.getbasetemp()
    # Under pytest-xdist each worker has its own base; their parent is common to the run's workers.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "demo-run"
    with open(shared / "demo-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be running it: wait for its result
        result_file = folder / "result.json"
        if not result_file.exists():
            _run_demo(folder, result_file)
        fields = json.loads(result_file.read_text(encoding="utf-8"))
    return DemoRun(**{**fields, "home": Path(fields["home"]), "demo_home": Path(fields["demo_home"])})


def _run_demo(folder: Path, result_file: Path) -> None:
    import pull_info

    home, demo_home = folder / "home", folder / "demo"
    home.mkdir(parents=True)
    (home / "token.txt").write_text("real-key-do-not-touch")
    (home / "companies_list.json").write_text('[{"id": 1, "name": "Real client", "entity_type": "department"}]')
    (home / "raw_data").mkdir()
    (home / "raw_data" / "freshservice_1.json").write_text('{"real": true}')
    before = tree_digest(home)
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch:
        outer_now = os.environ.get("INTEGOREPORT_NOW")
        for name in list(os.environ):
            if name.startswith(_OUR_PREFIXES):
                monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("INTEGOREPORT_HOME", str(home))
        monkeypatch.setenv("INTEGOREPORT_NOW", outer_now or TEST_NOW)
        monkeypatch.setenv("INTEGOREPORT_DEMO_HOME", str(demo_home))
        monkeypatch.setenv("REPORT_TIMEZONE", "UTC")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = pull_info.main(["--demo"])
    run = DemoRun(home, demo_home, code, out.getvalue(), err.getvalue(), before, tree_digest(home))
    result_file.write_text(json.dumps({**asdict(run), "home": str(home), "demo_home": str(demo_home)}), encoding="utf-8")


@pytest.fixture
def run_pull_info(monkeypatch, capsys):
    """pull_info's main run in this process against a simulator, as cron would run the script (see helpers/batch.py)."""
    return pull_info_runner(monkeypatch, capsys)
