"""Character cards as other tools write them: TavernAI V1, Character Card V2 and V3, in JSON,
PNG (`chara` and `ccv3` tEXt chunks) and CHARX. Bytes in, a card out, and back.

A card keeps the object it was read from, unknown fields and every `extensions` key included,
and writing changes only what the format requires: other tools keep their settings there.
PNG chunks are handled here byte for byte, so the portrait's pixels are never re-encoded.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any, Literal

from luna_narrates.formats import lore_decorators, png_chunks
from luna_narrates.formats.png_chunks import PNG_SIGNATURE
from luna_narrates.kit import json_text

ZIP_SIGNATURE = b"PK\x03\x04"
MAX_CARD_JSON_BYTES = 32 * 1024 * 1024
# What a damaged or unusual ZIP raises: a bad CRC, a corrupt deflate stream, an unsupported
# compression method, encryption.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError)
V2, V3 = "chara_card_v2", "chara_card_v3"
CARD_KEYWORDS = ("ccv3", "chara")  # read in this order: V3 first
V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
V2_DEFAULTS: dict[str, Any] = {
    "creator_notes": "",
    "system_prompt": "",
    "post_history_instructions": "",
    "alternate_greetings": [],
    "tags": [],
    "creator": "",
    "character_version": "",
    "extensions": {},
}
# The old Pygmalion/Gradio shape, still met in the wild, as its V1 fields.
PYGMALION = {
    "char_name": "name",
    "char_persona": "description",
    "world_scenario": "scenario",
    "char_greeting": "first_mes",
    "example_dialogue": "mes_example",
}
Version = Literal[1, 2, 3]


class CardError(ValueError):
    """The bytes are not a character card we can read; the message says why."""


@dataclass(frozen=True)
class Card:
    version: Version
    raw: dict[str, Any]  # the card object as read

    @property
    def data(self) -> dict[str, Any]:
        """The card's fields: `data` for V2 and V3, the object itself for V1."""
        inner = self.raw.get("data") if self.version > 1 else self.raw
        return inner if isinstance(inner, dict) else {}

    @property
    def name(self) -> str:
        """`data.name`, or for a V2/V3 card the V1 copy at the top level that SillyTavern
        mirrors there."""
        return str(self.data.get("name") or self.raw.get("name") or "")

    @property
    def spec_version(self) -> str | None:
        value = self.raw.get("spec_version")
        return None if value is None else str(value)

    @property
    def newer_than_known(self) -> bool:
        """A V3 card of a later spec version: imported anyway, but worth telling the user."""
        try:
            return self.version == 3 and float(self.spec_version or "3.0") > 3.0
        except ValueError:
            return False


def read_card(payload: bytes) -> Card:
    try:
        return _read_card(payload)
    except png_chunks.PngError as error:
        raise CardError(str(error)) from None


def _read_card(payload: bytes) -> Card:
    if payload.startswith(PNG_SIGNATURE):
        return card_from_object(_card_in_png(payload))
    if payload.startswith(ZIP_SIGNATURE):
        return card_from_object(_card_in_charx(payload))
    try:
        found = json_text.loads(payload.decode("utf-8-sig"))
    except (UnicodeDecodeError, json_text.JsonRefused) as error:
        raise CardError(f"Not a card: neither PNG, CHARX nor JSON ({error}).") from None
    return card_from_object(found)


def card_from_object(found: Any) -> Card:
    if not isinstance(found, dict):
        raise CardError("Not a card: the JSON is not an object.")
    spec = found.get("spec")
    if spec == "lorebook_v3":
        raise CardError("This is a lorebook (lorebook_v3), not a character card.")
    if spec in (V2, V3):
        if not isinstance(found.get("data"), dict):
            raise CardError(f"A {spec} card needs a `data` object.")
        return Card(3 if spec == V3 else 2, found)
    if spec is None and "name" in found:
        return Card(1, found)
    if spec is None and "char_name" in found:
        converted = {PYGMALION.get(str(k), str(k)): v for k, v in found.items()}
        return Card(1, {"personality": "", **converted})
    if isinstance(found.get("data"), dict) and "name" in found["data"]:
        return Card(2, found)  # an unknown spec that still has the V2 shape
    if "name" in found:
        return Card(1, found)  # an unknown spec: its top level read as V1 (CARD_SPECS §7)
    raise CardError("Not a card: no spec, no name.")


