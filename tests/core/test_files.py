"""Files: atomic writes that keep the old file when interrupted, their permissions, JSON errors that name the file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from utils.core import files
from utils.core.errors import DataError
from utils.core.files import read_json, write_json_atomic, write_text_atomic


def test_atomic_write_keeps_old_file_when_interrupted(tmp_path, monkeypatch):
    folder = tmp_path / "atomic"
    target = folder / "data.json"
    write_json_atomic(target, {"version": 1})

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_json_atomic(target, {"version": 2})
    assert read_json(target) == {"version": 1}
    assert [p.name for p in folder.iterdir()] == ["data.json"]  # no temporary file left behind


def test_atomic_write_gives_normal_permissions_and_keeps_existing_ones(tmp_path):
    fresh = write_json_atomic(tmp_path / "fresh.json", {})
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    private = tmp_path / "private.json"
    private.write_text("{}")
    private.chmod(0o600)
    write_json_atomic(private, {"a": 1})
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_read_json_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError) as caught:
        read_json(bad, "raw file")
    assert str(bad) in str(caught.value) and "not valid JSON" in str(caught.value)


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

