"""The one URL validator and the one loopback rule, for every address a setting or a flag gives.

Plain http:// is allowed only to a loopback host (the simulators, a local relay), so no key or
password crosses a network in clear text; a URL never carries a user name or a password. A source
that accepts short forms of its address (an account name) expands them itself, then checks the URL here.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qsl, urlsplit

from utils.core.secrets import looks_secret

# What is wrong with a URL, for callers that word it their own way.
NOT_A_URL = "is not a URL"
HAS_SPACES = "is not a URL (it has spaces or quotes)"
NOT_HTTPS = "must be an https:// address"
NOT_WEB = "must be a full https:// address"
PLAIN_HTTP = "must use https:// (plain http:// only to a loopback host)"
USER_INFO = "must not carry a user name or password"

_USER_INFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?.*@", re.S)
_QUERY = re.compile(r"[?#].*", re.S)


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (bracketed or not): the only hosts plain http:// or SMTP may reach."""
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


def url_problem(text: str, https_only: bool = False) -> str | None:
    """What is wrong with `text` as a service or image address (one of the constants above), or None."""
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return NOT_A_URL
    if any(ch.isspace() for ch in text) or '"' in text or "<" in text or ">" in text:
        return HAS_SPACES
    if https_only and parts.scheme != "https":
        return NOT_HTTPS
    if parts.scheme not in ("https", "http") or not host:
        return NOT_WEB
    if parts.scheme == "http" and not is_loopback(host):
        return PLAIN_HTTP
    if "@" in parts.netloc:  # any user info, even an empty one ('@host', ':password@host')
        return USER_INFO
    return None


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


def checked_url(text: str, https_only: bool = False) -> str:
    """`text` as a setting's URL (without a trailing slash); ValueError(reason) showing it without any secret."""
    problem = url_problem(text, https_only)
    secret = next((name for name in query_names(text) if looks_secret(name)), None)
    if not problem and secret is not None:
        problem = f"must not carry a secret ({secret}=...): secrets never go in integoreport.toml or in a URL"
    if problem:
        # Shown without its user name, password or parameter values: any of them may be a secret.
        raise ValueError(f"{problem}: {url_for_message(text)!r}")
    return text.rstrip("/")

