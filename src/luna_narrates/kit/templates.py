"""Prompt templates live beside the agent that uses them, as plain text with $placeholders."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template


@cache
def load_template(directory: Path, name: str) -> Template:
    return Template((directory / name).read_text(encoding="utf-8"))


def render(directory: Path, name: str, **values: object) -> str:
    """Strict: a missing placeholder raises instead of leaking `$name` into a prompt."""
    return load_template(directory, name).substitute({k: str(v) for k, v in values.items()}).strip()


def bullet_list(items: list[str], empty: str = "(none)") -> str:
    return "\n".join(f"- {item}" for item in items) if items else empty


def tail_words(text: str, max_words: int) -> str:
    """The last `max_words` words: the end of a passage is what the next one continues from."""
    words = text.split()
    if len(words) <= max_words:
        return text.strip()
    return "… " + " ".join(words[-max_words:])
