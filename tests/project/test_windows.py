"""The scripts on Windows (issue 17): run here with the POSIX-only names hidden, as Windows lacks them.

A sitecustomize on PYTHONPATH hides them before the project imports anything: `import fcntl` fails,
and `signal.SIGHUP`, `os.O_NOFOLLOW`, `os.O_CLOEXEC`, `os.getuid` and `os.pwrite` are gone. With
`msvcrt=emulated` it also provides an `msvcrt` module whose `locking` keeps Windows' contract
(a byte range from the file's current position; EACCES when another process holds it), built on
the fcntl it hid, so utils/core/portable.py's Windows branch runs too. Without it, neither lock module
exists and the explicit fallback (a warning, no lock) runs.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.running import PROJECT_ROOT

HIDE_POSIX_NAMES = """
import errno, os, signal, sys
import fcntl as _fcntl  # kept for the emulated msvcrt only; the project cannot import it
sys.modules["fcntl"] = None  # import fcntl: ModuleNotFoundError, as on Windows
del signal.SIGHUP
for _name in ("O_NOFOLLOW", "O_CLOEXEC", "getuid", "pwrite"):
    delattr(os, _name)
"""

EMULATED_MSVCRT = """
import types
def _locking(fd, mode, nbytes):
    start = os.lseek(fd, 0, os.SEEK_CUR)
    if mode == msvcrt.LK_UNLCK:
        _fcntl.lockf(fd, _fcntl.LOCK_UN, nbytes, start)
        return
    try:
        _fcntl.lockf(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB, nbytes, start)
    except OSError:
        raise PermissionError(errno.EACCES, "Permission denied") from None
msvcrt = types.ModuleType("msvcrt")
msvcrt.LK_UNLCK, msvcrt.LK_LOCK, msvcrt.LK_NBLCK, msvcrt.LK_RLCK, msvcrt.LK_NBRLCK = 0, 1, 2, 3, 4
msvcrt.locking = _locking
sys.modules["msvcrt"] = msvcrt
"""

SCRIPTS = ["pull_info.py", "build_report.py", "send_reports.py", "utils/client_manager.py", "data_pullers/freshservice.py",
           "data_pullers/ms365.py", "data_pullers/sentinelone.py"]
DEMO_CLIENT = "21000351605"  # Kessler & Moss Accounting: one client, and the demo's smallest with tickets, keeps the run short
DEMO_SLUG = f"kessler-moss-accounting-{DEMO_CLIENT}"
NO_LOCKING = "this system has no file locking"


@pytest.fixture(params=["no-lock-module", "msvcrt-emulated"])
def as_on_windows(request, tmp_path):
    """Run a script (or `-c` code) with the POSIX-only names hidden: (args, env=None) -> CompletedProcess."""
    site = tmp_path / "as-on-windows"
    site.mkdir()
    preamble = HIDE_POSIX_NAMES + (EMULATED_MSVCRT if request.param == "msvcrt-emulated" else "")
    (site / "sitecustomize.py").write_text(preamble)

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join([str(site), str(PROJECT_ROOT)])}
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=full_env, cwd=tmp_path, timeout=timeout)

    run.msvcrt = request.param == "msvcrt-emulated"  # type: ignore[attr-defined]
    return run


def test_the_names_are_hidden_as_on_windows(as_on_windows):
    probe = "import os, signal\ntry:\n    import fcntl\nexcept ImportError:\n    fcntl = None\nprint(fcntl, hasattr(signal, 'SIGHUP'), hasattr(os, 'O_NOFOLLOW'))"
    result = as_on_windows("-c", probe)
    assert result.stdout.split() == ["None", "False", "False"], result.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_helps(as_on_windows, script):
    result = as_on_windows(str(PROJECT_ROOT / script), "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout and result.stderr == ""


def test_the_demo_builds_the_reports_and_the_outbox_sends(as_on_windows, tmp_path):
    demo = tmp_path / "demo"
    env = {"INTEGOREPORT_DEMO_HOME": str(demo), "REPORT_TIMEZONE": "UTC"}
    result = as_on_windows(str(PROJECT_ROOT / "pull_info.py"), "--demo", "--client", DEMO_CLIENT, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # The explicit fallback says that runs are not kept apart; with msvcrt they are, silently.
    assert (NO_LOCKING in result.stderr) is not as_on_windows.msvcrt
    month = next(folder for folder in (demo / "reports").iterdir() if "Q" not in folder.name)  # not the demo's quarter (issue 19)
    assert list(month.glob(f"{DEMO_SLUG}.html"))
    written = list((month / "outbox").glob("*.eml"))
    assert [path.name for path in written] == [f"{DEMO_SLUG}.eml"]
    written[0].unlink()
    logs = list((demo / "logs").glob("pull_info-*.log"))
    assert logs and "Kessler" in logs[0].read_text()  # the log file opened without O_NOFOLLOW

    (demo / "integoreport.toml").write_text(f'[delivery]\nmethod = "outbox"\nfrom = "Acme IT <reports@acme.example>"\n\n'
                                            f'[clients.{DEMO_CLIENT}]\nto = ["office@kesslermoss.example"]\n', encoding="utf-8")
    sent = as_on_windows(str(PROJECT_ROOT / "send_reports.py"), "--month", month.name,
                         env={"INTEGOREPORT_HOME": str(demo)})
    assert sent.returncode == 0, sent.stderr
    assert [path.name for path in (month / "outbox").glob("*.eml")] == [f"{DEMO_SLUG}.eml"]
    assert not (demo / ".pull_info.lock").exists()


HOLD_THE_RUN_LOCK = """
import sys
from pathlib import Path
from utils.monthly.run_lock import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
sys.stdin.readline()
lock.release()
"""

TAKE_THE_RUN_LOCK = """
import sys
from pathlib import Path
from utils.core.errors import IntegoError
from utils.monthly.run_lock import RunLock
lock = RunLock(Path(sys.argv[1]))
try:
    lock.acquire()
