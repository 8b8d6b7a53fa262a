"""Checks of single setting values and the line numbers of keys in a TOML text (tomllib gives none).

Pure functions with no knowledge of the settings' layout; `utils.core.settings` uses them to validate
`integoreport.toml` and to say on which line a bad key sits.
"""

from __future__ import annotations

import ipaddress
import re
import string
import tomllib
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import getaddresses
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SUBJECT_FIELDS = frozenset({"client", "month", "msp"})


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


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def url_problem(text: str, https_only: bool) -> str | None:
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "is not a URL"
    if any(ch.isspace() for ch in text) or '"' in text or "<" in text or ">" in text:
        return "is not a URL (it has spaces or quotes)"
    if https_only and parts.scheme != "https":
        return "must be an https:// address"
    if parts.scheme not in ("https", "http") or not host:
        return "must be a full https:// address"
    if parts.scheme == "http" and not is_loopback(host):
        return "must use https:// (plain http:// only to a loopback host)"
    if parts.username or parts.password:
        return "must not carry a user name or password"
    return None


_USER_INFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?.*@", re.S)
_QUERY = re.compile(r"[?#].*", re.S)


def url_for_message(text: str) -> str:
    """A URL as an error line may show it: a user name or password (everything up to the last "@")
    becomes "***@", and a query or fragment "?***", since any of them may hold a secret."""
    return _QUERY.sub("?***", _USER_INFO.sub(lambda match: f"{match.group(1) or ''}***@", text))


def query_names(text: str) -> list[str]:
    """The names of the URL's query and fragment parameters (`?token=...`, `#access_token=...`)."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return []
    return [name for piece in (parts.query, parts.fragment) for name, _ in parse_qsl(piece, keep_blank_values=True)]


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
