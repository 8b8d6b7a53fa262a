"""Where a puller writes its raw file: raw_data/<source>_<CLIENT_ID>.json under the home."""

from __future__ import annotations

from pathlib import Path

from utils.core.errors import DataError
from utils.core.files import is_valid_id, safe_child
from utils.core.home import RAW_DIR


def raw_data_path(home: Path, source: str, client_id: str) -> Path:
    """raw_data/<source>_<ID>.json; a DataError for an id that is not all digits (it names a file)."""
    if not is_valid_id(client_id):
        raise DataError(f"refusing client id {client_id!r} as a file name: ids are digits only")
    return safe_child(home / RAW_DIR, f"{source}_{client_id}.json")
