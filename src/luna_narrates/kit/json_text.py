"""JSON as PostgreSQL can store it: parsed strictly, and checked before it reaches a column."""

from __future__ import annotations

import json
import math
from typing import Any


class JsonRefused(ValueError):
    """Text that is not JSON we can keep; the message says why."""


def loads(text: str | bytes) -> Any:
    """`json.loads`, refusing NaN and Infinity (JSON has none; jsonb refuses them) and
    documents nested too deeply to parse, each as a JsonRefused."""
    try:
        return json.loads(text, parse_constant=_constant)
    except RecursionError:
        raise JsonRefused("the JSON is nested too deeply") from None
    except json.JSONDecodeError as error:
        raise JsonRefused(str(error)) from None


def find_unstorable(value: Any, path: str = "") -> str | None:
    """Where a JSON value holds what PostgreSQL text and jsonb cannot (a NUL character, a
    number that is not finite), as `entries[3].content`, or None."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where or "(the value)"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return where or "(the value)"
        elif isinstance(item, dict):
            for key, child in item.items():
                inner = f"{where}.{key}".lstrip(".")
                if "\x00" in str(key):
                    return inner
                stack.append((child, inner))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(item))
    return None


def _constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON number")
