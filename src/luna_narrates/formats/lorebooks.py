"""Any lorebook file, recognised by its shape (CARD_SPECS §6 and §7) and read into one
`Lorebook`: SillyTavern World Info, character_book, lorebook_v3, NovelAI (JSON or a PNG with
a `naidata` chunk), KoboldAI, Agnai and RisuAI."""

from __future__ import annotations

import base64
from typing import Any

from luna_narrates.formats import foreign_lorebooks, png_chunks
from luna_narrates.formats.character_card import Card
from luna_narrates.formats.world_info import (
    LOREBOOK_V3,
    Lorebook,
    LorebookError,
    except_keys,
    from_character_book,
    from_world_info,
)
from luna_narrates.kit import json_text


def read_lorebook(payload: bytes) -> Lorebook:
    """A lorebook from a JSON file, or from a PNG holding a NovelAI lorebook (`naidata`)."""
    if payload.startswith(png_chunks.PNG_SIGNATURE):
        return lorebook_from_object(_novelai_in_png(payload))
    try:
        found = json_text.loads(payload.decode("utf-8-sig"))
    except (UnicodeDecodeError, json_text.JsonRefused) as error:
        raise LorebookError(f"Not a lorebook: the file is not JSON ({error}).") from None
    return lorebook_from_object(found)


def lorebook_from_object(found: Any) -> Lorebook:
    if isinstance(found, list):
        return foreign_lorebooks.from_kobold(found)
    if not isinstance(found, dict):
        raise LorebookError("Not a lorebook: the JSON is neither an object nor a list.")
    if found.get("spec") == LOREBOOK_V3:
        if not isinstance(found.get("data"), dict):
            raise LorebookError("A lorebook_v3 file needs a `data` object.")
        return from_character_book(
            found["data"], "lorebook_v3", extra=except_keys(found, "spec", "spec_version", "data")
        )
    if found.get("spec") in ("chara_card_v2", "chara_card_v3"):
        raise LorebookError("This is a character card; import it as a card to get its lorebook.")
    if "lorebookVersion" in found:
        return foreign_lorebooks.from_novelai(found)
    if found.get("kind") == "memory":
        return foreign_lorebooks.from_agnai(found)
    if found.get("type") == "risu":
        return foreign_lorebooks.from_risu(found)
    if isinstance(found.get("worldinfo"), list):
        return foreign_lorebooks.from_kobold(found["worldinfo"])
    if isinstance(found.get("entries"), dict):
        return from_world_info(found)
    if isinstance(found.get("entries"), list):
        return from_character_book(found, "character_book")
    raise LorebookError(
        "Not a lorebook: expected SillyTavern World Info (`entries` keyed by uid), a "
        "character_book or lorebook_v3, or a NovelAI, KoboldAI, Agnai or RisuAI lorebook."
    )


def card_lorebook(card: Card) -> Lorebook | None:
    """The card's embedded `character_book`, if it has one."""
    book = card.data.get("character_book")
    if book is None:
        return None
    if not isinstance(book, dict):
        raise LorebookError("The card's character_book is not an object.")
    return from_character_book(book, "character_book")


def _novelai_in_png(png: bytes) -> Any:
    try:
        texts = {k.lower(): v for k, v in png_chunks.texts(png_chunks.chunks(png), ("naidata",))}
    except png_chunks.PngError as error:
        raise LorebookError(str(error)) from None
    if "naidata" not in texts:
        raise LorebookError("The PNG holds no lorebook (no NovelAI naidata text chunk).")
    try:
        return json_text.loads(base64.b64decode(texts["naidata"]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise LorebookError(f"The PNG's naidata chunk is not base64 JSON: {error}.") from None
