"""The batch's raw files: raw_data/<source>_<CLIENT_ID>.json written atomically, the one replaced archived first.

A replaced or left-over file moves to raw_data/archive/<YYYY-MM>/ (the month inside it): nothing is thrown away.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from utils.core.errors import DataError
from utils.core.files import make_private_dir, read_json, safe_child, write_json_atomic
from utils.core.home import RAW_DIR
from utils.core.period import period_from_block, period_kind

RAW_FILE_NAME = re.compile(r"^[a-z0-9]+_([0-9]+)\.json$")  # raw_data/<source>_<CLIENT_ID>.json


def archive_raw_file(path: Path) -> Path | None:
    """Move one raw file to raw_data/archive/<YYYY-MM>/ (the month inside it); None when there is none."""
    if not path.is_file() or path.is_symlink():
        return None
    try:
        block = read_json(path, "raw file")["period"]
        # A quarter's or range's file goes under its own key (2026-Q3), never among its first month's files.
        month = period_from_block(block).key if period_kind(block) != "month" else str(block["start"])[:7]
        if not re.fullmatch(r"\d{4}-\d{2}|\d{4}-Q[1-4]|\d{4}-\d{2}\.\.\d{4}-\d{2}", month):
            raise ValueError(month)
    except (DataError, KeyError, TypeError, ValueError):
        month = "unknown"
    target_dir = path.parent / "archive" / month
    make_private_dir(target_dir)  # raw files hold client data: owner only
    target = target_dir / path.name
    counter = 2
    while target.exists():  # never overwrite an archived file: nothing is thrown away
        target = target_dir / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    shutil.move(str(path), str(target))
    return target


def archive_leftovers(raw_dir: Path, client_ids: set[str]) -> int:
    """Archive the raw files of every client a whole run does not pull (its own are archived as replaced)."""
    moved = 0
    for path in sorted(raw_dir.glob("*_*.json")):
        match = RAW_FILE_NAME.match(path.name)
        if match is not None and match.group(1) not in client_ids and archive_raw_file(path) is not None:
            moved += 1
    return moved


def write_raw_file(home: Path, source: str, client_id: str, raw: dict) -> Path:
    """raw_data/<source>_<CLIENT_ID>.json, the file it replaces archived first."""
    path = safe_child(home / RAW_DIR, f"{source}_{client_id}.json")
    archive_raw_file(path)
    return write_json_atomic(path, raw, private=True)
