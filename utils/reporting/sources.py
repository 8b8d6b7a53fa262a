"""Data sources beside Freshservice, each giving the report one section (Microsoft 365, SentinelOne).

The contract a source keeps (its puller, metrics and templates are its own modules):

- Its puller writes `raw_data/<name>_<CLIENT_ID>.json`: `schema_version`, `source` (= name),
  `generated_at`, the same `period` block as the Freshservice file, `client` (`id`, ...).
- `compute(raw)` turns that file into the section's metrics: a dict stored in the metrics JSON
  under `key` (`m365`, `s1`), exactly as the metric definitions give them.
- `context(section)` words and formats those metrics for the templates (what
  `templates/sections/<name>.html` and `.txt` show as `section.view`); `summary(section)` is the
  executive summary's sentence for the source, or None.

`build_report.py` and the batch find a client's files with `load_source_files`; a file of another
period is ignored with a warning, never mixed into the month.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.core.errors import DataError
from utils.core.files import read_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """One data source's part in the report."""

    name: str  # file prefix: raw_data/<name>_<CLIENT_ID>.json; template: templates/sections/<name>.*
    key: str  # its key in the metrics JSON
    title: str  # how the report and the index name it
    compute: Callable[[dict], dict]
    context: Callable[[dict], dict]
    summary: Callable[[dict], str | None]


def _registered() -> tuple[Source, ...]:
    """Every source the report knows, in the order its sections appear."""
    # Each source module adds one line here (imported lazily so a broken source never stops the others).
    from utils.reporting import ms365_metrics
    from utils.reporting import sentinelone_metrics as s1

    return (
        Source(name="ms365", key="m365", title="Microsoft 365", compute=ms365_metrics.compute,
               context=ms365_metrics.context, summary=ms365_metrics.summary),
        Source(name="sentinelone", key="s1", title="Endpoint protection", compute=s1.compute, context=s1.context, summary=s1.summary),
    )


def sources() -> tuple[Source, ...]:
    return _registered()


def source_file(raw_dir: Path, name: str, client_id: str) -> Path:
    return raw_dir / f"{name}_{client_id}.json"


def same_period(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """True when two raw files' `period` blocks describe the same month in the same zone."""
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return False
    return all(a.get(part) == b.get(part) for part in ("start", "end", "timezone"))


def load_source_files(raw_dir: Path, client_id: str, period: Mapping[str, Any]) -> tuple[dict[str, dict], list[str]]:
    """The other sources' raw files for one client and period: ({name: raw}, warnings)."""
    found: dict[str, dict] = {}
    warnings: list[str] = []
    for source in sources():
        path = source_file(raw_dir, source.name, client_id)
        if not path.exists():
            continue
        try:
            raw = read_json(path, f"{source.title} raw data file")
        except DataError as exc:
            warnings.append(f"The {source.title} data file could not be read ({exc}); its section is left out.")
            continue
        if not isinstance(raw, dict) or raw.get("source") != source.name:
            warnings.append(f"{path.name} is not a {source.title} raw data file; its section is left out.")
            continue
        if not same_period(raw.get("period"), period):
            label = raw.get("period", {}).get("label") if isinstance(raw.get("period"), dict) else None
            log.warning("ignoring %s: it holds %s, not this report's month", path, label or "another period")
            continue
        found[source.name] = raw
    return found, warnings


def compute_sections(extra_raw: Mapping[str, dict]) -> dict[str, dict]:
    """{metrics key: section metrics} for every source present in `extra_raw`."""
    sections: dict[str, dict] = {}
    for source in sources():
        raw = extra_raw.get(source.name)
        if raw is None:
            continue
        try:
            sections[source.key] = source.compute(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{source.title} raw data does not fit ({type(exc).__name__}: {exc})") from None
    return sections


def section_views(metrics: Mapping[str, Any], failures: Mapping[str, str] | None = None) -> tuple[list[dict], list[str], list[str]]:
    """(sections for the templates, summary sentences, notes on sources that could not be read)."""
    views: list[dict] = []
    sentences: list[str] = []
    notes: list[str] = []
    for source in sources():
        section = metrics.get(source.key)
        if section is not None:
            views.append({"name": source.name, "title": source.title, "view": source.context(section)})
            sentence = source.summary(section)
            if sentence:
                sentences.append(sentence)
        elif failures and source.name in failures:
            notes.append(f"The {source.title} data could not be read this month: {failures[source.name]}")
    return views, sentences, notes
