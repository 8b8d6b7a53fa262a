"""Atomic file writing: a crash or Ctrl-C leaves the last good file in place."""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

from utils.core.errors import DataError
from utils.core.portable import O_CLOEXEC, open_no_follow

# mkstemp creates files readable by their owner only; a report or client list should get the
# permissions any new file gets (the umask), or keep those of the file it replaces.
_UMASK = os.umask(0)
os.umask(_UMASK)


def write_text_atomic(path: Path | str, text: str, *, private: bool = False) -> Path:
    """Write `text` to `path` via a temporary file in the same folder and a rename.

    `private`: the file (and any folder created for it) is readable by the owner only, for client
    data such as raw files; otherwise the umask decides, or the replaced file's own permissions.
    Anything at `path` that is not a regular file (a device, FIFO, symlink, folder) is refused.
    """
    path = Path(path)
    _refuse_special(path)
    try:
        if private:
            make_private_dir(path.parent)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        if private:
            mode = 0o600
        else:
            try:
                mode = path.stat().st_mode & 0o777
            except OSError:
                mode = 0o666 & ~_UMASK
        os.chmod(tmp_name, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        _refuse_special(path)  # again, just before the rename: it may have appeared meanwhile
        os.replace(tmp_name, path)
    except BaseException as exc:
        # Any failure, Ctrl-C included, removes the half-written temporary file and keeps the old one.
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise DataError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
    return path


def write_json_atomic(path: Path | str, data: Any, *, private: bool = False) -> Path:
    """Write `data` as indented UTF-8 JSON, atomically (`private`: owner-only, as for write_text_atomic)."""
    return write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", private=private)


def make_private_dir(path: Path | str) -> Path:
    """Create `path` (and missing parents) readable by the owner only; an existing folder is left as it is."""
    path = Path(path)
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        # mkdir's mode is filtered by the umask and does not apply to parents: set it outright.
        os.chmod(folder, 0o700)
    return path


def _refuse_special(path: Path) -> None:
    """A DataError unless `path` is missing or a regular file (never a followed symlink)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from exc
    if stat.S_ISREG(mode):
        return
    raise DataError(f"refusing to replace {path}: it is {_kind(mode)}, not a regular file")


def _kind(mode: int) -> str:
    """What a file that is not a regular one is, in words."""
    return ("a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode)
            else "a named pipe" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")


class NotARegularFile(DataError):
    """A read refused: the path is a named pipe, a device, a folder or a socket."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(f"refusing to read {path}: it is {kind}, not a regular file")
        self.path, self.kind = path, kind


def _open_regular(path: Path, *, follow_links: bool) -> int:
    """An fd of `path` opened for reading, once the opened file is known to be a regular one.

    A named pipe blocks a reader until something writes to it, and a device such as /dev/zero
    never ends (MemoryError), so anything else is a NotARegularFile before a byte is read. The open
    is non-blocking and the check is made on the opened file, so nothing swapped in between the
    check and the read gets through. Without `follow_links` a symbolic link at `path` is refused too.
    OSError (FileNotFoundError included) reaches the caller as it is.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | O_CLOEXEC) if follow_links else open_no_follow(path, flags)
    except OSError:
        mode = _lstat_mode(path)
        if not follow_links and stat.S_ISLNK(mode):
            raise NotARegularFile(path, "a symbolic link") from None
        raise
    try:
        mode = os.fstat(fd).st_mode
    except BaseException:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotARegularFile(path, _kind(mode))
    return fd


def _lstat_mode(path: Path) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0


def read_regular_text(path: Path | str, encoding: str = "utf-8") -> str:
    """The text of `path`, which must be a regular file (a symbolic link to one is fine).

    NotARegularFile for a pipe, device, folder or socket; OSError and UnicodeDecodeError as they are.
    """
    with os.fdopen(_open_regular(Path(path), follow_links=True), encoding=encoding) as handle:
        return handle.read()


def read_json(path: Path | str, what: str = "file") -> Any:
    """Read a JSON file (a regular file only), turning every failure into a one-line DataError naming the file."""
    path = Path(path)
    try:
        return json.loads(read_regular_text(path))
    except FileNotFoundError as exc:
        raise DataError(f"{what} not found: {path}") from exc
    except NotARegularFile as exc:
        raise DataError(f"refusing to read {what} {path}: it is {exc.kind}, not a regular file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {what} {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"{what} {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    except (ValueError, RecursionError):  # a number of thousands of digits; arrays nested thousands deep
        raise DataError(f"{what} {path} is not usable JSON (a number too long or lists nested too deep)") from None


_ID = re.compile(r"[0-9]{1,20}")


def is_valid_id(value: Any) -> bool:
    """True for an id that may name a file: ASCII digits only (ids come from servers we do not control)."""
    return isinstance(value, (int, str)) and not isinstance(value, bool) and _ID.fullmatch(str(value)) is not None


def safe_child(folder: Path | str, name: str) -> Path:
    """`folder / name` when `name` is one plain file name; a DataError for anything that would leave `folder`."""
    folder = Path(folder)
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise DataError(f"refusing to write {name!r}: not a plain file name inside {folder}")
    return folder / name


def read_regular_bytes(path: Path | str, what: str = "file") -> bytes:
    """The bytes of `path` when it is a regular file, never through a symbolic link; a DataError otherwise."""
    path = Path(path)
    try:
        with os.fdopen(_open_regular(path, follow_links=False), "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise DataError(f"{what} file missing: {path}") from None
    except NotARegularFile:
        raise
    except OSError as exc:
        raise DataError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
