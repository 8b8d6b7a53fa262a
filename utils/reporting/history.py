"""Each client's monthly figures kept in the home, so a report can compare with earlier months.

Every build stores the month's metrics JSON as `history/<client_id>/<YYYY-MM>.json` (atomic,
replacing the same month; kept forever, it is small). The builder never calls the network: the
history is read from those files by `build_report.py` and the batch and handed to the metrics
(`load_history`), which use it for the trend and the `previous` key (report-metrics.md). The
client id, not the name, is the key, so a renamed client keeps its history.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from utils.core.errors import DataError
from utils.core.files import read_json, write_json_atomic
from utils.core.lookup import count_or_none, dig, number_or_none
from utils.core.period import period_from_block, period_kind
from utils.reporting.metrics_csat import stored_positive_rate

HISTORY_DIR = "history"
TREND_MONTHS = 6  # the report month and the five before it
MAX_FIGURE = 10**12  # a bound no stored count, minutes or seconds of a real month comes near

log = logging.getLogger(__name__)

History = Mapping[str, Mapping[str, Any]]  # {"YYYY-MM": that month's stored metrics JSON}

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_PERIOD_KEY = re.compile(r"^\d{4}-Q[1-4]$|^\d{4}-(0[1-9]|1[0-2])\.\.\d{4}-(0[1-9]|1[0-2])$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

# The figures `previous` copies, as (section, key) paths into a stored metrics JSON.
PREVIOUS_FIGURES: tuple[tuple[str, ...], ...] = (
    ("volume", "created"), ("volume", "resolved"), ("volume", "open_at_end"),
    ("first_response", "median_s"), ("resolution", "median_s"),
    ("sla", "first_response", "rate"), ("sla", "resolution", "rate"),
    ("csat", "responses"), ("csat", "positive"),
    ("time", "total_minutes"),
)


# ---------------------------------------------------------------------------------------------
# Months


def add_months(month: str, delta: int) -> str:
    """'2026-10' moved by `delta` months: add_months('2026-01', -1) == '2025-12'."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_before(month: str, count: int) -> list[str]:
    """The `count` months before `month`, oldest first."""
    return [add_months(month, -back) for back in range(count, 0, -1)]


def metrics_month(metrics: Mapping[str, Any]) -> str:
    """The month a metrics JSON covers, YYYY-MM, read from its local period start; a quarter's or range's key (2026-Q3)."""
    block = metrics["period"]
    if period_kind(block) != "month":  # a period never files under its first month: months and periods stay apart
        return period_from_block(block).key
    start = str(block["start"])
    date.fromisoformat(start[:10])  # a readable date, or ValueError
    return start[:7]


def raw_month(raw: Mapping[str, Any]) -> str:
    """The month a raw data file covers, YYYY-MM in its report time zone (the file is checked already)."""
    period = raw["period"]
    if period_kind(period) != "month":
        return period_from_block(period).key
    start = datetime.fromisoformat(str(period["start"]).replace("Z", "+00:00")).astimezone(ZoneInfo(period["timezone"]))
    return f"{start.year:04d}-{start.month:02d}"


# ---------------------------------------------------------------------------------------------
# Files


def history_dir(home: Path, client_id: Any) -> Path:
    """history/<client_id>/ in the home; an id is a number in practice, anything else is made file-safe."""
    name = _UNSAFE.sub("_", str(client_id)) or "_"
    return home / HISTORY_DIR / name


def history_path(home: Path, client_id: Any, month: str) -> Path:
    """history/<client_id>/<month>.json; a quarter or range is kept under its own key (2026-Q3, 2026-07..2026-09)."""
    if not (_MONTH.match(month) or _PERIOD_KEY.match(month)):
        raise ValueError(f"not a month: {month!r}")
    return history_dir(home, client_id) / f"{month}.json"


def store_history(home: Path, metrics: Mapping[str, Any]) -> Path:
    """Keep this month's metrics JSON in the history, replacing an earlier build of the same month."""
    return write_json_atomic(history_path(home, metrics["client"]["id"], metrics_month(metrics)), metrics)


def read_history_file(path: Path, client_id: Any, month: str) -> dict | None:
    """One stored month, or None (with a warning in the log) when it is unreadable or is not that month's figures."""
    try:
        data = read_json(path, "history file")
    except DataError as exc:
        log.warning("ignoring the history file %s: %s", path, exc)
        return None
    try:
        fits = (isinstance(data, dict) and isinstance(data.get("volume"), dict)
                and str(data["client"]["id"]) == str(client_id) and metrics_month(data) == month)
    except (KeyError, TypeError, ValueError):
        fits = False
    if not fits:
        log.warning("ignoring the history file %s: it does not hold %s's figures for client %s", path, month, client_id)
        return None
    problem = figures_problem(data)
    if problem:
        log.warning("ignoring the history file %s: %s", path, problem)
        return None
    return data


