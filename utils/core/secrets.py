"""The one table of secrets, and `read_secret`: every secret comes from its environment variable, else its own file.

Secrets never live in integoreport.toml (the settings reader refuses a key named like one and says
where it goes, from this table). A secret read here is registered for redaction, so no log line or
error message can show it.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from utils.core.errors import ConfigError, register_secret
from utils.core.files import NotARegularFile, read_regular_text
from utils.core.portable import MODE_BITS_ARE_ACCESS_CONTROL

log = logging.getLogger(__name__)
_warned: set[str] = set()


@dataclass(frozen=True)
class SecretSpec:
    """Where a secret comes from instead of the settings file: an environment variable, else a file in the home."""

    env_var: str  # e.g. "SMTP_PASSWORD"
    file_name: str  # e.g. "smtp_password.txt"
    what: str  # for messages: "SMTP password"


SMTP_PASSWORD = SecretSpec("SMTP_PASSWORD", "smtp_password.txt", "SMTP password")
MAILCHIMP_KEY = SecretSpec("MAILCHIMP_TRANSACTIONAL_KEY", "mailchimp_key.txt", "Mailchimp Transactional key")

# The settings table each secret belongs to: where the "secrets never go in the file" error sends it.
# A data source's own secret is in its TableSpec (utils/sources), which the settings reader adds to these.
SECRETS: dict[str, SecretSpec] = {
    "delivery.smtp": SMTP_PASSWORD,
    "delivery.mailchimp": MAILCHIMP_KEY,
}

SECRET_KEY_NAMES = frozenset({"password", "passwd", "pass", "secret", "client_secret", "key", "api_key", "apikey",
                              "token", "api_token", "access_token"})


def looks_secret(name: str) -> bool:
    """A setting or URL parameter named like a secret (password, token, api_key, client_secret, ...)."""
    lowered = name.lower()
    return lowered in SECRET_KEY_NAMES or lowered.endswith(("_password", "_secret", "_token", "_key"))


def read_secret(home: Path, spec: SecretSpec, env: Mapping[str, str] | None = None) -> str:
    """A secret: its environment variable if set, else its file in the home (utf-8, BOM allowed, stripped).

    Warns once when the file is readable by other users; registers the secret for redaction.
    """
    env = os.environ if env is None else env
    value = env.get(spec.env_var, "").strip()
    if not value:
        path = home / spec.file_name
        try:
            value = read_regular_text(path, encoding="utf-8-sig").strip()
        except FileNotFoundError:
            value = ""
        except NotARegularFile as exc:
            raise ConfigError(f"cannot read the {spec.what}: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the {spec.what} from {path}: {getattr(exc, 'strerror', None) or exc}") from None
        if not value:
            raise ConfigError(f"no {spec.what}: set {spec.env_var} or put it in {path}")
        _warn_if_readable_by_others(path)
    register_secret(value)
    return value


def _warn_if_readable_by_others(path: Path) -> None:
    if not MODE_BITS_ARE_ACCESS_CONTROL:  # Windows: ACLs decide, and every file's mode looks readable by all
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        warn_once(f"{path} is readable by other users; run: chmod 600 {path}")


def warn_once(message: str, logger: logging.Logger = log) -> None:
    """Log a settings warning once per run, however often the settings are read."""
    if message not in _warned:
        _warned.add(message)
        logger.warning("%s", message)
