"""The raw files of the data sources beside Freshservice, each giving the report one section.

The sections themselves are declared with the sources (utils.sources; `ReportSection` in
utils.reporting.section); this module finds their raw files. The contract a source keeps:

- Its puller writes `raw_data/<name>_<CLIENT_ID>.json`: `schema_version`, `source` (= name),
  `generated_at`, the same `period` block as the Freshservice file, `client` (`id`, ...).
- Its section's `compute(raw)` turns that file into the section's metrics: a dict stored in the
  metrics JSON under `key` (`m365`, `s1`), exactly as the metric definitions give them.
- `context(section)` words and formats those metrics for the templates (what
  `templates/sections/<name>.html` and `.txt` show as `section.view`); `summary(section)` is the
  executive summary's sentence for the source, or None.

`build_report.py` and the batch find a client's files with `load_source_files`; a file of another
period is ignored with a warning, never mixed into the month.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from utils.core.errors import DataError
from utils.core.files import read_json
from utils.reporting.section import ReportSection

log = logging.getLogger(__name__)


def source_file(raw_dir: Path, name: str, client_id: str) -> Path:
    return raw_dir / f"{name}_{client_id}.json"


def same_period(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """True when two raw files' `period` blocks describe the same month in the same zone."""
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return False
    return all(a.get(part) == b.get(part) for part in ("start", "end", "timezone"))


def load_source_files(raw_dir: Path, client_id: str, period: Mapping[str, Any],
                      sections: Sequence[ReportSection] = ()) -> tuple[dict[str, dict], list[str]]:
    """The sections' raw files for one client and period: ({name: raw}, warnings); no sections given: today's."""
    found: dict[str, dict] = {}
    warnings: list[str] = []
    for source in sections:
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
