"""A log file for each run under logs/ (the last twelve are kept), for the owner only."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from utils.core.cli import RedactingFilter
from utils.core.portable import open_no_follow

log = logging.getLogger(__name__)

LOGS_DIR = "logs"
KEEP_LOGS = 12


@contextmanager
def run_log_file(home: Path) -> Iterator[Path | None]:
    """A log file for this run under logs/ (the last twelve are kept), attached while the block runs."""
    logs = home / LOGS_DIR
    try:
        logs.mkdir(mode=0o700, parents=True, exist_ok=True)  # the log names clients: for the owner only
        # Named by the real local time, like the lines inside it (INTEGOREPORT_NOW is the report's clock).
        path = logs / f"pull_info-{datetime.now().strftime('%Y%m%d-%H%M%S')}.log"
        os.close(open_no_follow(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        log.warning("no log file: %s", exc)
        yield None
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    for old in sorted(logs.glob("pull_info-*.log"))[:-KEEP_LOGS]:
        old.unlink(missing_ok=True)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
