"""Where things live: the project home (INTEGOREPORT_HOME, else the project folder) and its files and folders.

What the scripts read from the home is in `utils.core.settings` (settings) and `utils.core.secrets`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from utils.core.errors import ConfigError
from utils.core.files import make_private_dir

PROJECT_ROOT = Path(__file__).resolve().parents[2]

ENV_HOME = "INTEGOREPORT_HOME"
COMPANIES_FILE = "companies_list.json"
RAW_DIR = "raw_data"
REPORTS_DIR = "reports"
OUTPUT_REPORT = "output_report.html"


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    """The project home: INTEGOREPORT_HOME, else the project root (never the current directory, so cron works)."""
    env = os.environ if env is None else env
    value = env.get(ENV_HOME, "").strip()
    return Path(value).expanduser().resolve() if value else PROJECT_ROOT


def ensure_writable_dir(path: Path, *, private: bool = False) -> Path:
    """Create `path` if needed (`private`: owner-only) and check we may write there, with a one-line error if not."""
    try:
        if private:
            make_private_dir(path)
        else:
            path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create folder {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"folder {path} is not writable")
    return path
