"""Lorebooks of NovelAI, KoboldAI, Agnai and RisuAI, read into World Info entries.

Each mapping is SillyTavern's (CARD_SPECS §6). What a format has beyond it is kept under the
format's name in `extensions`, on the entry and on the book, so that nothing is lost and the
book written back as World Info is not mistaken for the foreign format when read again.
"""

from __future__ import annotations

from typing import Any

from luna_narrates.formats.world_info import (
    Lorebook,
    LorebookError,
    checked_entry,
    except_keys,
    flag,
)


def from_novelai(found: dict[str, Any]) -> Lorebook:
    """`lorebookVersion`; `entries[].keys/text/displayName/enabled`, `contextConfig.budgetPriority`
    as the order and `forceActivation` as constant."""
    entries = []
    for index, entry in enumerate(_entries(found.get("entries"), "entries")):
        where = f"entries[{index}]"
        config = entry.get("contextConfig") or {}
        if not isinstance(config, dict):
            raise LorebookError(f"{where}.contextConfig must be an object.")
        mapped = {
            "key": _words(entry.get("keys", []), f"{where}.keys"),
            "content": _string(entry.get("text", ""), f"{where}.text"),
            "comment": _string(entry.get("displayName") or "", f"{where}.displayName"),
            "disable": not flag(entry.get("enabled", True), f"{where}.enabled"),
            "constant": flag(entry.get("forceActivation", False), f"{where}.forceActivation"),
            "selective": False,
            "order": config.get("budgetPriority", 0),
        }
        rest = except_keys(entry, "keys", "text", "displayName", "enabled")
        entries.append(_entry(index, mapped, "novelai", rest, where))
    return _book(found, entries, "novelai", "entries", name_key="name")


def from_agnai(found: dict[str, Any]) -> Lorebook:
    """`kind: "memory"`; `entries[].keywords/entry/name/weight/enabled`, `priority` kept as the
    entry's priority (dropped last when over budget)."""
    entries = []
    for index, entry in enumerate(_entries(found.get("entries"), "entries")):
        where = f"entries[{index}]"
        mapped = {
            "key": _words(entry.get("keywords", []), f"{where}.keywords"),
            "content": _string(entry.get("entry", ""), f"{where}.entry"),
            "comment": _string(entry.get("name") or "", f"{where}.name"),
            "order": entry.get("weight", 100),
            "disable": not flag(entry.get("enabled", True), f"{where}.enabled"),
            "selective": False,
            **({"priority": entry["priority"]} if "priority" in entry else {}),
        }
        rest = except_keys(entry, "keywords", "entry", "name", "weight", "enabled", "priority")
        entries.append(_entry(index, mapped, "agnai", rest, where))
    book = _book(found, entries, "agnai", "entries", "kind", name_key="name")
    book.description = _string(found.get("description") or "", "description")
    book.extensions["agnai"].pop("description", None)
    return book


def from_risu(found: dict[str, Any]) -> Lorebook:
    """`type: "risu"`; `data[]` with comma-separated `key`/`secondkey`, `alwaysActive`,
    `insertorder` and `activationPercent`."""
    entries = []
    for index, entry in enumerate(_entries(found.get("data"), "data")):
        where = f"data[{index}]"
        percent = entry.get("activationPercent")
        mapped = {
            "key": _words(entry.get("key", ""), f"{where}.key"),
            "keysecondary": _words(entry.get("secondkey", ""), f"{where}.secondkey"),
            "comment": _string(entry.get("comment") or "", f"{where}.comment"),
            "content": _string(entry.get("content", ""), f"{where}.content"),
            "constant": flag(entry.get("alwaysActive", False), f"{where}.alwaysActive"),
            "selective": flag(entry.get("selective", False), f"{where}.selective"),
            "order": entry.get("insertorder", 100),
            **({"probability": percent, "useProbability": True} if percent is not None else {}),
        }
        rest = except_keys(
            entry, "key", "secondkey", "comment", "content", "alwaysActive", "selective",
            "insertorder", "activationPercent",
        )  # fmt: skip
        entries.append(_entry(index, mapped, "risu", rest, where))
    return _book(found, entries, "risu", "data", "type", name_key="name")


def from_kobold(found: list[Any]) -> Lorebook:
    """KoboldAI's `worldinfo` list (also KoboldAI Lite's): comma-separated `key` and
    `keysecondary`, `constant`, `selective`, Lite's `probability` and `widisabled`. A KoboldAI
    story file's other keys (its actions, memory, settings) are not a lorebook's: only the
    `worldinfo` list is read."""
    entries = []
    for index, entry in enumerate(_entries(found, "worldinfo")):
        where = f"worldinfo[{index}]"
        mapped = {
            "key": _words(entry.get("key", ""), f"{where}.key"),
            "keysecondary": _words(entry.get("keysecondary", ""), f"{where}.keysecondary"),
            "content": _string(entry.get("content", ""), f"{where}.content"),
            "comment": _string(entry.get("comment") or "", f"{where}.comment"),
            "constant": flag(entry.get("constant", False), f"{where}.constant"),
            "selective": flag(entry.get("selective", False), f"{where}.selective"),
            "disable": flag(entry.get("widisabled", False), f"{where}.widisabled"),
            **({"probability": entry["probability"]} if "probability" in entry else {}),
        }
        rest = except_keys(
            entry, "key", "keysecondary", "content", "comment", "constant", "selective",
            "widisabled", "probability",
        )  # fmt: skip
        entries.append(_entry(index, mapped, "kobold", rest, where))
    return Lorebook(entries, source="kobold")


def _entries(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise LorebookError(f"`{where}` must be a list of entries.")
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise LorebookError(f"{where}[{index}] is not an object.")
    return value


def _entry(
    index: int, mapped: dict[str, Any], source: str, rest: dict[str, Any], where: str
) -> dict[str, Any]:
    extensions = {source: rest} if rest else {}
    return checked_entry(
        {"uid": index, "displayIndex": index, "addMemo": bool(mapped.get("comment")),
         **mapped, **({"extensions": extensions} if extensions else {})},
        where,
    )  # fmt: skip


def _book(
    found: dict[str, Any], entries: list[dict[str, Any]], source: Any, *consumed: str,
    name_key: str,
) -> Lorebook:  # fmt: skip
    rest = except_keys(found, *consumed, name_key)
    return Lorebook(
        entries,
        name=_string(found.get(name_key) or "", name_key),
        extensions={source: rest},
        source=source,
    )


def _words(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [word.strip() for word in value.split(",") if word.strip()]
    if isinstance(value, list) and all(isinstance(word, str) for word in value):
        return list(value)
    raise LorebookError(f"{where} must be a list of keywords or comma-separated text.")


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise LorebookError(f"{where} must be text.")
    return value
