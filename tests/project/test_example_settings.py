"""integoreport.example.toml: every commented block, and every commented key of a live table, uncomments on its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.settings import read_settings

EXAMPLE = (Path(__file__).resolve().parents[2] / "integoreport.example.toml").read_text(encoding="utf-8")
LINES = EXAMPLE.splitlines()
HEADER = re.compile(r"^# (\[[a-z0-9_.]+\])$")
KEY = re.compile(r"^# [a-z0-9_]+ = ")


def uncomment(line: str) -> str:
    """What an editor's 'toggle comment' does to a line: the leading '# ' goes."""
    return line[2:] if line.startswith("# ") else line


def blocks() -> list[tuple[int, int]]:
    """(first, last + 1) line numbers of each commented block: a '# [table]' line up to the next blank line."""
    found = []
    for number, line in enumerate(LINES):
        if HEADER.match(line) and (number == 0 or not HEADER.match(LINES[number - 1]) and not KEY.match(LINES[number - 1])):
            end = number
            while end < len(LINES) and LINES[end].strip():
                end += 1
            found.append((number, end))
    return found


def lone_keys() -> list[int]:
    """Commented keys inside a table that is live (not inside a commented block)."""
    inside = {n for first, end in blocks() for n in range(first, end)}
    return [n for n, line in enumerate(LINES) if KEY.match(line) and n not in inside]


def load(home: Path, lines: list[str]):
    (home / "integoreport.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_settings(home, {})


def test_the_blocks_are_found_and_every_table_line_starts_one_or_sits_in_one():
    tables = [HEADER.match(LINES[first]).group(1) for first, _ in blocks()]
    assert tables == ["[ms365]", "[sentinelone]", "[delivery]", "[clients.21000351601]"]
    inside = {n for first, end in blocks() for n in range(first, end)}
    # A line that reads as a table header elsewhere (prose after it, "# [x]  words") would break when uncommented.
    assert [line for n, line in enumerate(LINES) if line.startswith("# [") and n not in inside] == []
    for first, end in blocks():
        assert all(HEADER.match(line) or KEY.match(line) for line in LINES[first:end]), LINES[first]


@pytest.mark.parametrize("first, end", blocks(), ids=lambda value: str(value))
def test_each_block_uncommented_on_its_own_loads(home, first, end):
    lines = [uncomment(line) if first <= n < end else line for n, line in enumerate(LINES)]
    settings = load(home, lines)
    table = HEADER.match(LINES[first]).group(1)
    if table == "[ms365]":
        assert (settings.table("ms365") or {}).get("app_id")
    elif table == "[sentinelone]":
        assert (settings.table("sentinelone") or {}).get("url", "").startswith("https://")
    elif table == "[delivery]":
        assert settings.delivery is not None and settings.delivery.smtp is not None and settings.delivery.mailchimp is not None
    else:
        assert settings.client("21000351601").to == ("Jane Roe <jane@harrow.example>",)


@pytest.mark.parametrize("number", lone_keys())
def test_each_commented_key_of_a_live_table_uncommented_on_its_own_loads(home, number):
    lines = [uncomment(line) if n == number else line for n, line in enumerate(LINES)]
    load(home, lines)


def test_all_blocks_together_load(home):
    inside = {n for first, end in blocks() for n in range(first, end)}
    settings = load(home, [uncomment(line) if n in inside else line for n, line in enumerate(LINES)])
    assert settings.table("ms365") and settings.table("sentinelone") and settings.delivery and settings.delivery.smtp
