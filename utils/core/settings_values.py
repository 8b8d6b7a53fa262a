"""Checks of single setting values and the line numbers of keys in a TOML text (tomllib gives none).

Pure functions with no knowledge of the settings' layout; `utils.core.settings` uses them to validate
`integoreport.toml` and to say on which line a bad key sits. URLs are checked in `utils.core.urls`.
"""

from __future__ import annotations

import re
import string
import tomllib
from datetime import time
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import getaddresses
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from utils.core.errors import ConfigError
from utils.core.urls import checked_url, is_loopback

SUBJECT_FIELDS = frozenset({"client", "month", "msp"})
ENV_BUSINESS_HOURS = "INTEGOREPORT_BUSINESS_HOURS"
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def text_value(value: Any, one_line: bool = True) -> str:
    """A setting's string: stripped, not empty, one line unless `one_line` is False; ValueError(reason) otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string in quotes, not {type(value).__name__}")
    value = value.strip()
    if one_line and ("\r" in value or "\n" in value):
        raise ValueError("must be one line")
    if not value:
        raise ValueError("is empty")
    return value


def url_value(value: Any) -> str:
    """A service address, as a TableSpec check: a string, a full https:// URL (http:// only to a loopback host), no credentials."""
    return checked_url(text_value(value))


def parse_address(text: str) -> str:
    """One email address, 'addr' or 'Name <addr>', normalised; ValueError with a reason when it does not parse."""
    if "\r" in text or "\n" in text:
        raise ValueError("must not contain a line break")
    pairs = getaddresses([text])
    if len(pairs) != 1 or not pairs[0][1]:
        raise ValueError(f"is not one email address: {text!r}")
    name, addr_spec = pairs[0]
    if "<" not in text and text.strip() != addr_spec:
        raise ValueError(f"is not one email address (write 'Name <user@domain>'): {text!r}")
    try:
        address = Address(display_name=name, addr_spec=addr_spec)
    except (ValueError, IndexError, HeaderParseError):
        raise ValueError(f"is not a valid email address: {text!r}") from None
    if not address.username or "." not in address.domain and not is_loopback(address.domain):
        raise ValueError(f"is not a valid email address (it needs user@domain.example): {text!r}")
    # smtplib speaks ASCII only (no SMTPUTF8): a domain such as café.example would fail at RCPT, mid-batch.
    # (A non-ASCII user name is refused by Address above.)
    return str(Address(display_name=name, username=address.username, domain=ascii_domain(address.domain, text)))


def ascii_domain(domain: str, text: str) -> str:
    """An international domain (café.example) in its ASCII form (xn--caf-dma.example), as SMTP needs it."""
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"has a domain that is not a valid international domain name: {text!r}") from None


def subject_problem(subject: str) -> str | None:
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(subject) if name is not None]
    except ValueError as exc:
        return f"is not a valid template ({exc}); use {{client}}, {{month}} and {{msp}}, and {{{{ }}}} for braces"
    unknown = {name for name, _, _ in fields} - SUBJECT_FIELDS
    if unknown:
        return f"uses {', '.join('{' + name + '}' for name in sorted(unknown))}; only {{client}}, {{month}} and {{msp}} exist"
    # A format spec or conversion ({client:999999999}) could build a gigabyte subject or fail mid-batch.
    styled = sorted({f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
                     for name, spec, conversion in fields if spec or conversion})
    if styled:
        return f"uses {', '.join(styled)}; write {{client}}, {{month}} and {{msp}} plainly, with no format spec or conversion"
    return None


def timezone_problem(name: str) -> str | None:
    """Why `name` is not an IANA time zone this machine knows, or None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"is not a known time zone ({name!r}): use an IANA name such as Europe/London or America/New_York"
    return None


def zone_value(name: str) -> str:
    problem = timezone_problem(name)
    if problem:
        raise ValueError(problem)
    return name


def hours_value(hours: str) -> str:
    try:
        parse_business_hours(hours)
    except ConfigError:
        raise ValueError(f"must look like 'Mon-Fri 08:00-18:00', not {hours!r}") from None
    return hours


def color_value(color: str) -> str:
    if not _COLOR.match(color):
        raise ValueError(f"must be a colour as #RRGGBB (six hexadecimal digits), not {color!r}")
    return color.upper()


def same_value(value: Any) -> Any:
    """The check of a value any form of which is good."""
    return value


def parse_business_hours(text: str) -> tuple[frozenset[int], time, time]:
    """Parse 'Mon-Fri 08:00-18:00' or 'Mon,Tue,Sat 09:00-17:30' into days, start and end."""
    error = ConfigError(f"{ENV_BUSINESS_HOURS} must look like 'Mon-Fri 08:00-18:00', not {text!r}")
    parts = text.split()
    if len(parts) != 2:
        raise error
    day_part, hour_part = parts
    days: set[int] = set()
    for item in day_part.lower().split(","):
        ends = item.split("-")
        try:
            indexes = [_DAY_NAMES.index(name[:3]) for name in ends if name]
        except ValueError:
            raise error from None
        if len(indexes) == 1 and len(ends) == 1:
            days.add(indexes[0])
        elif len(indexes) == 2 and len(ends) == 2:
            first, last = indexes
            days.update(range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)])
        else:
            raise error
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", hour_part)
    if not match:
        raise error
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise error
    start = time(h1, m1)
    end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
    if end <= start:
        raise error
    return frozenset(days), start, end


# Line numbers: tomllib gives none, so scan the text for table headers and keys.


def locate_keys(text: str) -> dict[tuple[str, ...], int]:
    """Map each table path and key path to the line (1-based) where it first appears."""
    found: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.count('"""') % 2 or line.count("'''") % 2:
            was_inside = in_multiline
            in_multiline = not in_multiline
            if was_inside:
                continue
        elif in_multiline:
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            path = _key_path(_header_text(stripped[2:] if stripped.startswith("[[") else stripped[1:]))
            if path:
                table = path
                for length in range(1, len(path) + 1):
                    found.setdefault(path[:length], number)
            continue
        match = re.match(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=", line)
        if match:
            path = _key_path(match.group(1))
            if path:
                for length in range(1, len(path) + 1):
                    found.setdefault((*table, *path[:length]), number)
    return found


def _header_text(inner: str) -> str:
    """The key part of a table header, given the text after its opening bracket(s)."""
    quote = None
    for index, char in enumerate(inner):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "]":
            return inner[:index].strip()
    return inner.strip()


def _key_path(key_text: str) -> tuple[str, ...] | None:
    """'a."b.c".d' -> ('a', 'b.c', 'd'), using tomllib itself to read the quoting."""
    try:
        parsed: Any = tomllib.loads(f"{key_text} = 0")
    except tomllib.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(parsed, dict) and len(parsed) == 1:
        key, parsed = next(iter(parsed.items()))
        path.append(key)
    return tuple(path)
