"""The run lock: one batch at a time per project home."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from utils.errors import IntegoError

log = logging.getLogger("pull_info")

LOCK_FILE = ".pull_info.lock"


class RunLock:
    """A lock file holding our pid; a lock whose process is gone is taken over."""

    def __init__(self, home: Path):
        self.path = home / LOCK_FILE
        self.held = False

    def acquire(self) -> None:
        for _attempt in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is not None and _process_alive(owner):
                    raise IntegoError(f"another run is in progress (pid {owner})") from None
                log.warning("taking over a stale lock%s", f" left by pid {owner}" if owner else "")
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{os.getpid()}\n")
            self.held = True
            return
        raise IntegoError(f"could not take the lock {self.path}")

    def _owner(self) -> int | None:
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self.held and self._owner() == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
