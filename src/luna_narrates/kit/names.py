"""File names made from titles."""

from __future__ import annotations

import re


def slug(title: str, fallback: str) -> str:
    """An ASCII file name from a title, safe in a Content-Disposition header."""
    words = re.findall(r"[a-z0-9]+", title.lower().encode("ascii", "ignore").decode())
    return "-".join(words)[:60] or fallback
