"""The run lock (utils/monthly/run_lock.py): one holder however runs race, a clear error when it cannot be written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.running import PROJECT_ROOT
from utils.core.errors import DataError, IntegoError
from utils.monthly.run_lock import LOCK_FILE, RunLock

RACER = f"""
import sys
sys.path.insert(0, {str(PROJECT_ROOT)!r})
from pathlib import Path
from utils.core.errors import IntegoError
from utils.monthly.run_lock import RunLock
lock = RunLock(Path(sys.argv[1]))
sys.stdin.readline()  # wait for the start signal, so every racer tries at the same moment
try:
    lock.acquire()
except IntegoError as exc:
    print("refused", exc, flush=True)
    sys.exit(0)
print("held", flush=True)
sys.stdin.readline()  # hold it until told to let go
lock.release()
"""


def test_racing_runs_never_both_hold_the_lock(home):
    for _round in range(3):
        racers = [subprocess.Popen([sys.executable, "-c", RACER, str(home)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                  for _ in range(6)]
        for racer in racers:
            racer.stdin.write("go\n")
            racer.stdin.flush()
        answers = [racer.stdout.readline().strip() for racer in racers]
        assert sum(answer == "held" for answer in answers) == 1, answers
        holder = racers[answers.index("held")]
        # A loser may look before the winner has written its pid: then the message names no pid.
        assert all(answer in (f"refused another run is in progress (pid {holder.pid})", "refused another run is in progress")
                   for answer in answers if answer != "held"), answers
        for racer in racers:
            racer.communicate("done\n", timeout=30)
        assert not (home / LOCK_FILE).exists()


def test_a_lock_left_by_a_dead_run_is_taken_over_and_removed_on_release(home):
    (home / LOCK_FILE).write_text("999999999\n")  # no flock on it: its run is gone
    lock = RunLock(home)
    lock.acquire()
    assert (home / LOCK_FILE).read_text() == f"{os.getpid()}\n"
    with pytest.raises(IntegoError, match=rf"another run is in progress \(pid {os.getpid()}\)"):
        RunLock(home).acquire()
    lock.release()
    assert not (home / LOCK_FILE).exists()


def test_a_full_disk_gives_a_clear_error_and_no_empty_lock(home):
    # A file-size limit of 0 makes writing the pid fail the way a full disk does.
    script = f"""
import resource, signal, sys
sys.path.insert(0, {str(PROJECT_ROOT)!r})
from pathlib import Path
from utils.core.errors import DataError
from utils.monthly.run_lock import RunLock
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    RunLock(Path(sys.argv[1])).acquire()
except DataError as exc:
    print(exc)
"""
    result = subprocess.run([sys.executable, "-c", script, str(home)], capture_output=True, text=True, timeout=30)
    assert result.stdout.startswith(f"cannot take the lock {home / LOCK_FILE}: File too large"), result.stdout + result.stderr
    assert not (home / LOCK_FILE).exists()


def test_the_lock_is_never_a_symlink_followed(home, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep me")
    (home / LOCK_FILE).symlink_to(target)
    with pytest.raises(DataError, match="cannot take the lock"):
        RunLock(home).acquire()
    assert target.read_text() == "keep me"

