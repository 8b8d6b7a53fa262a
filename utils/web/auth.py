"""Who may use the web interface: the password (a salted scrypt hash), the session key, the sign-in limit, CSRF tokens.

The password hash lives in `<home>/web_password.txt` (owner-only, git-ignored) or, for a server whose
home is read-only, in $INTEGOREPORT_WEB_PASSWORD_HASH. Without either, the interface has no password
and serves loopback only (main.py refuses any other address).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from utils.core.errors import ConfigError
from utils.core.files import read_regular_text, write_text_atomic

PASSWORD_FILE = "web_password.txt"
SECRET_KEY_FILE = "web_secret_key.txt"
ENV_PASSWORD_HASH = "INTEGOREPORT_WEB_PASSWORD_HASH"
MIN_PASSWORD_LENGTH = 10
# scrypt at n=2**14, r=8: about 16 MB and a few tens of milliseconds a guess, the figure Python's docs suggest.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
FAILURE_WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ADDRESS = 5
MAX_FAILURES_OVERALL = 20  # guesses spread over many addresses are limited too


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` (hex) of `password` with a fresh random salt."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash (compared in constant time); False for a malformed hash."""
    try:
        scheme, n, r, p, salt, digest = stored.strip().split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                   dklen=len(bytes.fromhex(digest)), maxmem=256 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, bytes.fromhex(digest))


def check_new_password(password: str) -> None:
    """A ConfigError (one line) for a password too short to protect a server left running."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def set_password(home: Path, password: str) -> Path:
    """Store the hash of `password` in `<home>/web_password.txt`, readable by the owner only."""
    check_new_password(password)
    return write_text_atomic(home / PASSWORD_FILE, hash_password(password) + "\n", private=True)


def stored_password_hash(home: Path, env: Mapping[str, str] | None = None) -> str | None:
    """The password hash: $INTEGOREPORT_WEB_PASSWORD_HASH, else the file in the home, else None (no password)."""
    env = os.environ if env is None else env
    value = env.get(ENV_PASSWORD_HASH, "").strip()
    if value:
        return value
    try:
        value = read_regular_text(home / PASSWORD_FILE).strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the web password file {home / PASSWORD_FILE}: {exc}") from None
    return value or None


def secret_key(home: Path) -> bytes:
    """The key that signs session cookies: created once in `<home>/web_secret_key.txt` (owner-only), then reused."""
    path = home / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        text = read_regular_text(path).strip()
        if len(text) < 32:
            raise ConfigError(f"the session key in {path} is too short: delete the file and a new one is made") from None
        return text.encode("ascii")
    except OSError as exc:
        raise ConfigError(f"cannot create the session key {path}: {exc.strerror or exc}") from None
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key.encode("ascii")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def password_fingerprint(stored_hash: str | None) -> str:
    """A short value that changes with the password, kept in each session so a new password signs everyone out."""
    return hashlib.sha256((stored_hash or "").encode("utf-8")).hexdigest()[:16]


@dataclass
class SignInLimiter:
    """Counts failed sign-ins in a sliding window, per address and overall; `retry_after` > 0 means refuse."""

    window: float = FAILURE_WINDOW_SECONDS
    per_address: int = MAX_FAILURES_PER_ADDRESS
    overall: int = MAX_FAILURES_OVERALL

    def __post_init__(self) -> None:
        self._failures: deque[tuple[float, str]] = deque()
        self._lock = threading.Lock()

    def _forget_old(self, now: float) -> None:
        while self._failures and self._failures[0][0] <= now - self.window:
            self._failures.popleft()

    def retry_after(self, address: str) -> int:
        """Seconds until `address` may try again (0: it may try now)."""
        now = time.monotonic()
        with self._lock:
            self._forget_old(now)
            mine = [at for at, who in self._failures if who == address]
            if len(mine) >= self.per_address:
                return max(1, int(mine[-self.per_address] + self.window - now))
            if len(self._failures) >= self.overall:
                return max(1, int(self._failures[-self.overall][0] + self.window - now))
        return 0

    def failed(self, address: str) -> None:
        with self._lock:
            self._failures.append((time.monotonic(), address))

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures = deque(entry for entry in self._failures if entry[1] != address)
