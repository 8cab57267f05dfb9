"""Asset cards: written into real PNGs (made with Pillow, and SillyTavern's portrait), read back
whole, every other chunk untouched, and PNGs from elsewhere refused saying why."""

from __future__ import annotations

import io
import json
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from pydantic import ValidationError

from luna_narrates.formats import png_chunks
from luna_narrates.formats.asset_card import (
    NO_CARD,
    AssetCard,
    AssetCardError,
    AssetGeneration,
    embed,
    extract,
    generation_parameters,
    parse_infotext,
)
from luna_narrates.formats.character_card import read_card
from tests.shared_fixtures import fixture, needs_fixtures

WRITTEN = {"LUNA-Asset-Card", "parameters", "model"}

CARD = AssetCard(
    content_type="location",
    name="The Ferry Landing",
    description="A jetty of black wood where the river meets the fog.",
    attributes={"mood": "grim", "time_of_day": "dusk", "danger": 3, "lit": False},
    generation=AssetGeneration(
        prompt="a wooden jetty at dusk, fog, lanterns", model="sdxl-base", steps=30, cfg=6.5
    ),
    created_by="LUNA-Narrates 0.1.0",
    created_at=datetime(2025, 3, 1, 12, 30, tzinfo=UTC),
)


def pillow_png(pnginfo: PngInfo | None = None, size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (40, 80, 120, 255)).save(out, "PNG", pnginfo=pnginfo)
    return out.getvalue()


def comfyui_png() -> bytes:
    """A PNG as ComfyUI's SaveImage writes it: `prompt` (the API graph) and `workflow` tEXt."""
    graph = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "dream.safetensors"}},
        "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1]}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red fox", "clip": ["10", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["10", 1]}},
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 8566257,
                "steps": 20,
                "cfg": 8.0,
                "sampler_name": "euler",
                "model": ["10", 0],
                "positive": ["6", 0],
                "negative": ["7", 0],
            },
        },
    }
    info = PngInfo()
    info.add_text("prompt", json.dumps(graph))
    info.add_text("workflow", json.dumps({"nodes": [], "links": []}))
    return pillow_png(info)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def with_chunk(png: bytes, kind: bytes, body: bytes) -> bytes:
    """`png` with one more chunk just before IEND (the last 12 bytes)."""
    return png[:-12] + chunk(kind, body) + png[-12:]


def card_text(text: str) -> bytes:
    return with_chunk(pillow_png(), b"tEXt", b"LUNA-Asset-Card\0" + text.encode("latin-1"))


def others(png: bytes) -> list[png_chunks.Chunk]:
    """Every chunk but the ones `embed` writes, in order."""
    return [c for c in png_chunks.chunks(png) if png_chunks.chunk_keyword(c) not in WRITTEN]


def test_a_card_round_trips_and_pillow_reads_each_chunk_without_decoding_pixels() -> None:
    original = pillow_png()
    png = embed(original, CARD)
    assert extract(png) == CARD
    with Image.open(io.BytesIO(png)) as image:
        info = dict(image.info)  # read from the header: the chunks come before IDAT
        assert image.tobytes() == Image.open(io.BytesIO(original)).tobytes()
    assert json.loads(info["LUNA-Asset-Card"])["license"] == "CC-BY-SA-4.0"
    assert info["model"] == "sdxl-base"
    assert info["parameters"] == (
        "a wooden jetty at dusk, fog, lanterns\n"
        "Negative prompt: \n"
        "Steps: 30, CFG scale: 6.5, Size: 32x24, Model: sdxl-base, Version: LUNA-Narrates 0.1.0"
    )


def test_every_other_chunk_is_kept_byte_for_byte() -> None:
    original = with_chunk(comfyui_png(), b"tIME", b"\x07\xe9\x03\x01\x0c\x1e\x00")
    png = embed(original, CARD)
    assert others(png) == others(original), "ComfyUI's prompt and workflow included"
    keywords = [png_chunks.chunk_keyword(c) or c[0].decode() for c in png_chunks.chunks(png)]
    assert keywords[-6:] == ["LUNA-Asset-Card", "parameters", "model", "IDAT", "tIME", "IEND"]


@needs_fixtures
def test_a_card_in_a_sillytavern_portrait_leaves_its_character_card_readable() -> None:
    original = fixture("staging-2024-10-18/default_Seraphina.png")
    card = CARD.model_copy(update={"content_type": "character", "name": "Seraphina"})
    png = embed(original, card)
    assert extract(png) == card
    assert others(png) == others(original), "chara, ccv3 and the pixels untouched"
    assert read_card(png).raw == read_card(original).raw


