"""Hostile-input hardening of the Freshservice path: secrets, URLs, keys, months, ids, files."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from data_pullers.freshservice import main as pull_main
from simulators.base import LoopbackServer, Reply, Request
from simulators.freshservice_data import Account
from tests.conftest import SIM_KEY
from utils import files
from utils.cli import redact
from utils.config import load_api_key, normalise_url
from utils.errors import APIError, ConfigError, DataError
from utils.files import write_json_atomic, write_text_atomic
from utils.freshservice_client import FreshserviceClient

ECHOED_KEY = "echo-key-5e6f7a"
NOW = "2026-11-26T12:00:00+00:00"


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


# ---- files


@pytest.fixture
def account_with_one_client():
    account = Account(now=NOW)
    client = account.add_department("Private Ltd")
    agent = account.add_agent("Sam", "Agent")
    requester = account.add_requester("Rita", "Requester", email="rita@private.example")
    ticket = account.add_ticket(client["id"], "2026-10-05T10:00:00Z", subject="Printer", requester_id=requester["id"],
                                responder_id=agent["id"], description_text="The printer on floor 2 is jammed.")
    account.add_conversation(ticket["id"], incoming=False, private=False, body_text="Public reply: on my way.")
    account.add_conversation(ticket["id"], incoming=False, private=True, body_text="Private note: admin password is hunter2.")
    account.add_conversation(ticket["id"], incoming=True, private=False, body_text="Customer: thanks!")
    return account, client["id"], ticket["id"]


def pull_to_home(simulator, client_id, monkeypatch, *extra: str) -> int:
    monkeypatch.setenv("FRESHSERVICE_URL", simulator.url)
    monkeypatch.setenv("FRESHSERVICE_API_KEY", SIM_KEY)
    monkeypatch.setenv("INTEGOREPORT_NOW", NOW)
    return pull_main([str(client_id), "--month", "2026-10", "--tz", "UTC", "-q", *extra])


def test_raw_file_and_its_folder_are_owner_only(start_simulator, account_with_one_client, home, monkeypatch):
    account, client_id, _ = account_with_one_client
    old_umask = os.umask(0o022)
    try:
        assert pull_to_home(start_simulator(account), client_id, monkeypatch) == 0
    finally:
        os.umask(old_umask)
    raw_dir = home / "raw_data"
    assert stat.S_IMODE(raw_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((raw_dir / f"freshservice_{client_id}.json").stat().st_mode) == 0o600


def test_private_and_ordinary_writes(tmp_path):
    private = write_json_atomic(tmp_path / "new" / "deeper" / "raw.json", {"a": 1}, private=True)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == stat.S_IMODE((tmp_path / "new" / "deeper").stat().st_mode) == 0o700
    ordinary = write_text_atomic(tmp_path / "report.html", "<p>hi</p>")
    assert stat.S_IMODE(ordinary.stat().st_mode) == 0o666 & ~files._UMASK


def test_atomic_write_refuses_special_files(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = tmp_path / "target.txt"
    target.write_text("keep me")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    folder = tmp_path / "folder"
    folder.mkdir()
    for path, kind in ((fifo, "named pipe"), (link, "symbolic link"), (folder, "folder"), (Path("/dev/null"), "device")):
        with pytest.raises(DataError, match=f"refusing to replace .*{kind}"):
            write_text_atomic(path, "new text")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink() and target.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
