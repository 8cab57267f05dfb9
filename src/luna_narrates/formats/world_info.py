"""Lorebooks as other tools write them: SillyTavern World Info, a card's `character_book`
(Character Card V2/V3, or a standalone `lorebook_v3`), NovelAI, KoboldAI, Agnai and RisuAI.

One shape inside: SillyTavern's World Info entry, the richest of them, with every field it
defines and every field a file brings that it does not (kept and written back). Fields of a
foreign format that have no World Info counterpart go into the entry's `extensions` under the
format's name, so a file read from one tool and written for another loses nothing.
Field mappings follow CARD_SPECS §6 (SillyTavern's own converters).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from luna_narrates.formats import lore_decorators

Source = Literal[
    "sillytavern", "character_book", "lorebook_v3", "novelai", "kobold", "agnai", "risu"
]
LOREBOOK_V3 = "lorebook_v3"
# SillyTavern's `selectiveLogic` and `position` numbers.
AND_ANY, NOT_ALL, NOT_ANY, AND_ALL = 0, 1, 2, 3
BEFORE_CHAR, AFTER_CHAR = 0, 1
INTEGER = re.compile(r"-?[0-9]{1,18}")
BOOK_SETTINGS = ("scan_depth", "token_budget", "recursive_scanning")
# World Info fields that a character_book entry keeps in `extensions`, as SillyTavern names them.
EXTENSION_FIELDS = {
    "position": "position",
    "exclude_recursion": "excludeRecursion",
    "display_index": "displayIndex",
    "probability": "probability",
    "useProbability": "useProbability",
    "depth": "depth",
    "selectiveLogic": "selectiveLogic",
    "group": "group",
    "group_override": "groupOverride",
    "group_weight": "groupWeight",
    "prevent_recursion": "preventRecursion",
    "delay_until_recursion": "delayUntilRecursion",
    "scan_depth": "scanDepth",
    "match_whole_words": "matchWholeWords",
    "use_group_scoring": "useGroupScoring",
    "case_sensitive": "caseSensitive",
    "automation_id": "automationId",
    "role": "role",
    "vectorized": "vectorized",
    "sticky": "sticky",
    "cooldown": "cooldown",
    "delay": "delay",
    "add_memo": "addMemo",  # ours: SillyTavern derives it from the comment
}
# character_book entry fields that World Info lacks; kept on the entry under these names.
BOOK_ONLY = {"name": "name", "priority": "priority", "use_regex": "useRegex"}

# Reused: building a TypeAdapter costs ~20 µs, and `flag` runs for each flag of each entry.
BOOL = TypeAdapter(bool)


class LorebookError(ValueError):
    """The file is not a lorebook we can read; the message names the field or the problem."""


class WorldInfoEntry(BaseModel):
    """A SillyTavern World Info entry with its defaults; `None` means "use the global setting".
    Unknown fields are kept. Values are checked for type, so a bad file is refused whole."""

    model_config = ConfigDict(extra="allow")

    uid: int | str
    key: list[str] = []
    keysecondary: list[str] = []
    comment: str = ""
    content: str = ""
    constant: bool = False
    vectorized: bool = False
    selective: bool = True
    selectiveLogic: int = AND_ANY
    addMemo: bool = False
    order: int | float = 100
    position: int = BEFORE_CHAR
    disable: bool = False
    displayIndex: int | None = None
    excludeRecursion: bool = False
    preventRecursion: bool = False
    delayUntilRecursion: bool | int = False
    probability: int | float | None = 100
    useProbability: bool = True
    depth: int = 4
    group: str = ""
    groupOverride: bool = False
    groupWeight: int | float = 100
    scanDepth: int | None = None
    caseSensitive: bool | None = None
    matchWholeWords: bool | None = None
    useGroupScoring: bool | None = None
    automationId: str = ""
    role: int | None = None
    sticky: int | None = None
    cooldown: int | None = None
    delay: int | None = None


@dataclass
class Lorebook:
    entries: list[dict[str, Any]]  # World Info entries, every field, in the file's order
    name: str = ""
    description: str = ""
    scan_depth: int | None = None
    token_budget: int | None = None
    recursive_scanning: bool | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # the file's other top-level keys
    source: Source = "sillytavern"

    def content(self) -> dict[str, Any]:
        """What a round trip must keep: everything but where it came from."""
        return {k: v for k, v in self.__dict__.items() if k != "source"}


def from_world_info(found: dict[str, Any]) -> Lorebook:
    entries = []
    for uid, entry in found["entries"].items():
        if not isinstance(entry, dict):
            raise LorebookError(f"entries[{uid!r}] is not an object.")
        entries.append(checked_entry({"uid": _uid(uid), **entry}, f"entries[{uid!r}]"))
    extra = except_keys(found, "entries")
    extensions = extra.pop("extensions", None) or {}
    if not isinstance(extensions, dict):
        raise LorebookError("The file's `extensions` must be an object.")
    return Lorebook(
        entries,
        name=_text(extra, "name", "file"),
        description=_text(extra, "description", "file"),
        extensions=extensions,
        extra=except_keys(extra, "name", "description", *BOOK_SETTINGS),
        source="sillytavern",
        **_book_settings(extra),
    )


def from_character_book(
    book: dict[str, Any], source: Source, *, extra: dict[str, Any] | None = None
) -> Lorebook:
    entries = book.get("entries")
    if not isinstance(entries, list):
        raise LorebookError("A character_book needs an `entries` list.")
    extensions = book.get("extensions") or {}
    if not isinstance(extensions, dict):
        raise LorebookError("The book's `extensions` must be an object.")
    settings = _book_settings(book)
    known = {"entries", "extensions", *settings, "name", "description"}
    return Lorebook(
        [_entry_from_book(entry, index) for index, entry in enumerate(entries)],
        name=_text(book, "name", "book"),
        description=_text(book, "description", "book"),
        extensions=copy.deepcopy(extensions),
        extra={**(extra or {}), **{k: copy.deepcopy(v) for k, v in book.items() if k not in known}},
        source=source,
        **settings,
    )


def checked_entry(entry: dict[str, Any], where: str) -> dict[str, Any]:
    """The entry with World Info's defaults filled in and its types checked."""
    try:
        return WorldInfoEntry.model_validate(entry).model_dump()
    except ValidationError as error:
        problem = error.errors()[0]
        path = ".".join(str(part) for part in problem["loc"])
        raise LorebookError(f"{where}.{path}: {problem['msg']}.") from None


