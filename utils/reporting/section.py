"""A data source's part in the report: its metrics, how they are worded, its templates; and attention rules.

The reporting engine knows no source by name: `build_outputs` and `compute_report_data` are handed
the sections (the declared sources' `report`, utils.sources) and loop over them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class AttentionRule:
    """One kind of "Needs your attention" item: its place in the list, its count, its sentence."""

    kind: str  # the item's `kind` in the metrics JSON, e.g. "admins_without_mfa"
    rank: int  # the list's order, most urgent first (lower first)
    count: Callable[[Mapping[str, Any]], int | None]  # from the whole metrics JSON; None: not measurable
    text: Callable[[int], str]  # the sentence for a count above 0


@dataclass(frozen=True)
class ReportSection:
    """A source's section: raw file -> metrics under `key` -> the template's view and the summary sentence."""

    name: str  # raw_data/<name>_<CLIENT_ID>.json; templates <templates>/<name>.html and .txt
    key: str  # its key in the metrics JSON
    title: str  # how the report and the index name it
    compute: Callable[[dict], dict]
    context: Callable[[dict], dict]
    summary: Callable[[dict], str | None]
    templates: Path | None = None  # the folder of its section templates; None: templates/sections
