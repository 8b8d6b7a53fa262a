"""What every page shares: the home it serves, demo or not, the background jobs and the sign-in limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from utils.web.auth import SignInLimiter, stored_password_hash
from utils.web.jobs import JobRunner


@dataclass
class WebState:
    """The application's state, one per app (kept in `app.extensions`)."""

    home: Path
    demo: bool = False
    runner: JobRunner = field(default_factory=JobRunner)
    limiter: SignInLimiter = field(default_factory=SignInLimiter)

    def password_hash(self) -> str | None:
        """Read on every request, so `main.py --set-password` takes effect without a restart."""
        return stored_password_hash(self.home)


def state() -> WebState:
    """The state of the app handling the current request."""
    found = current_app.extensions["integoreport"]
    assert isinstance(found, WebState)
    return found