def test_a_second_embed_replaces_the_card_and_its_chunks() -> None:
    first = embed(pillow_png(), CARD)
    renamed = CARD.model_copy(update={"name": "The Old Ferry Landing"})
    again = embed(first, renamed)
    assert extract(again) == renamed
    keywords = [png_chunks.chunk_keyword(c) for c in png_chunks.chunks(again)]
    assert sorted(k for k in keywords if k) == ["LUNA-Asset-Card", "model", "parameters"]
    assert others(again) == others(first)


def test_non_latin_text_survives_and_the_card_stays_an_ascii_text_chunk() -> None:
    card = CARD.model_copy(
        update={
            "name": "Замок 城 🏯",
            "generation": AssetGeneration(prompt="夜の城、霧", model="Ünïcode-XL"),
        }
    )
    png = embed(pillow_png(), card)
    assert extract(png) == card
    written = {png_chunks.chunk_keyword(c): c for c in png_chunks.chunks(png)}
    assert written["LUNA-Asset-Card"][0] == b"tEXt"
    assert written["LUNA-Asset-Card"][1].isascii()
    assert written["parameters"][0] == b"iTXt", "UTF-8, as A1111 writes a non-Latin-1 prompt"
    assert written["model"][0] == b"tEXt", "Latin-1 fits a tEXt chunk"
    assert Image.open(io.BytesIO(png)).info["parameters"].startswith("夜の城、霧\n")


def test_a_card_another_writer_compressed_into_an_itxt_chunk_is_read() -> None:
    info = PngInfo()
    info.add_itxt("LUNA-Asset-Card", CARD.model_dump_json(), zip=True)
    assert extract(pillow_png(info)) == CARD


def test_a_newer_minor_version_is_read_and_keeps_what_it_added() -> None:
    found = CARD.model_dump(mode="json")
    found |= {"format_version": "1.4", "palette": ["#102030"]}
    found["generation"] |= {"sampler": "euler"}
    card = extract(card_text(json.dumps(found)))
    assert card.format_version == "1.4"
    assert card.model_extra == {"palette": ["#102030"]}
    assert extract(embed(pillow_png(), card)) == card, "written back with its new fields"


def test_a_png_from_elsewhere_is_refused_with_the_message_the_user_sees() -> None:
    with pytest.raises(AssetCardError) as refused:
        extract(comfyui_png())
    assert (
        str(refused.value)
        == NO_CARD
        == (
            "This PNG has no LUNA asset card (no `LUNA-Asset-Card` text chunk): it was not made by "
            "LUNA-Narrates or its card was stripped."
        )
    )


def _card(**changes: Any) -> str:
    return json.dumps(CARD.model_dump(mode="json") | changes)


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"GIF89a...", "Not a PNG"),
        (pillow_png()[:40], "truncated"),
        (card_text("{not json"), "not JSON"),
        (card_text('{"name": NaN}'), "not JSON"),
        (card_text("[1, 2]"), "not a JSON object"),
        (card_text(_card(format_version="2.0")), "format 2.0, newer than the 1.0"),
        (card_text(_card(name="", content_type="map")), "name: String should have at least"),
        (card_text(_card(name="x" * 201)), "name: String should have at most 200"),
        (card_text(_card(content_type="map")), "content_type: Input should be 'character'"),
        (
            card_text(_card(generation={"prompt": "p", "model": "m", "steps": 0})),
            "generation.steps",
        ),
        (card_text(_card(created_at="2025-03-01T12:30:00")), "created_at: Input should have"),
        (card_text(_card(attributes={"k": [1]})), "attributes.k"),
        (card_text(_card(description="a\0b")), "description holds a NUL"),
    ],
)
def test_what_is_not_a_card_is_refused_saying_why(payload: bytes, says: str) -> None:
    with pytest.raises(AssetCardError, match=says):
        extract(payload)


def test_a_card_that_skipped_validation_is_not_written() -> None:
    with pytest.raises(AssetCardError, match="name: String should have at most 200"):
        embed(pillow_png(), CARD.model_copy(update={"name": "x" * 201}))


