"""The report month: one calendar month [start, end) in the report time zone.

The puller picks it (--month; --tz, else the zone the settings resolved: [report] timezone or
REPORT_TIMEZONE, else the machine's) and writes it into the raw file; the metrics read it back from there.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from utils.core import clock
from utils.core.errors import ConfigError

EARLIEST_YEAR = 1970  # no helpdesk data is older; earlier years only reach datetime's edges
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Period:
    """One calendar month [start, end) in the report time zone."""

    start: datetime
    end: datetime
    timezone: str

    @property
    def month(self) -> str:
        return f"{self.start.year:04d}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        return f"{MONTH_NAMES[self.start.month - 1]} {self.start.year}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "timezone": self.timezone, "label": self.label}


def machine_timezone() -> str:
    """The machine's IANA zone name (TZ, /etc/timezone, /etc/localtime), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    try:
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                ZoneInfo(name)
                return name
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return "UTC"


def resolve_timezone(name: str | None, default: str | None = None) -> str:
    """--tz, else `default` (the settings' zone, `Settings.timezone`), else the machine's; a one-line error for an unknown zone.

    The environment is not read here: REPORT_TIMEZONE is a setting, read once by `load_settings`.
    """
    name = (name or "").strip() or default or machine_timezone()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r}: use an IANA name such as Europe/London or America/New_York") from None
    return name


def report_period(month: str | None, timezone: str, now: datetime | None = None) -> Period:
    """The month to report on: `month` ('YYYY-MM') or the previous full month as of now in `timezone`."""
    zone = ZoneInfo(timezone)
    now_local = (now or clock.now()).astimezone(zone)
    if month:
        match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", month.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ConfigError(f"malformed month {month!r}: use YYYY-MM, for example 2026-10")
        year, number = int(match.group(1)), int(match.group(2))
        if year < EARLIEST_YEAR:
            raise ConfigError(f"month {month!r} is out of range: use a month from {EARLIEST_YEAR} on")
    else:
        previous = now_local.replace(day=1) - timedelta(days=1)
        year, number = previous.year, previous.month
    start = datetime(year, number, 1, tzinfo=zone)
    if start > now_local:  # checked before the end is built: December 9999 has no next month
        raise ConfigError(f"{year:04d}-{number:02d} is in the future: nothing to report yet")
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    if end > now_local:
        log.warning("%s is not over yet: the report will cover it up to now", f"{year:04d}-{number:02d}")
    return Period(start, end, timezone)
