"""The error family every script maps to a one-line message and an exit code."""

from __future__ import annotations

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
    """400 naming the request fields it refused (Freshservice's `errors[].field`)."""

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
