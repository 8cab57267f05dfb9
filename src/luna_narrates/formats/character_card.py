"""Character cards as other tools write them: TavernAI V1, Character Card V2 and V3, in JSON,
PNG (`chara` and `ccv3` tEXt chunks) and CHARX. Bytes in, a card out, and back.

A card keeps the object it was read from, unknown fields and every `extensions` key included,
and writing changes only what the format requires: other tools keep their settings there.
PNG chunks are handled here byte for byte, so the portrait's pixels are never re-encoded.
"""

from __future__ import annotations

import base64
import binascii
import copy
import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any, Literal

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"
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
        return str(self.data.get("name") or "")

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
    if payload.startswith(PNG_SIGNATURE):
        return card_from_object(_card_in_png(payload))
    if payload.startswith(ZIP_SIGNATURE):
        return card_from_object(_card_in_charx(payload))
    try:
        found = json.loads(payload.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
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
    if version == 3:
        data.setdefault("group_only_greetings", [])
        return {**top, "spec": V3, "spec_version": "3.0", "data": data}
    return {**top, "spec": V2, "spec_version": "2.0", "data": data}


def card_png(card: Card, image: bytes, version: Version = 3) -> bytes:
    """The card in a PNG: existing card chunks replaced, a V3 card with a `chara` V2 backfill
    for older readers. Every other chunk of the image is kept as it was."""
    chunks = [c for c in _chunks(image) if not _is_card_chunk(c)]
    written = [_text_chunk("chara", card_json(card, 1 if version == 1 else 2))]
    if version == 3:
        written.append(_text_chunk("ccv3", card_json(card, 3)))
    end = next(i for i, (kind, _) in enumerate(chunks) if kind == b"IEND")
    chunks[end:end] = written
    return PNG_SIGNATURE + b"".join(_pack(kind, body) for kind, body in chunks)


def _card_in_png(png: bytes) -> Any:
    texts: dict[str, str] = {}
    for kind, body in _chunks(png):
        text = _chunk_text(kind, body)
        if text is not None and text[0].lower() in CARD_KEYWORDS:
            texts.setdefault(text[0].lower(), text[1])
    for keyword in CARD_KEYWORDS:
        if keyword in texts:
            try:
                return json.loads(base64.b64decode(texts[keyword], validate=False).decode())
            except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as error:
                raise CardError(f"The PNG's {keyword} chunk is not base64 JSON: {error}.") from None
    raise CardError("The PNG holds no character card (no chara or ccv3 text chunk).")


def _card_in_charx(archive: bytes) -> Any:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as charx:
            return json.loads(charx.read("card.json").decode("utf-8-sig"))
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CardError(f"Not a CHARX card (a ZIP with card.json): {error}.") from None


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    if not png.startswith(PNG_SIGNATURE):
        raise CardError("Not a PNG file.")
    found, at = [], len(PNG_SIGNATURE)
    while at < len(png):
        if at + 8 > len(png):
            raise CardError("The PNG is truncated (a chunk header is cut off).")
        length, kind = struct.unpack(">I4s", png[at : at + 8])
        body = png[at + 8 : at + 8 + length]
        if len(body) != length or at + 12 + length > len(png):
            raise CardError(
                f"The PNG is truncated (its {kind.decode('latin-1')} chunk is cut off)."
            )
        found.append((kind, body))
        at += 12 + length
        if kind == b"IEND":
            break
    if not found or found[-1][0] != b"IEND":
        raise CardError("The PNG is truncated (no IEND chunk).")
    return found


def _chunk_text(kind: bytes, body: bytes) -> tuple[str, str] | None:
    """(keyword, text) of a tEXt, zTXt or iTXt chunk."""
    keyword, _, rest = body.partition(b"\0")
    try:
        if kind == b"tEXt":
            return keyword.decode("latin-1"), rest.decode("latin-1")
        if kind == b"zTXt":
            return keyword.decode("latin-1"), zlib.decompress(rest[1:]).decode("latin-1")
        if kind == b"iTXt":
            compressed, rest = rest[0], rest[2:]
            _language, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            raw = zlib.decompress(text) if compressed else text
            return keyword.decode("latin-1"), raw.decode("utf-8")
    except (zlib.error, UnicodeDecodeError, IndexError):
        return None
    return None


def _is_card_chunk(chunk: tuple[bytes, bytes]) -> bool:
    text = _chunk_text(*chunk)
    return text is not None and text[0].lower() in CARD_KEYWORDS


def _text_chunk(keyword: str, card: dict[str, Any]) -> tuple[bytes, bytes]:
    payload = base64.b64encode(json.dumps(card, ensure_ascii=False).encode())
    return b"tEXt", keyword.encode("latin-1") + b"\0" + payload


def _pack(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
