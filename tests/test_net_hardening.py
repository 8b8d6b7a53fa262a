"""Hostile-input hardening of the Freshservice path: secrets, URLs, keys, months, ids, files."""

from __future__ import annotations

import base64

import pytest

from data_pullers.freshservice import main as pull_main
from simulators.base import LoopbackServer, Reply, Request
from utils.cli import redact
from utils.config import load_api_key, normalise_url
from utils.errors import APIError, ConfigError
from utils.freshservice_client import FreshserviceClient

ECHOED_KEY = "echo-key-5e6f7a"


class EchoingServer(LoopbackServer):
    """Answers 400 quoting the request's Authorization header back, as a careless proxy might."""

    def handle(self, request: Request) -> Reply:
        return Reply(400, {"message": f"bad request; you sent Authorization: {request.header('Authorization')}"})


def test_echoed_basic_auth_header_is_redacted():
    with EchoingServer() as server:
        with pytest.raises(APIError) as caught:
            FreshserviceClient(server.url, ECHOED_KEY).get_json("departments")
    encoded = base64.b64encode(f"{ECHOED_KEY}:X".encode()).decode()
    assert "[REDACTED]" in str(caught.value) and encoded not in str(caught.value)
    assert redact(f"Basic {encoded}") == "Basic [REDACTED]"


@pytest.mark.parametrize("url", ["http://:pw@127.0.0.1:8000", "https://:secret@acme.freshservice.com",
                                 "https://user@acme.freshservice.com", "https://u:p@acme.freshservice.com"])
def test_any_user_info_in_the_url_is_refused(url):
    with pytest.raises(ConfigError, match="malformed"):
        normalise_url(url)


def test_key_file_with_a_bom_is_read_without_it(home):
    (home / "token.txt").write_bytes("\ufeffbom-key-123456\n".encode())
    (home / "token.txt").chmod(0o600)
    assert load_api_key(home, env={}) == "bom-key-123456"


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