except IntegoError as exc:
    print(exc)
else:
    print("taken")
    lock.release()
"""


@pytest.mark.parametrize("as_on_windows", ["msvcrt-emulated"], indirect=True)  # the fallback keeps no runs apart, and says so
def test_the_run_lock_keeps_a_second_run_out_with_msvcrt(as_on_windows, tmp_path, home):
    site = tmp_path / "as-on-windows"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_RUN_LOCK, str(home)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(PROJECT_ROOT)])})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        second = as_on_windows("-c", TAKE_THE_RUN_LOCK, str(home))
        # The pid stays readable: the Windows lock sits on a byte past the end, not on the pid.
        assert second.stdout.strip() == f"another run is in progress (pid {holder.pid})", second.stderr
    finally:
        holder.communicate("\n", timeout=30)
    assert holder.returncode == 0
    assert as_on_windows("-c", TAKE_THE_RUN_LOCK, str(home)).stdout.strip() == "taken"


def test_the_run_lock_never_follows_a_symlink_without_o_nofollow(as_on_windows, tmp_path, home):
    target = tmp_path / "elsewhere"
    target.write_text("keep me")
    (home / ".pull_info.lock").symlink_to(target)
    script = TAKE_THE_RUN_LOCK.replace("except IntegoError", "except Exception")
    result = as_on_windows("-c", script, str(home))
    assert result.stdout.strip() == f"cannot take the lock {home / '.pull_info.lock'}: refusing to follow a symbolic link", result.stderr
    assert target.read_text() == "keep me"


def test_no_readable_by_others_warning_where_modes_are_not_access_control(as_on_windows, home):
    # On Windows every file's st_mode looks readable by all: the POSIX warning would fire on every run.
    token = home / "token.txt"
    token.write_text("file-key-123")
    token.chmod(0o644)
    script = ("import logging, sys\nfrom pathlib import Path\nfrom utils.sources.freshservice import load_api_key\n"
              "logging.basicConfig()\nprint(load_api_key(Path(sys.argv[1]), {}) == 'file-key-123')")
    result = as_on_windows("-c", script, str(home))
    assert result.stdout.strip() == "True", result.stderr
    assert "readable by other users" not in result.stderr
