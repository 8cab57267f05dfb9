"""Character cards: the real SillyTavern files (../shared/fixtures) and made-up ones, read,
written back, and read again without losing a field."""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
import zlib
from typing import Any

import pytest

from luna_narrates.formats.character_card import (
    PNG_SIGNATURE,
    CardError,
    card_from_object,
    card_json,
    card_png,
    read_card,
)
from tests.shared_fixtures import fixture, needs_fixtures


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def tiny_png(*extra: bytes) -> bytes:
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    return PNG_SIGNATURE + header + b"".join(extra) + pixels + chunk(b"IEND", b"")


def kinds(png: bytes) -> list[bytes]:
    found, at = [], len(PNG_SIGNATURE)
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        found.append(png[at + 4 : at + 8])
        at += 12 + length
    return found


def text_chunks(png: bytes) -> dict[str, dict[str, Any]]:
    found, at = {}, len(PNG_SIGNATURE)
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        if png[at + 4 : at + 8] == b"tEXt":
            keyword, _, text = png[at + 8 : at + 8 + length].partition(b"\0")
            if keyword in (b"chara", b"ccv3"):
                found[keyword.decode()] = json.loads(base64.b64decode(text))
        at += 12 + length
    return found


V1 = {
    "name": "Tomas",
    "description": "A ferryman.",
    "personality": "",
    "scenario": "The river at night.",
    "first_mes": "Where to?",
    "mes_example": "<START>\r\n{{char}}: Two coins.",
    "avatar": "none",
    "create_date": "1690000000000",
}


@needs_fixtures
def test_a_sillytavern_v2_png_reads_with_its_book_and_extensions() -> None:
    card = read_card(fixture("release-1.12.6/default_Seraphina.png"))
    assert (card.version, card.name, card.spec_version) == (2, "Seraphina", "2.0")
    assert card.data["extensions"]["talkativeness"] == "0.5", "kept as the string it was"
    assert card.data["extensions"]["world"] == "Eldoria"
    book = card.data["character_book"]
    assert book["name"] == "Eldoria" and len(book["entries"]) == 4
    assert card.raw["creatorcomment"] is not None, "legacy top-level keys are kept"


@needs_fixtures
def test_a_png_with_both_chunks_is_read_from_ccv3_and_written_back_losslessly() -> None:
    original = fixture("staging-2024-10-18/default_Seraphina.png")
    card = read_card(original)
    assert (card.version, card.spec_version, card.newer_than_known) == (3, "3.0", False)
    assert all(entry["use_regex"] is True for entry in card.data["character_book"]["entries"])

    written = card_png(card, original)
    again = read_card(written)
    assert again.raw == card.raw, "nothing lost, unknown keys included"
    chunks = text_chunks(written)
    assert (chunks["chara"]["spec"], chunks["ccv3"]["spec"]) == ("chara_card_v2", "chara_card_v3")
    assert chunks["chara"]["data"] == chunks["ccv3"]["data"]
    assert [k for k in kinds(written) if k != b"tEXt"] == [
        k for k in kinds(original) if k != b"tEXt"
    ]
    assert _idat(written) == _idat(original), "the portrait's pixels are untouched"


def _idat(png: bytes) -> bytes:
    at, data = len(PNG_SIGNATURE), b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        if png[at + 4 : at + 8] == b"IDAT":
            data += png[at + 8 : at + 8 + length]
        at += 12 + length
    return data


def test_a_v1_card_becomes_v2_and_v3_with_every_field_kept() -> None:
    card = read_card(json.dumps(V1).encode())
    assert (card.version, card.name) == (1, "Tomas")
    v2 = card_json(card, 2)
    assert v2["spec"] == "chara_card_v2" and v2["data"]["mes_example"] == V1["mes_example"]
    assert v2["data"]["alternate_greetings"] == [] and v2["data"]["extensions"] == {}
    v3 = card_json(read_card(json.dumps(v2).encode()), 3)
    assert v3["data"]["group_only_greetings"] == []
    assert card_json(read_card(json.dumps(v3).encode()), 1) == {
        field: V1[field]
        for field in ("name", "description", "personality", "scenario", "first_mes", "mes_example")
    }
    assert card_json(card, 1) == V1, "a V1 card written as V1 keeps its extra keys"


def test_unknown_fields_and_extensions_survive_every_conversion() -> None:
    v2 = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "risu_extra": {"keep": True},
        "data": {
            **{k: V1[k] for k in ("name", "description", "first_mes")},
            "extensions": {"agnai/voice": {"id": 7}, "depth_prompt": {"depth": 4}},
            "x_unknown": [1, 2],
        },
    }
    card = read_card(json.dumps(v2).encode())
    for version in (2, 3):
        written = card_json(card, version)  # type: ignore[arg-type]
        assert written["risu_extra"] == {"keep": True}
        assert written["data"]["extensions"] == v2["data"]["extensions"]
        assert written["data"]["x_unknown"] == [1, 2]
        card = read_card(json.dumps(written).encode())


def test_a_plain_image_gets_a_card_and_older_readers_find_v2() -> None:
    card = card_from_object(V1)
    png = card_png(card, tiny_png(chunk(b"tEXt", b"Comment\0made by hand")), version=3)
    assert read_card(png).version == 3
    assert text_chunks(png)["chara"]["spec"] == "chara_card_v2"
    assert b"Comment\0made by hand" in png, "other text chunks are kept"
    assert kinds(png)[-3:] == [b"tEXt", b"tEXt", b"IEND"], "written just before IEND"
    v2_only = card_png(card, png, version=2)
    assert sorted(text_chunks(v2_only)) == ["chara"], "the old ccv3 chunk is replaced, not kept"
    assert read_card(v2_only).version == 2


def test_charx_and_the_old_pygmalion_shape_are_read() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as charx:
        charx.writestr("card.json", json.dumps(card_json(card_from_object(V1), 3)))
    assert read_card(archive.getvalue()).name == "Tomas"
    pyg = read_card(json.dumps({"char_name": "Ada", "char_greeting": "Hello."}).encode())
    assert (pyg.version, pyg.name, pyg.data["first_mes"]) == (1, "Ada", "Hello.")


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"\x00\x01binary", "neither PNG, CHARX nor JSON"),
        (b"[1, 2]", "not an object"),
        (json.dumps({"spec": "lorebook_v3", "data": {}}).encode(), "a lorebook"),
        (json.dumps({"spec": "chara_card_v2", "data": "x"}).encode(), "needs a `data` object"),
        (tiny_png(), "no chara or ccv3"),
        (tiny_png()[:30], "truncated"),
        (tiny_png(chunk(b"tEXt", b"chara\0%%%notbase64")), "not base64 JSON"),
        (b"PK\x03\x04broken", "Not a CHARX card"),
    ],
)
def test_what_is_not_a_card_is_refused_saying_why(payload: bytes, says: str) -> None:
    with pytest.raises(CardError, match=says):
        read_card(payload)