def card_json(card: Card, version: Version) -> dict[str, Any]:
    """The card as a `version` object; fields and extensions it has are all kept."""
    data = copy.deepcopy(card.data)
    for field in V1_FIELDS:
        data[field] = str(data.get(field) or "")
    if version == 1:
        extra = card.raw if card.version == 1 else {}
        return {**copy.deepcopy(extra), **{f: data[f] for f in V1_FIELDS}}
    for field, default in V2_DEFAULTS.items():
        data.setdefault(field, copy.deepcopy(default))
    top = {k: copy.deepcopy(v) for k, v in card.raw.items() if card.version > 1}
    if version == 2 and isinstance(data.get("character_book"), dict):
        _strip_decorators(data["character_book"])
    if version == 3:
        data.setdefault("group_only_greetings", [])
        return {**top, "spec": V3, "spec_version": "3.0", "data": data}
    return {**top, "spec": V2, "spec_version": "2.0", "data": data}


def _strip_decorators(book: dict[str, Any]) -> None:
    """A V2 backfill carries no V3 decorators (the V3 spec asks for it): V2 readers would put
    the `@@` lines into the prompt."""
    for entry in book.get("entries") or []:
        if isinstance(entry, dict) and isinstance(entry.get("content"), str):
            entry["content"] = lore_decorators.strip(entry["content"])


def card_png(card: Card, image: bytes, version: Version = 3) -> bytes:
    """The card in a PNG: existing card chunks replaced, a V3 card with a `chara` V2 backfill
    for older readers. Every other chunk of the image is kept as it was."""
    written = [_text_chunk("chara", card_json(card, 1 if version == 1 else 2))]
    if version == 3:
        written.append(_text_chunk("ccv3", card_json(card, 3)))
    return png_chunks.replace_texts(_png_chunks(image), CARD_KEYWORDS, written)


def _card_in_png(png: bytes) -> Any:
    texts: dict[str, str] = {}
    for keyword, text in png_chunks.texts(_png_chunks(png), CARD_KEYWORDS):
        texts.setdefault(keyword.lower(), text)
    for keyword in CARD_KEYWORDS:
        if keyword in texts:
            try:
                return json_text.loads(base64.b64decode(texts[keyword], validate=False).decode())
            except (ValueError, UnicodeDecodeError) as error:
                raise CardError(f"The PNG's {keyword} chunk is not base64 JSON: {error}.") from None
    raise CardError("The PNG holds no character card (no chara or ccv3 text chunk).")


def _card_in_charx(archive: bytes) -> Any:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as charx:
            text = _member(charx, "card.json")
        return json_text.loads(text.decode("utf-8-sig"))
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, json_text.JsonRefused) as error:
        raise CardError(f"Not a CHARX card (a ZIP with card.json): {error}.") from None
    except ZIP_ERRORS as error:
        raise CardError(f"The CHARX cannot be read: {error}.") from None


def _member(charx: zipfile.ZipFile, path: str) -> bytes:
    """One file of the archive, refused when it inflates past the limit (checked as it is
    read, not trusted from the header)."""
    info = charx.getinfo(path)
    if info.file_size > MAX_CARD_JSON_BYTES:
        raise CardError(f"The CHARX's {path} is larger than {MAX_CARD_JSON_BYTES // 2**20} MiB.")
    with charx.open(info) as member:
        data = member.read(MAX_CARD_JSON_BYTES + 1)
    if len(data) > MAX_CARD_JSON_BYTES:
        raise CardError(f"The CHARX's {path} is larger than its header says.")
    return data


def charx_icon(archive: bytes) -> bytes | None:
    """The portrait of a CHARX card: the `main` icon (else the first icon) whose `embeded://`
    file is in the archive, as SillyTavern picks it. None when it has none."""
    card = card_from_object(_card_in_charx(archive))
    assets = card.data.get("assets") or []
    icons = [a for a in assets if isinstance(a, dict) and a.get("type") == "icon"]
    icons.sort(key=lambda a: a.get("name") != "main")
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as charx:
            names = set(charx.namelist())
            for icon in icons:
                uri = str(icon.get("uri") or "")
                path = uri.removeprefix("embeded://")
                if uri.startswith("embeded://") and path in names:
                    return _member(charx, path)
    except ZIP_ERRORS as error:
        raise CardError(f"The CHARX's portrait cannot be read: {error}.") from None
    return None


def without_card(png: bytes) -> bytes:
    """The PNG with its card chunks removed: the portrait alone."""
    return png_chunks.assemble(png_chunks.without_texts(_png_chunks(png), CARD_KEYWORDS))


def _png_chunks(png: bytes) -> list[png_chunks.Chunk]:
    try:
        return png_chunks.chunks(png)
    except png_chunks.PngError as error:
        raise CardError(str(error)) from None


def _text_chunk(keyword: str, card: dict[str, Any]) -> png_chunks.Chunk:
    return png_chunks.text_chunk(
        keyword, base64.b64encode(json.dumps(card, ensure_ascii=False).encode())
    )