def world_info_json(book: Lorebook) -> dict[str, Any]:
    """SillyTavern's World Info file: `entries` keyed by uid. The book's name, description and
    extensions ride along as top-level keys, which SillyTavern ignores and keeps."""
    about = {
        key: value
        for key in ("name", "description", "extensions", *BOOK_SETTINGS)
        if (value := copy.deepcopy(getattr(book, key))) not in (None, "", {})
    }
    return {
        **copy.deepcopy(book.extra),
        **about,
        "entries": {str(entry["uid"]): copy.deepcopy(entry) for entry in book.entries},
    }


def character_book_json(book: Lorebook, version: Literal[2, 3] = 3) -> dict[str, Any]:
    """The book as a card's `character_book` (V3 entries say `use_regex`; a V2 backfill has
    its decorators stripped, as the V3 spec asks)."""
    settings = {key: value for key in BOOK_SETTINGS if (value := getattr(book, key)) is not None}
    about = {key: value for key in ("name", "description") if (value := getattr(book, key))}
    return {
        **copy.deepcopy(book.extra),
        **about,
        **settings,
        "extensions": copy.deepcopy(book.extensions),
        "entries": [_entry_to_book(entry, version) for entry in book.entries],
    }


def _entry_from_book(entry: Any, index: int) -> dict[str, Any]:
    where = f"entries[{index}]"
    if not isinstance(entry, dict):
        raise LorebookError(f"{where} is not an object.")
    extensions = entry.get("extensions") or {}
    if not isinstance(extensions, dict):
        raise LorebookError(f"{where}.extensions must be an object.")
    mapped = {
        EXTENSION_FIELDS[key]: value for key, value in extensions.items() if key in EXTENSION_FIELDS
    }
    rest = {key: value for key, value in extensions.items() if key not in EXTENSION_FIELDS}
    if "position" not in mapped and entry.get("position") is not None:
        mapped["position"] = AFTER_CHAR if entry["position"] == "after_char" else BEFORE_CHAR
    if entry.get("case_sensitive") is not None:
        mapped["caseSensitive"] = entry["case_sensitive"]
    known = {
        "id", "keys", "secondary_keys", "comment", "content", "constant", "selective",
        "insertion_order", "enabled", "position", "case_sensitive", "extensions", *BOOK_ONLY,
    }  # fmt: skip
    comment = entry.get("comment") or ""
    enabled = entry.get("enabled", True)
    if entry.get("use_regex") is True:  # what we write anyway: plain keys as text, /…/ as regex
        entry = {k: v for k, v in entry.items() if k != "use_regex"}
    return checked_entry(
        {
            **{k: v for k, v in entry.items() if k not in known},
            "uid": entry["id"] if entry.get("id") is not None else index,
            "key": entry.get("keys", []),
            "keysecondary": entry.get("secondary_keys") or [],
            "comment": comment,
            "content": entry.get("content", ""),
            "constant": entry.get("constant") or False,
            "selective": entry.get("selective") or False,
            "order": entry.get("insertion_order", 100),
            "disable": not flag(enabled, f"{where}.enabled"),
            "addMemo": bool(comment),
            **mapped,
            **{ours: entry[theirs] for theirs, ours in BOOK_ONLY.items() if theirs in entry},
            **({"extensions": rest} if rest else {}),
        },
        where,
    )


