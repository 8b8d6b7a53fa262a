"""Reading values out of one parsed integoreport.toml, with the environment winning; every error names where.

`TableReader` knows nothing of the settings' layout: it is given the parsed file, its text (for line
numbers), the environment and which variable overrides which key, and answers "the string at
[table] key", "the flag", "the URL" and so on, each checked, with a `ConfigError` naming the file,
the line and the key, or the environment variable the value came from.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from utils.core.errors import ConfigError
from utils.core.settings_values import locate_keys, parse_address, text_value
from utils.core.urls import checked_url

TRUE_WORDS = ("1", "true", "yes", "on")
FLAG_WORDS = (*TRUE_WORDS, "0", "false", "no", "off")


class TableReader:
    """Checked values of one parsed file; every error names the file, the line and the key (or the variable)."""

    def __init__(self, path: Path, text: str, data: dict[str, Any], env: Mapping[str, str],
                 overrides: Mapping[tuple[str, str], str]):
        self.path, self.data, self.env, self.overrides = path, data, env, overrides
        self.lines = locate_keys(text)

    # -- where a value came from, for messages --

    def line_of(self, keys: tuple[str, ...]) -> int | None:
        for length in range(len(keys), 0, -1):  # the key's own line, else its table's header
            if keys[:length] in self.lines:
                return self.lines[keys[:length]]
        return None

    def error(self, keys: tuple[str, ...], message: str, *, table: bool = False) -> ConfigError:
        """An error at `keys`: a key (`[a.b] key ...`) or, with `table`, the table itself (`[a.b] ...`)."""
        line = self.line_of(keys)
        where = f"{self.path}:{line}" if line else str(self.path)
        name = f"[{'.'.join(keys)}]" if table or len(keys) == 1 else f"[{'.'.join(keys[:-1])}] {keys[-1]}"
        return ConfigError(f"{where}: {name} {message}")

    def fail(self, keys: tuple[str, ...], variable: str | None, message: str) -> ConfigError:
        """An error about a value from the file (named by its line and key) or from `variable`."""
        return ConfigError(f"{variable} {message}") if variable else self.error(keys, message)

    def unknown(self, keys: tuple[str, ...], known: frozenset[str]) -> ConfigError:
        close = difflib.get_close_matches(keys[-1], list(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(known))})" if known else ""
        return self.error(keys, f"is not a known setting{hint}")

    # -- raw values --

    def value(self, table: str, key: str) -> tuple[Any, tuple[str, ...], str | None]:
        """The raw value, where it is in the file, and the environment variable it came from (if any)."""
        keys = (*table.split("."), key)
        variable = self.overrides.get((table, key))
        if variable and self.env.get(variable, "").strip():
            return self.env[variable].strip(), keys, variable
        section: Any = self.data
        for part in keys[:-1]:
            section = section.get(part, {}) if isinstance(section, dict) else {}
        return section.get(key) if isinstance(section, dict) else None, keys, None

    def has_table(self, table: str) -> bool:
        section: Any = self.data
        for part in table.split("."):
            if not isinstance(section, dict) or part not in section:
                return False
            section = section[part]
        return True

    # -- checked values --

    def text(self, table: str, key: str, *, required: bool = False, one_line: bool = True) -> str | None:
        value, keys, variable = self.value(table, key)
        if value is None:
            if required:
                raise self.error(keys[:-1], f"needs {key} = \"...\"", table=True)
            return None
        try:
            return text_value(value, one_line)
        except ValueError as exc:
            raise self.fail(keys, variable, str(exc)) from None

    def flag(self, table: str, key: str, default: bool) -> bool:
        value, keys, variable = self.value(table, key)
        if value is None:
            return default
        if variable:
            lowered = value.lower()
            if lowered not in FLAG_WORDS:
                raise self.fail(keys, variable, f"must be 1 or 0 (yes/no), not {value!r}")
            return lowered in TRUE_WORDS
        if not isinstance(value, bool):
            raise self.error(keys, f"must be true or false, not {value!r}")
        return value

    def string_list(self, table: str, key: str) -> tuple[tuple[str, ...], tuple[str, ...], str | None] | None:
        value, keys, variable = self.value(table, key)
        if value is None:
            return None
        if variable:
            return tuple(item.strip() for item in value.split(",") if item.strip()), keys, variable
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(keys, 'must be a list of strings, such as ["a", "b"]')
        return tuple(item.strip() for item in value if item.strip()), keys, None

    def url(self, table: str, key: str, default: str | None = None, *, https_only: bool = False) -> str | None:
        text = self.text(table, key)
        if text is None:
            return default
        try:
            return checked_url(text, https_only)
        except ValueError as exc:
            _, keys, variable = self.value(table, key)
            raise self.fail(keys, variable, str(exc)) from None

    def addresses(self, table: str, key: str) -> tuple[str, ...]:
        found = self.string_list(table, key)
        if found is None:
            return ()
        items, keys, variable = found
        return tuple(self.address_of(item, keys, variable) for item in items)

    def address_of(self, text: str, keys: tuple[str, ...], variable: str | None = None) -> str:
        try:
            return parse_address(text)
        except ValueError as exc:
            raise self.fail(keys, variable, str(exc)) from None
