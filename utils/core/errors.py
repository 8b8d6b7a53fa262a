"""The error family every script maps to a one-line message and an exit code, and that one line.

`one_line(exc)` is the only way an exception becomes text a user sees (the command line, the batch's
index, the backfill, --check): registered secrets redacted, whitespace collapsed, control characters gone.
"""

from __future__ import annotations

import re

EXIT_OK = 0
EXIT_FAILURE = 1  # runtime failure: API, data, file
EXIT_USAGE = 2  # usage or configuration error
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class IntegoError(Exception):
    """Base of every error the scripts turn into a one-line message."""

    exit_code = EXIT_FAILURE


class ConfigError(IntegoError):
    """Missing or malformed configuration (URL, key, home, arguments)."""

    exit_code = EXIT_USAGE


class DataError(IntegoError):
    """A file we read or write is missing, unreadable or of the wrong shape."""


class APIError(IntegoError):
    """A request to a service failed; carries status, URL path and the service's message, never a secret."""

    def __init__(self, message: str, status: int | None = None, path: str | None = None):
        super().__init__(message)
        self.status = status
        self.path = path


class AuthenticationError(APIError):
    """401: the API key was refused."""


class ForbiddenError(APIError):
    """403: the key's role may not read this resource."""


class ValidationFailed(APIError):
    """400 naming the request fields it refused (the body's `errors[].field`), so a caller can retry without them."""

    def __init__(self, message: str, status: int | None = None, path: str | None = None, fields: tuple[str, ...] = ()):
        super().__init__(message, status, path)
        self.fields = fields


class NotFoundError(APIError):
    """404: no such resource (or no such endpoint on this account)."""


class ConnectionFailed(APIError):
    """DNS failure, refused connection, timeout or dropped connection, after retries."""


class OutcomeUnknown(APIError):
    """A request that must not be sent twice failed after it may have reached the server."""


class WaitBudgetSpent(APIError):
    """A 429 asked for a longer wait than its service may still hold this run (see utils/services/http.py WaitBudget)."""


# ---------------------------------------------------------------------------------------------
# The one line a user sees

_secrets: set[str] = set()

# C0 and C1 controls and DEL, plus the bidirectional overrides that make text read other than it is.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def register_secret(secret: str) -> None:
    """Remember a secret (an API key, a password) so that no log line or error message can show it."""
    if secret and len(secret) >= 4:
        _secrets.add(secret)


def redact(text: str) -> str:
    """Replace every registered secret in `text` with [REDACTED]."""
    for secret in _secrets:
        text = text.replace(secret, "[REDACTED]")
    return text


def clean_text(text: str) -> str:
    """`text` safe for one line of a log or terminal: a line break or tab becomes a space, other controls go.

    Server text (a department name, an error message) could otherwise forge log lines or send
    escape sequences to the terminal.
    """
    return _CONTROL.sub(lambda match: " " if match.group() in "\t\n\r\x0b\x0c" else "", text)


def clean_line(text: str) -> str:
    """Any text as one clean line: secrets redacted, whitespace runs made one space, control characters removed."""
    return " ".join(clean_text(redact(text)).split())


def one_line(exc: BaseException) -> str:
    """The one line a user sees for `exc`: our own errors by their message, anything else also by its type."""
    text = str(exc) if isinstance(exc, IntegoError) else f"unexpected {type(exc).__name__}: {exc}"
    return clean_line(text) or type(exc).__name__