def _entry_to_book(entry: dict[str, Any], version: Literal[2, 3]) -> dict[str, Any]:
    known = {
        "uid", "key", "keysecondary", "comment", "content", "constant", "selective", "order",
        "disable", "addMemo", "extensions", *EXTENSION_FIELDS.values(), *BOOK_ONLY.values(),
    }  # fmt: skip
    content = entry["content"] if version == 3 else lore_decorators.strip(entry["content"])
    written: dict[str, Any] = {
        **{k: copy.deepcopy(v) for k, v in entry.items() if k not in known},
        "id": entry["uid"],
        "keys": list(entry["key"]),
        "secondary_keys": list(entry["keysecondary"]),
        "comment": entry["comment"],
        "content": content,
        "constant": entry["constant"],
        "selective": entry["selective"],
        "insertion_order": entry["order"],
        "enabled": not entry["disable"],
        "position": "before_char" if entry["position"] == BEFORE_CHAR else "after_char",
        **{theirs: entry[ours] for theirs, ours in BOOK_ONLY.items() if ours in entry},
        "extensions": {
            **copy.deepcopy(entry.get("extensions") or {}),
            **{theirs: entry[ours] for theirs, ours in EXTENSION_FIELDS.items()},
        },
    }
    if entry["addMemo"] == bool(entry["comment"]):  # what a reader derives anyway
        del written["extensions"]["add_memo"]
    if version == 3:
        written.setdefault("use_regex", True)  # plain keys match as text, /…/flags as regexes
    else:
        written.pop("use_regex", None)
    if entry["caseSensitive"] is not None:
        written["case_sensitive"] = entry["caseSensitive"]
    return written


def flag(value: Any, where: str) -> bool:
    """A boolean as other tools write it (true, 1, "true"…); anything else is refused."""
    try:
        return BOOL.validate_python(value)
    except ValidationError:
        raise LorebookError(f"{where} must be true or false.") from None


def _book_settings(book: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key in BOOK_SETTINGS:
        value = book.get(key)
        flag = key == "recursive_scanning"
        if value is not None and (isinstance(value, bool) != flag or not isinstance(value, int)):
            raise LorebookError(f"book.{key} must be {'true or false' if flag else 'a number'}.")
        settings[key] = value
    return settings


def _text(found: dict[str, Any], key: str, where: str) -> str:
    value = found.get(key)
    if value is not None and not isinstance(value, str):
        raise LorebookError(f"{where}.{key} must be text.")
    return value or ""


def except_keys(found: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in found.items() if k not in keys}


def _uid(key: str) -> int | str:
    """A uid as SillyTavern writes it: a number when the key is one (ASCII digits only)."""
    return int(key) if INTEGER.fullmatch(key) else key
