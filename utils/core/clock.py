"""One clock for the whole program: INTEGOREPORT_NOW, when set, is "now" everywhere it is read.

Tests and reruns set it (an ISO 8601 instant with an offset, e.g. 2026-11-01T08:00:00+00:00) so that
the default month, the "month not over yet" warning, the demo's anchor and the "as of" stamps do not
depend on the day the code runs. Unset, it is the real clock.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from utils.core.errors import ConfigError

ENV_NOW = "INTEGOREPORT_NOW"


def now() -> datetime:
    """The current instant as an aware UTC datetime (INTEGOREPORT_NOW when set)."""
    value = os.environ.get(ENV_NOW, "").strip()
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise ConfigError(f"{ENV_NOW} must be an ISO 8601 instant with an offset, e.g. 2026-11-01T08:00:00+00:00, not {value!r}") from None
    if moment.tzinfo is None:
        raise ConfigError(f"{ENV_NOW} needs an offset (e.g. +00:00 or Z): {value!r}")
    return moment.astimezone(UTC)
