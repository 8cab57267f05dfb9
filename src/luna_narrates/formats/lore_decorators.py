"""Character Card V3 lorebook decorators: the `@@name value` lines at the top of an entry's
content (CARD_SPECS §5). Parsed into a table, and stripped from the text that reaches a prompt
or a V2 backfill.

Only the first occurrence of a decorator counts unless it is repeatable; a `@@@` line right
after a decorator is its fallback, used when the line above is unknown or has an invalid value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NUMBER = "number"
FLAG = "flag"
WORDS = "words"
TEXT = "text"
KNOWN: dict[str, str] = {
    "activate_only_after": NUMBER,
    "activate_only_every": NUMBER,
    "keep_activate_after_match": FLAG,
    "dont_activate_after_match": FLAG,
    "depth": NUMBER,
    "instruct_depth": NUMBER,
    "reverse_depth": NUMBER,
    "reverse_instruct_depth": NUMBER,
    "role": TEXT,
    "scan_depth": NUMBER,
    "instruct_scan_depth": NUMBER,
    "is_greeting": NUMBER,
    "position": TEXT,
    "ignore_on_max_context": FLAG,
    "additional_keys": WORDS,
    "exclude_keys": WORDS,
    "is_user_icon": TEXT,
    "activate": FLAG,
    "dont_activate": FLAG,
    "disable_ui_prompt": TEXT,
}
REPEATABLE = frozenset({"additional_keys"})
INTEGER = re.compile(r"-?[0-9]{1,9}")  # ASCII digits only: "²" and "--5" are not numbers
ROLES = frozenset({"assistant", "system", "user"})


@dataclass(frozen=True)
class Decorated:
    text: str  # the content without its decorator lines
    # name → one value list per occurrence (a flag has []); repeatable names keep them all
    decorators: dict[str, list[list[str]]] = field(default_factory=dict)

    def number(self, name: str) -> int | None:
        found = self.decorators.get(name)
        return int(found[0][0]) if found else None

    def has(self, name: str) -> bool:
        return name in self.decorators

    def words(self, name: str) -> list[str]:
        return [word for values in self.decorators.get(name, []) for word in values]


def parse(content: str) -> Decorated:
    lines = content.split("\n")
    header = 0
    while header < len(lines) and lines[header].lstrip().startswith("@@"):
        header += 1
    found: dict[str, list[list[str]]] = {}
    settled = False  # the last `@@` line was understood, so its `@@@` fallbacks are skipped
    for line in (raw.strip() for raw in lines[:header]):
        fallback = line.startswith("@@@")
        if fallback and settled:
            continue
        parsed = _decorator(line[3:] if fallback else line[2:])
        settled = parsed is not None
        if parsed is None:
            continue
        name, values = parsed
        if name in found and name not in REPEATABLE:
            continue
        found.setdefault(name, []).append(values)
    return Decorated("\n".join(lines[header:]).lstrip("\n"), found)


def strip(content: str) -> str:
    return parse(content).text


def _decorator(line: str) -> tuple[str, list[str]] | None:
    name, _, value = line.partition(" ")
    kind = KNOWN.get(name)
    value = value.strip()
    if kind is None:
        return None
    if kind == FLAG:
        return name, []
    if not value:
        return None
    if kind == NUMBER:
        return (name, [value]) if INTEGER.fullmatch(value) else None
    if kind == WORDS:
        return name, [word.strip() for word in value.split(",") if word.strip()]
    if name == "role" and value not in ROLES:
        return None
    return name, [value]
