"""Configuration shared by every script: where the project home is, which helpdesk, which key.

Precedence, highest first: command-line flags, environment variables, files in the project home.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from utils.core.errors import ConfigError
from utils.core.settings_values import url_for_message

PROJECT_ROOT = Path(__file__).resolve().parents[2]

ENV_HOME = "INTEGOREPORT_HOME"
ENV_URL = "FRESHSERVICE_URL"
ENV_KEY = "FRESHSERVICE_API_KEY"
ENV_RESERVE = "FRESHSERVICE_RATE_RESERVE"
ENV_WINDOW = "FRESHSERVICE_RATE_WINDOW"
TOKEN_FILE = "token.txt"
COMPANIES_FILE = "companies_list.json"
RAW_DIR = "raw_data"
REPORTS_DIR = "reports"
OUTPUT_REPORT = "output_report.html"

DEFAULT_RATE_RESERVE = 0.10  # share of X-Ratelimit-Total left for the account's other integrations
DEFAULT_RATE_WINDOW = 60.0  # Freshservice budgets credits per minute; a compressed-time simulator says otherwise

log = logging.getLogger(__name__)

_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_HOST_NAME = re.compile(r"^[A-Za-z0-9.-]+$")


@dataclass(frozen=True)
class Config:
    """What a network script needs: the helpdesk URL, the API key, the home folder, the rate-limit pacing."""

    url: str
    api_key: str
    home: Path
    rate_reserve: float = DEFAULT_RATE_RESERVE
    rate_window: float = DEFAULT_RATE_WINDOW


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    """The project home: INTEGOREPORT_HOME, else the project root (never the current directory, so cron works)."""
    env = os.environ if env is None else env
    value = env.get(ENV_HOME, "").strip()
    return Path(value).expanduser().resolve() if value else PROJECT_ROOT


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts plain http:// may reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_url(value: str | None) -> str:
    """Turn `acme`, `acme.freshservice.com` or a full URL into `https://acme.freshservice.com` form.

    Plain http:// is accepted only for loopback hosts, so the key never crosses a network in clear text.
    """
    if value is None or not value.strip():
        raise ConfigError(f"no Freshservice URL: set url in the [freshservice] table of integoreport.toml or {ENV_URL} "
                          "(for example 'acme' or 'https://acme.freshservice.com'), or pass --url")
    text = value.strip()
    shown = url_for_message(text)  # errors show it without a user name, password or parameter values
    if "://" not in text:
        if _ACCOUNT_NAME.match(text):
            return f"https://{text.lower()}.freshservice.com"
        if _HOST_NAME.match(text) and "." in text and ".." not in text:
            text = "https://" + text
        else:
            raise ConfigError(f"malformed Freshservice URL {shown!r}: use 'acme', 'acme.freshservice.com' or 'https://acme.freshservice.com'")
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise ConfigError(f"malformed Freshservice URL {shown!r}: bad host name or port") from None
    # Any user-info ('user@', ':password@', 'user:password@') is refused: the key is the only credential.
    if "@" in parts.netloc:
        raise ConfigError(f"malformed Freshservice URL {shown!r}: it must not carry a user name or password "
                          f"(the API key goes in {ENV_KEY} or {TOKEN_FILE})")
    if parts.scheme not in ("http", "https") or not host or parts.query or parts.fragment:
        raise ConfigError(f"malformed Freshservice URL {shown!r}: use 'https://acme.freshservice.com'")
    if not (_HOST_NAME.match(host) or ":" in host):
        raise ConfigError(f"malformed Freshservice URL {shown!r}: bad host name")
    path = parts.path.rstrip("/")
    if path not in ("", "/api/v2"):
        raise ConfigError(f"malformed Freshservice URL {shown!r}: give the helpdesk address without a path")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigError(f"refusing plain http:// to {host}: the API key would cross the network unencrypted; use https://")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc.lower()}"


def load_api_key(home: Path, env: Mapping[str, str] | None = None) -> str:
    """The API key: FRESHSERVICE_API_KEY if set, else token.txt in the home (the rule every secret follows)."""
    from utils.core.settings import read_secret  # imported here: utils.core.settings builds on this module

    key = read_secret(home, ENV_KEY, TOKEN_FILE, "Freshservice API key", env)
    try:
        key.encode("latin-1")
    except UnicodeEncodeError as exc:
        # HTTP headers carry Latin-1 only; requests would fail deep inside with an encoding error.
        raise ConfigError(f"the Freshservice API key has a character that cannot be sent (position {exc.start + 1}); "
                          f"copy the key again into {ENV_KEY} or {home / TOKEN_FILE}") from None
    return key


def parse_reserve(value: str | None) -> float:
    """The rate-limit reserve as a share of the budget, from '0.1' or '10%'."""
    if value is None or not value.strip():
        return DEFAULT_RATE_RESERVE
    text = value.strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ConfigError(f"{ENV_RESERVE} must be a share such as 0.1 or 10%, not {value!r}") from None
    if not 0 <= share < 1:
        raise ConfigError(f"{ENV_RESERVE} must be between 0 and 1 (or 0% and 99%), not {value!r}")
    return share


def parse_window(value: str | None) -> float:
    """The rate-limit window in seconds (default 60), from FRESHSERVICE_RATE_WINDOW."""
    if value is None or not value.strip():
        return DEFAULT_RATE_WINDOW
    try:
        seconds = float(value.strip())
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 0 < seconds <= 3600:
        raise ConfigError(f"{ENV_WINDOW} must be the rate-limit window in seconds (more than 0, at most 3600), not {value!r}")
    return seconds


def load_config(url: str | None = None, env: Mapping[str, str] | None = None, home: Path | None = None) -> Config:
    """Resolve the configuration of a network script; `url` (from --url) beats FRESHSERVICE_URL, which beats the settings file."""
    from utils.core.settings import load_settings  # imported here: utils.core.settings builds on this module

    env = os.environ if env is None else env
    home = home_dir(env) if home is None else home
    return Config(
        url=normalise_url(url if url else load_settings(home, env).freshservice_url),
        api_key=load_api_key(home, env),
        home=home,
        rate_reserve=parse_reserve(env.get(ENV_RESERVE)),
        rate_window=parse_window(env.get(ENV_WINDOW)),
    )


def ensure_writable_dir(path: Path, *, private: bool = False) -> Path:
    """Create `path` if needed (`private`: owner-only) and check we may write there, with a one-line error if not."""
    from utils.core.files import make_private_dir  # imported here: utils.core.files is for writers, this module for settings

    try:
        if private:
            make_private_dir(path)
        else:
            path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create folder {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"folder {path} is not writable")
    return path
