"""The session's one `pull_info.py --demo`, run in a process of its own beside the tests.

The demo pulls half a year for six clients and builds a month and a quarter: the longest single
piece of the suite. Every test that reads its outputs shares one run. The run starts as soon as
the tests are collected (`start_once`, from tests/conftest.py) and goes on in the background while
the other tests run; the tests that need it are put last, so by the time one asks (`wait_for`),
the run has usually finished. Under pytest-xdist the workers share one run: their temporary
folders have one parent, and a lock file there says who started it.

Run as `python -m tests.helpers.demo_run FOLDER`: FOLDER/home is a "real" home the demo must
not touch, FOLDER/demo the demo's own; FOLDER/result.json is written last, when the run is over.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pull_info
from tests.helpers.running import PROJECT_ROOT, TEST_NOW

# Every setting and secret the scripts read from the environment starts with one of these.
OUR_PREFIXES = ("INTEGOREPORT_", "FRESHSERVICE_", "REPORT_", "MS365_", "SENTINELONE_", "SMTP_", "MAILCHIMP_")
WAIT_LIMIT = 600.0  # seconds a test waits for the run: far beyond its usual 20-40 s, short of a hung CI


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


def tree_digest(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under `folder`."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_folder(shared: Path) -> Path:
    return shared / "demo-run"


def start_once(shared: Path) -> None:
    """Start the run in the background unless a worker of this session already did."""
    folder = run_folder(shared)
    with open(shared / "demo-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (shared / "demo-run.pid").exists():
            return
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "log.txt", "wb") as log:
            # The test process's own environment, less our settings: the child sets its own.
            env = {name: value for name, value in os.environ.items() if not name.startswith(OUR_PREFIXES)}
            env["INTEGOREPORT_NOW"] = os.environ.get("INTEGOREPORT_NOW") or TEST_NOW
            process = subprocess.Popen([sys.executable, "-m", "tests.helpers.demo_run", str(folder)], cwd=PROJECT_ROOT,
                                       env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        (shared / "demo-run.pid").write_text(str(process.pid))


def wait_for(shared: Path) -> DemoRun:
    """The run's result, started here if no one had started it, waited for if it is still going."""
    start_once(shared)
    folder = run_folder(shared)
    result_file, deadline = folder / "result.json", time.monotonic() + WAIT_LIMIT
    while not result_file.exists():
        if not _running(shared) and not result_file.exists():
            raise RuntimeError(f"the demo run ended without a result: {(folder / 'log.txt').read_text(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the demo run took over {WAIT_LIMIT:.0f} s")
        time.sleep(0.1)
    fields = json.loads(result_file.read_text(encoding="utf-8"))
    return DemoRun(**{**fields, "home": Path(fields["home"]), "demo_home": Path(fields["demo_home"])})


def stop(shared: Path) -> None:
    """At the end of the session: a run still going (the session was cut short) is stopped."""
    if _running(shared):
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int((shared / "demo-run.pid").read_text()), signal.SIGTERM)


def _running(shared: Path) -> bool:
    """Whether the run's process is alive (the result file may land a moment after it ends)."""
    try:
        pid = int((shared / "demo-run.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    # A finished child of this very process stays a zombie until reaped: reap it, then it is not running.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
    return True


def _run(folder: Path) -> None:
    home, demo_home = folder / "home", folder / "demo"
    home.mkdir(parents=True)
    (home / "token.txt").write_text("real-key-do-not-touch")
    (home / "companies_list.json").write_text('[{"id": 1, "name": "Real client", "entity_type": "department"}]')
    (home / "raw_data").mkdir()
    (home / "raw_data" / "freshservice_1.json").write_text('{"real": true}')
    before = tree_digest(home)
    os.environ.update(INTEGOREPORT_HOME=str(home), INTEGOREPORT_DEMO_HOME=str(demo_home), REPORT_TIMEZONE="UTC")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = pull_info.main(["--demo"])
    run = DemoRun(home, demo_home, code, out.getvalue(), err.getvalue(), before, tree_digest(home))
    partial = folder / "result.json.part"
    partial.write_text(json.dumps({**asdict(run), "home": str(home), "demo_home": str(demo_home)}), encoding="utf-8")
    partial.replace(folder / "result.json")  # whole or absent: a waiting test never reads half a result


if __name__ == "__main__":
    _run(Path(sys.argv[1]))
