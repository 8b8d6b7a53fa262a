"""The run lock: one batch at a time per project home.

The lock is an exclusive lock (utils/core/portable.py: `flock`, or `msvcrt.locking` on Windows) on
`.pull_info.lock`, which holds the owner's pid for people to read. The system drops the lock when
its process dies, however it dies, so a stale file is simply taken over, and two runs started at
the same moment can never both hold it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from utils.core.errors import DataError, IntegoError
from utils.core.portable import open_no_follow, try_lock, unlock

log = logging.getLogger(__name__)

LOCK_FILE = ".pull_info.lock"


class RunLock:
    """An exclusive lock on `<home>/.pull_info.lock`, held from `acquire` to `release`."""

    def __init__(self, home: Path):
        self.path = home / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise a one-line error naming the run that holds it."""
        while True:
            fd = self._open()
            try:
                taken = try_lock(fd)
            except OSError as exc:
                os.close(fd)
                raise DataError(f"cannot take the lock {self.path}: {exc.strerror or exc}") from None
            if not taken:
                os.close(fd)
                owner = self._owner()
                raise IntegoError(f"another run is in progress{f' (pid {owner})' if owner else ''}") from None
            if self._still_at_path(fd):
                break
            # The holder removed the file between our open and our flock: that lock is gone; try the new file.
            os.close(fd)
        try:
            previous = os.read(fd, 64).decode("ascii", "replace").strip()
            if previous:
                log.warning("taking over a stale lock left by pid %s", previous if previous.isdigit() else "?")
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)  # os.pwrite is POSIX-only
            os.write(fd, f"{os.getpid()}\n".encode())
            os.fsync(fd)
        except OSError as exc:
            # A full disk: say so, and leave no empty lock file behind for people to wonder about.
            self._unlink_and_close(fd)
            raise DataError(f"cannot take the lock {self.path}: {exc.strerror or exc}") from None
        self._fd = fd

    def release(self) -> None:
        """Remove the lock file and drop the lock (removing first, so no one locks a file about to vanish)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            self._unlink_and_close(fd)

    def _open(self) -> int:
        try:
            return open_no_follow(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise DataError(f"cannot take the lock {self.path}: {exc.strerror or exc}") from None

    def _still_at_path(self, fd: int) -> bool:
        try:
            on_disk = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)

    def _unlink_and_close(self, fd: int) -> None:
        try:
            if self._still_at_path(fd):
                self.path.unlink()
        except OSError:
            # Windows refuses to remove a file that is open: empty it, so the next run finds no stale pid.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
        finally:
            with contextlib.suppress(OSError):
                unlock(fd)
            os.close(fd)

    def _owner(self) -> int | None:
        try:
            text = self.path.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None
