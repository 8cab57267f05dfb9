"""Lorebooks: SillyTavern's real World Info files and the Seraphina card's book, and made-up
files in the NovelAI, KoboldAI, Agnai and RisuAI shapes, read, written back and read again
equal; bad files refused naming the field."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luna_narrates.formats import lore_decorators
from luna_narrates.formats.character_card import card_from_object, card_json, read_card
from luna_narrates.formats.lorebooks import card_lorebook, lorebook_from_object, read_lorebook
from luna_narrates.formats.png_chunks import PNG_SIGNATURE
from luna_narrates.formats.world_info import (
    Lorebook,
    LorebookError,
    character_book_json,
    world_info_json,
)
from tests.shared_fixtures import fixture, needs_fixtures


def again_as_world_info(book: Lorebook) -> Lorebook:
    return read_lorebook(json.dumps(world_info_json(book)).encode())


def again_as_character_book(book: Lorebook) -> Lorebook:
    return lorebook_from_object(character_book_json(book))


def assert_round_trips(book: Lorebook) -> None:
    assert again_as_world_info(book).content() == book.content()
    assert again_as_character_book(book).content() == book.content()
    assert again_as_world_info(again_as_character_book(book)).content() == book.content()


@needs_fixtures
@pytest.mark.parametrize("version", ["release-1.12.6", "staging-2024-10-18"])
def test_sillytavern_world_info_round_trips_with_every_field(version: str) -> None:
    raw = json.loads(fixture(f"{version}/Eldoria.json"))
    book = read_lorebook(fixture(f"{version}/Eldoria.json"))

    assert [entry["uid"] for entry in book.entries] == [0, 1, 2, 3]
    for entry, original in zip(book.entries, raw["entries"].values(), strict=True):
        assert {k: entry[k] for k in original} == original  # every field the file had, as it was
        assert len(entry) >= 31  # and SillyTavern's defaults for the ones it did not
    assert book.entries[0]["key"] == ["eldoria", "wood", "forest", "magical forest"]
    assert_round_trips(book)
    assert world_info_json(book)["entries"] == {
        uid: {**book.entries[int(uid)]} for uid in raw["entries"]
    }


@needs_fixtures
def test_the_cards_book_is_the_same_lore_as_the_world_info_file() -> None:
    card = read_card(fixture("staging-2024-10-18/default_Seraphina.png"))
    from_card = card_lorebook(card)
    world = read_lorebook(fixture("staging-2024-10-18/Eldoria.json"))

    assert from_card is not None and from_card.name == "Eldoria"
    same = ("uid", "key", "keysecondary", "comment", "content", "order", "position", "disable")
    assert [{k: e[k] for k in same} for e in from_card.entries] == [
        {k: e[k] for k in same} for e in world.entries
    ]
    assert_round_trips(from_card)
    # Written back exactly as SillyTavern wrote it: every World Info field in `extensions`.
    assert character_book_json(from_card) == {**card.data["character_book"], "extensions": {}}


def test_a_lorebook_v3_file_keeps_book_settings_and_unknown_fields() -> None:
    book = lorebook_from_object(
        {
            "spec": "lorebook_v3",
            "data": {
                "name": "Veyra",
                "description": "Canal city",
                "scan_depth": 6,
                "token_budget": 300,
                "recursive_scanning": True,
                "extensions": {"risu/x": 1},
                "book_flag": "kept",
                "entries": [
                    {
                        "keys": ["doge", "/crown/i"],
                        "content": "@@depth 2\nThe Doge wears the cursed crown.",
                        "extensions": {"tool/x": [1]},
                        "enabled": False,
                        "insertion_order": 7,
                        "use_regex": False,
                        "priority": 3,
                        "name": "The Doge",
                        "case_sensitive": True,
                        "position": "after_char",
                        "mystery": {"kept": True},
                    }
                ],
            },
        }
    )

    entry = book.entries[0]
    assert (book.name, book.scan_depth, book.token_budget, book.recursive_scanning) == (
        "Veyra", 6, 300, True,
    )  # fmt: skip
    assert entry["disable"] is True and entry["order"] == 7 and entry["position"] == 1
    assert entry["caseSensitive"] is True and entry["priority"] == 3
    assert entry["useRegex"] is False and entry["mystery"] == {"kept": True}
    assert entry["extensions"] == {"tool/x": [1]}
    assert book.extra == {"book_flag": "kept"}
    written = character_book_json(book)["entries"][0]
    assert written["use_regex"] is False and written["name"] == "The Doge"
    assert written["extensions"]["tool/x"] == [1]
    assert_round_trips(book)


FOREIGN: dict[str, Any] = {
    "novelai": {
        "lorebookVersion": 5,
        "settings": {"orderByKeyLocations": False},
        "categories": [],
        "entries": [
            {
                "text": "Veyra is a city of canals.",
                "contextConfig": {"budgetPriority": 400, "tokenBudget": 1},
                "displayName": "Veyra",
                "keys": ["Veyra", "canal"],
                "enabled": True,
                "forceActivation": True,
                "searchRange": 1000,
            }
        ],
    },
    "agnai": {
        "kind": "memory",
        "name": "Guild lore",
        "description": "What the Guild knows",
        "userId": "u1",
        "entries": [
            {"name": "Guild", "entry": "The Guild collects debts.", "keywords": ["guild"],
             "priority": 5, "weight": 20, "enabled": False},
        ],
    },
    "risu": {
        "type": "risu",
        "ver": 1,
        "data": [
            {"key": "crown, doge", "secondkey": "curse", "comment": "Crown",
             "content": "The crown is cursed.", "mode": "normal", "insertorder": 50,
             "alwaysActive": False, "selective": True, "activationPercent": 40},
        ],
    },
    "kobold": {
        "worldinfo": [
            {"key": "Ila, thief", "keysecondary": "", "keyanti": "", "content": "Ila steals.",
             "comment": "", "folder": None, "selective": False, "constant": False,
             "probability": 100, "wigroup": "", "widisabled": False},
        ],
    },
}  # fmt: skip


@pytest.mark.parametrize("source", sorted(FOREIGN))
def test_foreign_lorebooks_map_to_world_info_and_keep_the_rest(source: str) -> None:
    book = read_lorebook(json.dumps(FOREIGN[source]).encode())

    assert book.source == source
    assert_round_trips(book)
    entry = book.entries[0]
    if source == "novelai":
        assert entry["key"] == ["Veyra", "canal"] and entry["constant"] is True
        assert entry["order"] == 400 and entry["comment"] == "Veyra"
        assert entry["extensions"]["novelai"]["searchRange"] == 1000
        assert book.extensions["novelai"]["lorebookVersion"] == 5
    if source == "agnai":
        assert entry["content"] == "The Guild collects debts."
        assert (entry["order"], entry["priority"]) == (20, 5)
        assert entry["disable"] is True and book.description == "What the Guild knows"
        assert book.extensions["agnai"] == {"userId": "u1"}
    if source == "risu":
        assert entry["key"] == ["crown", "doge"] and entry["keysecondary"] == ["curse"]
        assert (entry["probability"], entry["order"], entry["selective"]) == (40, 50, True)
        assert entry["extensions"]["risu"] == {"mode": "normal"}
    if source == "kobold":
        assert entry["key"] == ["Ila", "thief"] and entry["keysecondary"] == []
        assert entry["extensions"]["kobold"] == {"keyanti": "", "folder": None, "wigroup": ""}
    # Written back as World Info, it reads as World Info, not as the foreign format again.
    assert again_as_world_info(book).source == "sillytavern"


def test_a_novelai_lorebook_in_a_png_is_read() -> None:
    payload = base64.b64encode(json.dumps(FOREIGN["novelai"]).encode())
    png = tiny_png(chunk(b"tEXt", b"naidata\0" + payload))
    assert read_lorebook(png).entries[0]["comment"] == "Veyra"


@pytest.mark.parametrize(
    ("found", "says"),
    [
        ({"entries": {"0": {"key": "sword", "content": "x"}}}, "entries['0'].key"),
        ({"entries": {"0": {"key": [], "order": "first"}}}, "entries['0'].order"),
        ({"entries": {"7": "text"}}, "entries['7'] is not an object"),
        ({"entries": {"0": {"key": [], "scanDepth": "deep"}}}, "entries['0'].scanDepth"),
        ({"entries": [{"keys": ["a"], "content": 3}]}, "entries[0].content"),
        ({"entries": [], "scan_depth": "x"}, "book.scan_depth"),
        ({"lorebookVersion": 5, "entries": [{"keys": 4}]}, "entries[0].keys"),
        ({"type": "risu", "data": {}}, "`data` must be a list"),
        ({"spec": "chara_card_v2", "data": {}}, "character card"),
        ({"hello": 1}, "Not a lorebook"),
        ([1], "worldinfo[0] is not an object"),
    ],
)
def test_bad_lorebooks_are_refused_naming_the_field(found: Any, says: str) -> None:
    with pytest.raises(LorebookError) as refused:
        lorebook_from_object(found)
    assert says in str(refused.value)


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"\xff\xfe not json", "not JSON"),
        (b"{", "not JSON"),
        (b"\x89PNG\r\n\x1a\nrest", "truncated"),
    ],
)
def test_unreadable_files_are_refused_saying_why(payload: bytes, says: str) -> None:
    with pytest.raises(LorebookError) as refused:
        read_lorebook(payload)
    assert says in str(refused.value)


def test_a_png_without_a_lorebook_and_an_image_bomb_are_refused() -> None:
    with pytest.raises(LorebookError, match="no lorebook"):
        read_lorebook(tiny_png())
    with pytest.raises(LorebookError, match="decompression bomb"):
        read_lorebook(tiny_png(size=(100_000, 100_000)))


def test_decorators_are_parsed_with_fallbacks_and_stripped() -> None:
    content = (
        "@@depth 3\n@@role narrator\n@@@role system\n@@additional_keys crown, doge\n"
        "@@additional_keys curse\n@@depth 9\n@@mystery x\n@@@activate\n\nThe crown is cursed."
    )
    parsed = lore_decorators.parse(content)

    assert parsed.text == "The crown is cursed."
    assert parsed.number("depth") == 3  # only the first counts
    assert parsed.decorators["role"] == [["system"]]  # `narrator` is invalid: its fallback
    assert parsed.words("additional_keys") == ["crown", "doge", "curse"]  # repeatable
    assert parsed.has("activate")  # the fallback of an unknown decorator
    assert lore_decorators.parse("No decorators @@depth 2").decorators == {}


def test_a_v2_backfill_of_a_v3_card_has_no_decorators() -> None:
    card = card_from_object(
        {
            "spec": "chara_card_v3",
            "spec_version": "3.0",
            "data": {
                "name": "Ila",
                "character_book": {
                    "entries": [{"keys": ["a"], "content": "@@activate\nAlways.", "use_regex": True,
                                 "extensions": {}, "enabled": True, "insertion_order": 1}],
                },
            },
        }
    )  # fmt: skip
    assert card_json(card, 2)["data"]["character_book"]["entries"][0]["content"] == "Always."
    assert card_json(card, 3)["data"]["character_book"]["entries"][0]["content"].startswith("@@")


words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
entries = st.fixed_dictionaries(
    {
        "key": st.lists(words, max_size=3),
        "keysecondary": st.lists(words, max_size=2),
        "content": st.text(max_size=40),
        "comment": words,
        "constant": st.booleans(),
        "selective": st.booleans(),
        "selectiveLogic": st.integers(0, 3),
        "order": st.integers(-1000, 1000),
        "position": st.integers(0, 7),
        "disable": st.booleans(),
        "probability": st.integers(0, 100),
        "scanDepth": st.none() | st.integers(0, 100),
        "caseSensitive": st.none() | st.booleans(),
        "sticky": st.none() | st.integers(0, 10),
        "group": words,
    },
    optional={"priority": st.integers(0, 10), "outletName": words},
)


@given(st.lists(entries, max_size=5), st.text(max_size=10))
@settings(max_examples=60, deadline=None)
def test_any_world_info_round_trips_through_both_shapes(
    found: list[dict[str, Any]], name: str
) -> None:
    book = lorebook_from_object(
        {"name": name, "entries": {str(i): {"uid": i, **e} for i, e in enumerate(found)}}
    )
    assert_round_trips(book)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def tiny_png(*extra: bytes, size: tuple[int, int] = (1, 1)) -> bytes:
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", *size, 8, 0, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    return PNG_SIGNATURE + header + b"".join(extra) + pixels + chunk(b"IEND", b"")
