"""Reading nested metrics dictionaries that may lack a key or hold the wrong type (old or partial files)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dig(data: Any, *path: str) -> Any:
    """`data[path[0]][path[1]]...`, or None as soon as a level is missing or not a mapping."""
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def count_or_none(value: Any) -> int | None:
    """An integer count, or None for anything else (booleans included)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number_or_none(value: Any) -> float | None:
    """An int or float, or None for anything else (booleans included)."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
