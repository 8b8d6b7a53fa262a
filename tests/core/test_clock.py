"""INTEGOREPORT_NOW: one clock for the default month, the demo's anchor and the "as of" stamps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simulators.demo_freshservice import build_demo_account
from utils.core import clock
from utils.core.errors import ConfigError
from utils.core.period import report_period


def test_now_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV_NOW, "2026-03-01T00:30:00+14:00")
    assert clock.now() == datetime(2026, 2, 28, 10, 30, tzinfo=UTC)
    monkeypatch.setenv(clock.ENV_NOW, "2026-03-31T23:59:59Z")
    assert clock.now() == datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", "2026-03-01T00:00:00", "2026-13-01T00:00:00Z"])
def test_a_bad_setting_is_a_settings_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(clock.ENV_NOW, value)
    with pytest.raises(ConfigError, match="INTEGOREPORT_NOW"):
        clock.now()


def test_default_month_and_demo_anchor_use_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first of the month in Kiritimati is still the last day of the month before in UTC.
    monkeypatch.setenv(clock.ENV_NOW, "2026-07-01T02:00:00+14:00")
    assert report_period(None, "Pacific/Kiritimati").month == "2026-06"
    assert report_period(None, "UTC").month == "2026-05"
    assert build_demo_account().now == datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
