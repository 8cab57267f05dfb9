"""Checks on JSON documents before they reach PostgreSQL."""

from __future__ import annotations

from typing import Any


def find_nul(value: Any, path: str = "") -> str | None:
    """Where a NUL character sits in a JSON value (`entries[3].content`), or None: PostgreSQL
    text and jsonb cannot hold one, so such a file is refused naming the place."""
    if isinstance(value, str):
        return path or "(the value)" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = find_nul(str(key), f"{path}.{key}".lstrip(".")) or find_nul(
                item, f"{path}.{key}".lstrip(".")
            )
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = find_nul(item, f"{path}[{index}]")
            if found:
                return found
    return None
