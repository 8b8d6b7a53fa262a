"""The report period: one calendar month, a quarter or a range of whole months [start, end) in the report time zone.

The puller picks it (--month, --quarter or --from/--to; --tz, else the zone the settings resolved: [report] timezone
or REPORT_TIMEZONE, else the machine's) and writes it into the raw file; the metrics read it back from there.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from utils.core import clock
from utils.core.errors import ConfigError

EARLIEST_YEAR = 1970  # no helpdesk data is older; earlier years only reach datetime's edges
MAX_PERIOD_MONTHS = 12  # a longer range outgrows Graph's 90 days and a readable report
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]
PERIOD_KINDS = ("month", "quarter", "range")
PERIOD_FORMS = "--month YYYY-MM, --quarter YYYY-Qn or --from YYYY-MM --to YYYY-MM"

log = logging.getLogger(__name__)


def _month_key(year: int, number: int) -> str:
    return f"{year:04d}-{number:02d}"


@dataclass(frozen=True)
class Period:
    """Whole calendar months [start, end) in the report time zone: a month, a quarter or a range."""

    start: datetime
    end: datetime
    timezone: str
    kind: str = "month"

    @property
    def month(self) -> str:
        """The period's name on disk (reports/<month>/, history/<client>/<month>.json): YYYY-MM, YYYY-Qn or YYYY-MM..YYYY-MM."""
        return self.key

    @property
    def key(self) -> str:
        first, last = self.months[0], self.months[-1]
        if self.kind == "quarter":
            return f"{first[:4]}-Q{(int(first[5:7]) - 1) // 3 + 1}"
        if self.kind == "range":
            return f"{first}..{last}"
        return first

    @property
    def months(self) -> list[str]:
        """Every calendar month of the period, YYYY-MM, oldest first."""
        start = self.start.astimezone(self.zone)
        end = (self.end - timedelta(seconds=1)).astimezone(self.zone)
        first, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
        return [_month_key(index // 12, index % 12 + 1) for index in range(first, last + 1)]

    @property
    def label(self) -> str:
        first, last = self.months[0], self.months[-1]
        if self.kind == "quarter":
            return f"Q{(int(first[5:7]) - 1) // 3 + 1} {first[:4]}"
        first_name, last_name = MONTH_NAMES[int(first[5:7]) - 1], MONTH_NAMES[int(last[5:7]) - 1]
        if self.kind == "range":
            if first[:4] == last[:4]:
                return f"{first_name} \u2013 {last_name} {last[:4]}"
            return f"{first_name} {first[:4]} \u2013 {last_name} {last[:4]}"
        return f"{first_name} {first[:4]}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_month(self) -> bool:
        return self.kind == "month"

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "start": self.start.isoformat(), "end": self.end.isoformat(), "timezone": self.timezone,
                "label": self.label}


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


def _month_index(text: str, flag: str) -> int:
    """'YYYY-MM' as a month count (year * 12 + month - 1), or a one-line error naming the flag."""
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ConfigError(f"malformed {flag} {text!r}: use YYYY-MM, for example 2026-10")
    if int(match.group(1)) < EARLIEST_YEAR:
        raise ConfigError(f"{flag} {text!r} is out of range: use a month from {EARLIEST_YEAR} on")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def _quarter_first_month(text: str, now_index: int) -> int:
    """'YYYY-Qn' (or 'previous': the last full quarter) as the month count of its first month."""
    if text.strip().lower() == "previous":
        return (now_index // 3) * 3 - 3
    match = re.fullmatch(r"([0-9]{4})-[Qq]([1-4])", text.strip())
    if not match:
        raise ConfigError(f"malformed --quarter {text!r}: use YYYY-Qn (for example 2026-Q3) or 'previous'")
    if int(match.group(1)) < EARLIEST_YEAR:
        raise ConfigError(f"--quarter {text!r} is out of range: use a quarter from {EARLIEST_YEAR} on")
    return int(match.group(1)) * 12 + (int(match.group(2)) - 1) * 3


def parse_period(timezone: str, month: str | None = None, quarter: str | None = None, date_from: str | None = None,
                 date_to: str | None = None, now: datetime | None = None) -> Period:
    """The period to report on, from exactly one form (--month, --quarter, --from/--to), else the previous full month.

    Every mistake is a one-line ConfigError (exit 2): two forms at once, --from without --to, a range backwards
    or over MAX_PERIOD_MONTHS months, a malformed value, or a period that has not begun.
    """
    zone = ZoneInfo(timezone)
    now_local = (now or clock.now()).astimezone(zone)
    now_index = now_local.year * 12 + now_local.month - 1
    forms = [name for name, given in (("--month", month), ("--quarter", quarter), ("--from/--to", date_from or date_to)) if given]
    if len(forms) > 1:
        raise ConfigError(f"choose one period: {' and '.join(forms)} were both given (use {PERIOD_FORMS})")
    kind, first, count = "month", now_index - 1, 1
    if month:
        first = _month_index(month, "month")
    elif quarter:
        kind, first, count = "quarter", _quarter_first_month(quarter, now_index), 3
    elif date_from or date_to:
        if not (date_from and date_to):
            raise ConfigError("--from and --to go together: give both, as YYYY-MM")
        first, last = _month_index(date_from, "--from"), _month_index(date_to, "--to")
        if last < first:
            raise ConfigError(f"--to {date_to} is before --from {date_from}")
        if last - first + 1 > MAX_PERIOD_MONTHS:
            raise ConfigError(f"--from {date_from} --to {date_to} spans {last - first + 1} months: at most {MAX_PERIOD_MONTHS}")
        kind, count = ("month" if last == first else "range"), last - first + 1
    return _build_period(first, count, kind, zone, timezone, now_local)


def _build_period(first: int, count: int, kind: str, zone: ZoneInfo, timezone: str, now_local: datetime) -> Period:
    start = datetime(first // 12, first % 12 + 1, 1, tzinfo=zone)
    name = _month_key(first // 12, first % 12 + 1)
    if start > now_local:  # checked before the end is built: December 9999 has no next month
        raise ConfigError(f"{name if kind == 'month' else 'the period'} is in the future: nothing to report yet")
    after = first + count
    end = datetime(after // 12, after % 12 + 1, 1, tzinfo=zone)
    period = Period(start, end, timezone, kind)
    if end > now_local:
        log.warning("%s is not over yet: the report will cover it up to now", period.key)
    return period


def report_period(month: str | None, timezone: str, now: datetime | None = None) -> Period:
    """The month to report on: `month` ('YYYY-MM') or the previous full month as of now in `timezone`."""
    return parse_period(timezone, month=month, now=now)


def period_from_key(key: str, timezone: str, now: datetime | None = None) -> Period:
    """The period a directory name stands for: 'YYYY-MM', 'YYYY-Qn' or 'YYYY-MM..YYYY-MM'."""
    if ".." in key:
        first, _, last = key.partition("..")
        return parse_period(timezone, date_from=first, date_to=last, now=now)
    if "Q" in key.upper():
        return parse_period(timezone, quarter=key, now=now)
    return parse_period(timezone, month=key, now=now)


def period_kind(block: Mapping[str, Any]) -> str:
    """The kind a stored period block names; blocks written before periods beyond a month are months."""
    kind = block.get("kind", "month")
    return kind if kind in PERIOD_KINDS else "month"


def add_period_arguments(parser: argparse.ArgumentParser, what: str = "the month") -> None:
    """--month, --quarter, --from and --to on a script's parser; `period_of` turns them into one Period."""
    parser.add_argument("--month", help=f"{what}, YYYY-MM (default: the previous full month)")
    parser.add_argument("--quarter", metavar="YYYY-Qn",
                        help="a quarter instead of a month, YYYY-Qn, or 'previous' for the last full quarter")
    parser.add_argument("--from", dest="date_from", metavar="YYYY-MM", help="with --to: a range of whole months (at most 12)")
    parser.add_argument("--to", dest="date_to", metavar="YYYY-MM", help="the last month of the --from range")


def period_of(args: argparse.Namespace, timezone: str, now: datetime | None = None) -> Period:
    """The period a script's arguments (see `add_period_arguments`) ask for."""
    return parse_period(timezone, month=args.month, quarter=getattr(args, "quarter", None),
                        date_from=getattr(args, "date_from", None), date_to=getattr(args, "date_to", None), now=now)


def period_from_block(block: Mapping[str, Any]) -> Period:
    """The Period a stored `period` block (raw file, metrics JSON) describes; ValueError when it is not one."""
    zone = ZoneInfo(str(block["timezone"])) if block.get("timezone") else None
    start = datetime.fromisoformat(str(block["start"]).replace("Z", "+00:00"))
    end = datetime.fromisoformat(str(block["end"]).replace("Z", "+00:00"))
    if zone is None:
        zone = start.tzinfo if isinstance(start.tzinfo, ZoneInfo) else ZoneInfo("UTC")
    return Period(start.astimezone(zone), end.astimezone(zone), zone.key, period_kind(block))


def key_label(key: str) -> str:
    """The label of a period's key, zone-free: '2026-10' -> 'October 2026', '2026-Q3' -> 'Q3 2026'."""
    return period_from_key(key, "UTC", now=datetime(9000, 1, 1, tzinfo=ZoneInfo("UTC"))).label
