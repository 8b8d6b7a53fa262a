"""The one URL validator and the one loopback rule, for every address a setting or a flag gives.

Plain http:// is allowed only to a loopback host (the simulators, a local relay), so no key or
password crosses a network in clear text; a URL never carries a user name or a password. The
Freshservice forms ('acme', 'acme.freshservice.com') are expanded here and then checked the same way.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, parse_qsl, urlsplit

from utils.core.errors import ConfigError
from utils.core.secrets import looks_secret

# What is wrong with a URL, for callers that word it their own way.
NOT_A_URL = "is not a URL"
HAS_SPACES = "is not a URL (it has spaces or quotes)"
NOT_HTTPS = "must be an https:// address"
NOT_WEB = "must be a full https:// address"
PLAIN_HTTP = "must use https:// (plain http:// only to a loopback host)"
USER_INFO = "must not carry a user name or password"

FRESHSERVICE_ENV_URL = "FRESHSERVICE_URL"
_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_HOST_NAME = re.compile(r"^[A-Za-z0-9.-]+$")
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


# ---------------------------------------------------------------------------------------------
# The Freshservice helpdesk address


def freshservice_url(value: str | None, what: str = "Freshservice URL") -> str:
    """Turn `acme`, `acme.freshservice.com` or a full URL into `https://acme.freshservice.com` form.

    A ConfigError otherwise, worded with `what` ("malformed Freshservice URL '...': ..."); the settings
    reader passes "" and names the key itself.
    """
    if value is None or not value.strip():
        raise ConfigError(f"no Freshservice URL: set url in the [freshservice] table of integoreport.toml or "
                          f"{FRESHSERVICE_ENV_URL} (for example 'acme' or 'https://acme.freshservice.com'), or pass --url")
    text = value.strip()
    shown = url_for_message(text)  # errors show it without a user name, password or parameter values
    malformed = f"malformed {what + ' ' if what else ''}{shown!r}"
    if "://" not in text:
        if _ACCOUNT_NAME.match(text):
            return f"https://{text.lower()}.freshservice.com"
        if not (_HOST_NAME.match(text) and "." in text and ".." not in text):
            raise ConfigError(f"{malformed}: use 'acme', 'acme.freshservice.com' or 'https://acme.freshservice.com'")
        text = "https://" + text
    problem = url_problem(text)
    parts = urlsplit(text) if problem != NOT_A_URL else None
    if problem == NOT_A_URL or parts is None:
        raise ConfigError(f"{malformed}: bad host name or port")
    if problem == USER_INFO:
        raise ConfigError(f"{malformed}: it must not carry a user name or password (the API key goes in FRESHSERVICE_API_KEY "
                          "or token.txt)")
    if problem == PLAIN_HTTP:
        raise ConfigError(f"refusing plain http:// to {parts.hostname}: the API key would cross the network unencrypted; "
                          "use https://")
    if problem is not None or parts.query or parts.fragment:
        raise ConfigError(f"{malformed}: use 'https://acme.freshservice.com'")
    return _helpdesk_root(parts, malformed)


def _helpdesk_root(parts: SplitResult, malformed: str) -> str:
    host = parts.hostname or ""
    if not (_HOST_NAME.match(host) or ":" in host):
        raise ConfigError(f"{malformed}: bad host name")
    if parts.path.rstrip("/") not in ("", "/api/v2"):
        raise ConfigError(f"{malformed}: give the helpdesk address without a path")
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc.lower()}"