def test_a_decompression_bomb_and_an_oversized_card_are_refused() -> None:
    bomb = zlib.compress(b" " * (png_chunks.MAX_TEXT_BYTES + 1))
    with pytest.raises(AssetCardError, match="inflate past 32 MiB"):
        extract(with_chunk(pillow_png(), b"zTXt", b"LUNA-Asset-Card\0\0" + bomb))
    huge = pillow_png()
    huge = huge[:16] + struct.pack(">II", 100_000, 100_000) + huge[24:]
    with pytest.raises(AssetCardError, match="decompression bomb"):
        extract(huge)
    with pytest.raises(AssetCardError, match="decompression bomb"):
        embed(huge, CARD)
    with pytest.raises(AssetCardError, match="larger than 1 MiB"):
        extract(card_text(_card(padding="x" * 2**20)))
    with pytest.raises(AssetCardError, match="larger than 1 MiB"):
        embed(pillow_png(), CARD.model_copy(update={"padding": "x" * 2**20}))


def test_the_card_is_checked_when_it_is_made() -> None:
    east = CARD.model_dump() | {
        "created_at": datetime(2025, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    }
    assert AssetCard.model_validate(east).created_at.tzinfo is UTC
    assert AssetCard.model_validate(east).model_dump(mode="json")["created_at"] == (
        "2025-03-01T12:30:00Z"
    )
    with pytest.raises(ValidationError, match="not finite"):
        AssetCard.model_validate(CARD.model_dump() | {"attributes": {"x": float("nan")}})
    with pytest.raises(ValidationError, match="at most 100 items"):
        AssetCard.model_validate(
            CARD.model_dump() | {"attributes": {str(i): i for i in range(101)}}
        )


def test_generation_parameters_are_read_from_a1111_and_comfyui_pngs() -> None:
    a1111 = PngInfo()
    a1111.add_text(
        "parameters",
        "masterpiece, a castle: at night\nNegative prompt: lowres, bad hands\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234567890, Size: 512x512, "
        'Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Lora hashes: "fox: abc123", '
        "Version: v1.10.1",
    )
    assert generation_parameters(pillow_png(a1111)) == {
        "Prompt": "masterpiece, a castle: at night",
        "Negative prompt": "lowres, bad hands",
        "Steps": "20",
        "Sampler": "Euler a",
        "CFG scale": "7",
        "Seed": "1234567890",
        "Size": "512x512",
        "Model hash": "6ce0161689",
        "Model": "v1-5-pruned-emaonly",
        "Lora hashes": "fox: abc123",
        "Version": "v1.10.1",
    }
    assert generation_parameters(comfyui_png()) == {
        "Prompt": "a red fox",
        "Negative prompt": "blurry",
        "Steps": "20",
        "Sampler": "euler",
        "CFG scale": "8.0",
        "Seed": "8566257",
        "Model": "dream.safetensors",
    }
    assert generation_parameters(pillow_png()) == {}


def test_our_parameters_chunk_reads_back_as_the_cards_generation() -> None:
    card = CARD.model_copy(
        update={"generation": AssetGeneration(prompt="a, b: c", model="x:y", seed=7)}
    )
    assert generation_parameters(embed(pillow_png(), card)) == {
        "Prompt": "a, b: c",
        "Negative prompt": "",
        "Seed": "7",
        "Size": "32x24",
        "Model": "x:y",
        "Version": "LUNA-Narrates 0.1.0",
    }
    assert parse_infotext("just a prompt, style: anime") == {
        "Prompt": "just a prompt, style: anime",
        "Negative prompt": "",
    }, "a prompt line is not taken for settings"


safe_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0"), max_size=40)
cards = st.builds(
    AssetCard,
    content_type=st.sampled_from(["character", "location", "background", "action", "item"]),
    name=safe_text.filter(bool),
    description=safe_text,
    attributes=st.dictionaries(
        safe_text.filter(bool),
        safe_text
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.booleans(),
        max_size=5,
    ),
    generation=st.builds(
        AssetGeneration,
        prompt=safe_text,
        model=safe_text.filter(bool),
        steps=st.none() | st.integers(1, 150),
        cfg=st.none() | st.floats(0, 30),
        seed=st.none() | st.integers(0, 2**64 - 1),
    ),
    created_by=safe_text.filter(bool),
    created_at=st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
)


@settings(max_examples=60, deadline=None)
@given(card=cards)
def test_any_card_round_trips_and_leaves_the_image_alone(card: AssetCard) -> None:
    original = pillow_png()
    png = embed(original, card)
    assert extract(png) == card
    assert others(png) == others(original)
    read = generation_parameters(png)
    assert (read["Model"], read["Version"]) == (card.generation.model, card.created_by), (
        "A1111's readers see the model and the writer, whatever characters they hold"
    )
