"""One data source, declared once: its settings, how its client is made, its pull, its check, its report section.

The batch, `--check`, `build_report.py`, the attention list and the demo loop over `SOURCES`
(utils/sources/__init__.py); a new source is one more declaration (docs/adding-a-source.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from utils.core.period import Period
from utils.core.settings import Settings, TableSpec
from utils.reporting.section import AttentionRule, ReportSection


@dataclass(frozen=True)
class Source:
    """Everything the run needs to know about one data source."""

    name: str  # raw_data/<name>_<CLIENT_ID>.json, the index's and the log's name for it
    title: str  # how people read its name: "Microsoft 365"
    settings: TableSpec | None  # its [table] in integoreport.toml and its secret; None: it has none
    client_field: str | None  # its key in [clients.ID] ("ms365_tenant"); None: every client has it (Freshservice)
    make_client: Callable[[Settings], Any]  # the service's client for a run (one per run, shared by its clients)
    pull: Callable[[Any, Settings, str, Period], dict]  # (client, settings, client id, period) -> the raw document
    check: Callable[[Settings], str | None]  # one cheap call: what it reached, None when not configured; raises when refused
    report: ReportSection | None  # its section of the report; None: it feeds the main body (Freshservice)
    attention: tuple[AttentionRule, ...] = ()  # its kinds of "Needs your attention" items
