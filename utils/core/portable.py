"""What differs between POSIX and Windows, in one place: the POSIX-only names and the one file lock.

Every other module takes these from here instead of from `os`, `signal` or `fcntl`, so the scripts
import on Windows too (`fcntl`, `signal.SIGHUP`, `os.O_NOFOLLOW`, `os.O_CLOEXEC` and `os.getuid`
exist only on POSIX), and on POSIX every safety stays exactly as it was.

The lock: `fcntl.flock` on POSIX, `msvcrt.locking` on Windows. Both are dropped by the system when
their process dies, however it dies. Where neither exists (no platform CPython ships for today),
`LOCKING` is None and `try_lock` says yes after a warning: runs are then not kept apart, and say so.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
try:
    import msvcrt
except ImportError:  # POSIX
    msvcrt = None  # type: ignore[assignment]

# 0 where missing: os.open's files are not inherited by children anyway (PEP 446), and open_no_follow
# checks for a link itself where O_NOFOLLOW is missing.
O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)

# A closed terminal (SIGHUP) exists only on POSIX; Windows has SIGTERM (and Ctrl-C) only.
SIGHUP: signal.Signals | None = getattr(signal, "SIGHUP", None)

# Mode bits say who may read a file only where files have a numeric owner (POSIX). On Windows ACLs
# decide, and st_mode only mirrors the read-only flag: every file there looks readable by all.
MODE_BITS_ARE_ACCESS_CONTROL: bool = hasattr(os, "getuid")

LOCKING: Literal["fcntl", "msvcrt"] | None = "fcntl" if fcntl is not None else "msvcrt" if msvcrt is not None else None

# Windows locks are mandatory: a locked byte cannot be read by anyone else. The lock is therefore
# taken on one byte far past the end, so the run lock's pid stays readable for the error message.
_MSVCRT_LOCK_OFFSET = 1 << 30
_warned_no_locking = False


def open_no_follow(path: Path, flags: int, mode: int = 0o600) -> int:
    """`os.open` that never follows a symbolic link at `path` (an OSError instead) and is never inherited."""
    if not O_NOFOLLOW and os.path.islink(path):  # no O_NOFOLLOW (Windows): check first
        raise OSError(errno.ELOOP, "refusing to follow a symbolic link", str(path))
    return os.open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode)


def try_lock(fd: int) -> bool:
    """Take an exclusive lock on the open file `fd` without waiting: False when another process holds it.

    Any other failure is an OSError. The lock is dropped by `unlock`, by closing `fd`, or by the
    process ending.
    """
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True
    if msvcrt is not None:
        try:
            _msvcrt_locking(fd, msvcrt.LK_NBLCK)
        except OSError as exc:
            # msvcrt.locking says EACCES (or EDEADLOCK) when another handle holds the byte.
            if exc.errno in (errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK)):
                return False
            raise
        return True
    _warn_no_locking()
    return True


def unlock(fd: int) -> None:
    """Drop the lock `try_lock` took on `fd` (Windows asks for this before the file is closed)."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    elif msvcrt is not None:
        _msvcrt_locking(fd, msvcrt.LK_UNLCK)


def _msvcrt_locking(fd: int, mode: int) -> None:
    # msvcrt.locking works from the file's current position: move there, and back.
    position = os.lseek(fd, 0, os.SEEK_CUR)
    os.lseek(fd, _MSVCRT_LOCK_OFFSET, os.SEEK_SET)
    try:
        msvcrt.locking(fd, mode, 1)  # type: ignore[attr-defined,unused-ignore]  # typeshed declares it for win32 only
    finally:
        os.lseek(fd, position, os.SEEK_SET)


def _warn_no_locking() -> None:
    global _warned_no_locking
    if not _warned_no_locking:
        _warned_no_locking = True
        log.warning("this system has no file locking (neither fcntl nor msvcrt): two runs at once are not kept apart")
