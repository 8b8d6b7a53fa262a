"""Running things as the tests need them: the project root, the simulators' key, a script in a child
process, work on threads, default signal dispositions, and a bound on blocking work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from utils.core.period import report_period

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SIM_KEY = "sim-secret-key-9f3a7c"


def default_signals() -> None:
    """A child's `preexec_fn`: Ctrl-C, SIGHUP and SIGTERM at their defaults, as for a script started from a terminal.

    A child inherits ignored signals: under `nohup`, or from a background shell, pytest itself ignores
    SIGINT (and SIGHUP), and a script started from it would ignore the Ctrl-C a test sends it.
    """
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


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


def finishes(work, seconds: float = 10.0, unblock: Path | None = None):
    """What `work()` returns or raises, run on a thread; an AssertionError if it is still running after
    `seconds` (a reader blocked on the named pipe `unblock` is then released, so the test run goes on)."""
    import os
    import threading

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test as it is
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if unblock is not None:
            os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))  # an end of file for the blocked reader
        raise AssertionError(f"still running after {seconds} s: it hangs")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# The tests' "now": a fixed instant, so no test depends on the day it runs (CI sets INTEGOREPORT_NOW to
# other instants; tests may set their own).
TEST_NOW = "2026-11-05T09:00:00+00:00"


def previous_month(timezone: str = "UTC") -> str:
    """The report month (YYYY-MM) the scripts default to at the tests' "now", in `timezone`."""
    now = datetime.fromisoformat(os.environ.get("INTEGOREPORT_NOW") or TEST_NOW)
    return report_period(None, timezone, now).month
