"""The settings as every script reads them: integoreport.toml with every declared source's own table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from utils.core.settings import Settings, load_settings
from utils.sources import settings_tables


def read_settings(home: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """`load_settings` with `settings_tables()`, as pull_info.py, build_report.py and the other scripts call it."""
    return load_settings(home, env, tables=settings_tables())
