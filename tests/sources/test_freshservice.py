"""Freshservice's settings, declared in its source: the URL's forms, the API key's two places, the home, the reserve setting."""

from __future__ import annotations

import logging

import pytest

from tests.helpers.settings import read_settings
from utils.core.errors import ConfigError
from utils.sources.freshservice import freshservice_settings, freshservice_url, load_api_key, make_client, with_url


@pytest.mark.parametrize("given, expected", [
    ("acme", "https://acme.freshservice.com"),
    ("acme.freshservice.com", "https://acme.freshservice.com"),
    ("https://acme.freshservice.com/", "https://acme.freshservice.com"),
    ("https://Acme.Freshservice.com/api/v2", "https://acme.freshservice.com"),
    ("http://127.0.0.1:8089", "http://127.0.0.1:8089"),
    ("http://127.5.6.7:80", "http://127.5.6.7:80"),
    ("http://localhost:8089", "http://localhost:8089"),
    ("http://[::1]:8089", "http://[::1]:8089"),
])
def test_url_forms_are_normalised(given, expected):
    assert freshservice_url(given) == expected


@pytest.mark.parametrize("given, words", [
    ("http://acme.freshservice.com", "refusing plain http://"),
    ("http://10.0.0.5:8080", "refusing plain http://"),
    ("http://128.0.0.1", "refusing plain http://"),
    ("ftp://acme.freshservice.com", "malformed"),
    ("acme corp", "malformed"),
    ("https://acme.freshservice.com/helpdesk/tickets", "without a path"),
    ("", "no Freshservice URL"),
    (None, "no Freshservice URL"),
])
def test_bad_urls_are_one_line_configuration_errors(given, words):
    with pytest.raises(ConfigError) as caught:
        freshservice_url(given)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_key_precedence_environment_then_token_file(tmp_path, caplog):
    token = tmp_path / "token.txt"
    token.write_text("  file-key-123 \n")
    token.chmod(0o600)
    assert load_api_key(tmp_path, {}) == "file-key-123"
    assert load_api_key(tmp_path, {"FRESHSERVICE_API_KEY": "env-key-456"}) == "env-key-456"
    assert load_api_key(tmp_path, {"FRESHSERVICE_API_KEY": "   "}) == "file-key-123"


def test_missing_or_empty_key_names_both_places(tmp_path):
    for content in (None, "", "  \n"):
        if content is not None:
            (tmp_path / "token.txt").write_text(content)
        with pytest.raises(ConfigError) as caught:
            load_api_key(tmp_path, {})
        assert "FRESHSERVICE_API_KEY" in str(caught.value) and "token.txt" in str(caught.value)


def test_token_readable_by_others_warns_once(tmp_path, caplog):
    token = tmp_path / "token.txt"
    token.write_text("file-key-123")
    token.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        load_api_key(tmp_path, {})
        load_api_key(tmp_path, {})
    warnings = [r for r in caplog.records if "readable by other users" in r.getMessage()]
    assert len(warnings) == 1
    assert "file-key-123" not in caplog.text


def test_url_flag_beats_environment_and_home_defaults_to_env(home, monkeypatch):
    monkeypatch.setenv("FRESHSERVICE_URL", "envdesk")
    monkeypatch.setenv("FRESHSERVICE_API_KEY", "k-123456")
    assert make_client(read_settings()).base_url == "https://envdesk.freshservice.com"
    assert make_client(with_url(read_settings(), "flagdesk")).base_url == "https://flagdesk.freshservice.com"
    assert read_settings().home == home


def test_reserve_setting(home):
    def reserve(value: str | None) -> float:
        return freshservice_settings(read_settings(home, {} if value is None else {"FRESHSERVICE_RATE_RESERVE": value})).rate_reserve

    assert reserve(None) == 0.10
    assert reserve("25%") == 0.25
    assert reserve("0.05") == 0.05
    with pytest.raises(ConfigError):
        reserve("lots")
    with pytest.raises(ConfigError):
        reserve("1.5")


@pytest.mark.parametrize("url", ["http://:pw@127.0.0.1:8000", "https://:secret@acme.freshservice.com",
                                 "https://user@acme.freshservice.com", "https://u:p@acme.freshservice.com"])
def test_any_user_info_in_the_url_is_refused(url):
    with pytest.raises(ConfigError, match="malformed"):
        freshservice_url(url)


def test_key_file_with_a_bom_is_read_without_it(home):
    (home / "token.txt").write_bytes("\ufeffbom-key-123456\n".encode())
    (home / "token.txt").chmod(0o600)
    assert load_api_key(home, env={}) == "bom-key-123456"