def figures_problem(stored: Mapping[str, Any]) -> str | None:
    """Why a stored month's numbers cannot be used, or None.

    The file is hand-editable: `NaN`, `Infinity` or `1e999` parse as JSON, and a count of `1e308`
    is finite but overflows the changes against it (`round(inf)`); either would crash the report
    or print "inf" or "nan". No real month has a figure near MAX_FIGURE, and a rate is 0 to 1.
    """
    if _has_non_finite(stored):
        return "it holds a number that is not finite (NaN or Infinity)"
    for path in PREVIOUS_FIGURES:
        value = number_or_none(dig(stored, *path))
        if value is not None and not 0 <= value <= (1 if path[-1] == "rate" else MAX_FIGURE):
            return f"its {'.'.join(path)} is out of range"
    return None


def _has_non_finite(data: Any) -> bool:
    """Whether any float in the parsed JSON is inf or NaN (walked without recursion: the file may nest deeply)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def load_history(home: Path, client_id: Any, report_month: str, months: int = TREND_MONTHS - 1) -> dict[str, dict]:
    """The stored figures of the `months` months before the report month that have a history file."""
    found: dict[str, dict] = {}
    for month in months_before(report_month, months):
        path = history_path(home, client_id, month)
        if path.exists():
            data = read_history_file(path, client_id, month)
            if data is not None:
                found[month] = data
    return found


def history_for_raw(home: Path, raw: Mapping[str, Any]) -> dict[str, dict]:
    """The stored months a report built from `raw` uses (the five before its month)."""
    if period_kind(raw["period"]) == "month":
        return load_history(home, raw["client"]["id"], raw_month(raw))
    # A quarter's or range's report compares with the months before its first month, as a month's does, and shows
    # its own months side by side and the period of the same length before it.
    period = period_from_block(raw["period"])
    found = load_history(home, raw["client"]["id"], period.months[0])
    found.update(period_history(home, raw["client"]["id"], period.months, period.kind))
    return found


def previous_period_key(months: list[str], kind: str) -> tuple[str, list[str]]:
    """The key and months of the period of the same length just before `months` (Q3's: Q2)."""
    earlier = months_before(months[0], len(months))
    if kind == "quarter":
        return f"{earlier[0][:4]}-Q{(int(earlier[0][5:7]) - 1) // 3 + 1}", earlier
    return (f"{earlier[0]}..{earlier[-1]}" if len(earlier) > 1 else earlier[0]), earlier


def period_history(home: Path, client_id: Any, months: list[str], kind: str) -> dict[str, dict]:
    """The stored months of a period and of the period before it, and that earlier period itself where it was built whole."""
    previous_key, previous_months = previous_period_key(months, kind)
    found: dict[str, dict] = {}
    for key in [*previous_months, *months, previous_key]:
        path = history_path(home, client_id, key)
        if path.exists():
            data = read_history_file(path, client_id, key)
            if data is not None:
                found[key] = data
    return found


def has_month(home: Path, client_id: Any, month: str) -> bool:
    """Whether the client's history holds a readable file for `month`."""
    path = history_path(home, client_id, month)
    return path.exists() and read_history_file(path, client_id, month) is not None


# ---------------------------------------------------------------------------------------------
# What the metrics take from it


def trend_figures(metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    """The quality figures a trend entry carries: from a stored month, or nulls without one."""
    return {
        "first_response_median_s": dig(metrics, "first_response", "median_s"),
        "resolution_median_s": dig(metrics, "resolution", "median_s"),
        "sla_resolution_rate": dig(metrics, "sla", "resolution", "rate"),
    }


def stored_trend_entry(month: str, stored: Mapping[str, Any]) -> dict[str, Any]:
    """A trend entry for a month with a history file: its counts and figures as stored."""
    volume = stored.get("volume")
    if not isinstance(volume, Mapping):
        volume = {}
    return {"month": month, "created": count_or_none(volume.get("created")), "resolved": count_or_none(volume.get("resolved")),
            **trend_figures(stored)}


def previous_figures(history: History, report_month: str) -> dict[str, Any] | None:
    """The `previous` key: the month before's figures, each copied as stored, and its positive-rating share; None without its file."""
    month = add_months(report_month, -1)
    stored = history.get(month)
    if stored is None:
        return None
    previous: dict[str, Any] = {"month": month}
    for path in PREVIOUS_FIGURES:
        target = previous
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = dig(stored, *path)
    # The share, as that month's report showed it (a month stored by an older build has only the counts).
    previous["csat"]["positive_rate"] = stored_positive_rate(stored.get("csat"))
    return previous
