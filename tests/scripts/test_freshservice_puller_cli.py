"""data_pullers/freshservice.py's command line: one clear line and exit 2 for a bad key, month, id or zone."""

from __future__ import annotations

import pytest

from utils.sources.freshservice_command import main as pull_main


def test_key_that_cannot_go_in_a_header_is_a_settings_error(home, monkeypatch, capsys):
    monkeypatch.setenv("FRESHSERVICE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("FRESHSERVICE_API_KEY", "key-with-\u20ac-sign")
    monkeypatch.setenv("INTEGOREPORT_NOW", "2026-11-26T12:00:00+00:00")
    assert pull_main(["123", "--month", "2026-10", "--tz", "UTC"]) == 2
    error = capsys.readouterr().err
    assert "API key has a character that cannot be sent" in error and "\u20ac" not in error and "unexpected" not in error


@pytest.mark.parametrize("argv, message", [
    (["123", "--month", "0000-01"], "out of range"),
    (["123", "--month", "9999-12"], "in the future"),
    (["123", "--month", "2026-13"], "malformed month"),
    (["123", "--month", "26-10"], "malformed month"),
    (["12a", "--month", "2026-10"], "client id must be a number"),
    (["../1", "--month", "2026-10"], "client id must be a number"),
    (["123", "--tz", "Mars/Olympus"], "unknown time zone"),
])
def test_usage_errors_exit_2_with_one_clear_line(monkeypatch, capsys, argv, message):
    monkeypatch.setenv("INTEGOREPORT_NOW", "2026-11-26T12:00:00+00:00")
    assert pull_main([*argv, "--tz", "UTC"] if "--tz" not in argv else argv) == 2
    error = capsys.readouterr().err
    assert message in error and "unexpected" not in error and len(error.strip().splitlines()) == 1

