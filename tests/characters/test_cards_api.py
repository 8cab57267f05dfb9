"""/character-cards through the real app and database, on SillyTavern's Seraphina cards and
made-up ones: imported, exported back equal, edited, put in stories; bad files refused naming
the problem, with nothing stored."""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
import zlib
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from luna_narrates.db.tables import CharacterCard, Lorebook
from luna_narrates.formats.character_card import CardError, read_card
from luna_narrates.formats.png_chunks import chunks
from luna_narrates.services import Services
from tests.conftest import STORY, make_settings
from tests.shared_fixtures import fixture, needs_fixtures

STAGING = "staging-2024-10-18/default_Seraphina.png"
RELEASE = "release-1.12.6/default_Seraphina.png"
ICON = "assets/icon/images/main.png"


async def import_file(
    client: httpx.AsyncClient, data: bytes, filename: str = "card.png", **form: str
) -> httpx.Response:
    return await client.post("/character-cards/import", files={"file": (filename, data)}, data=form)


async def counts(services: Services) -> tuple[int, int]:
    async with services.db.transaction() as session:
        cards = await session.scalar(select(func.count()).select_from(CharacterCard))
        books = await session.scalar(select(func.count()).select_from(Lorebook))
    return int(cards or 0), int(books or 0)


def pixels(png: bytes) -> list[bytes]:
    return [body for kind, body in chunks(png) if kind == b"IDAT"]


@needs_fixtures
async def test_a_v3_png_imports_with_its_book_and_portrait_and_exports_back(
    client: httpx.AsyncClient,
) -> None:
    original = read_card(fixture(STAGING))
    response = await import_file(client, fixture(STAGING), "default_Seraphina.png")
    assert response.status_code == 201, response.text
    card = response.json()
    assert (card["name"], card["spec"], card["origin"]) == ("Seraphina", "chara_card_v3", "png")
    assert card["portrait"] == "image" and card["warnings"] == []
    assert card["extensions"]["depth_prompt"] == {"prompt": "", "depth": 4, "role": "system"}

    book = (await client.get(f"/lorebooks/{card['lorebook_id']}")).json()
    assert book["name"] == "Eldoria" and book["entry_count"] == 4

    v3 = (await client.get(f"/character-cards/{card['id']}/export?format=v3")).json()
    assert v3["data"].pop("modification_date") > 0
    expected = json.loads(json.dumps(original.raw))
    expected["data"]["character_book"]["extensions"] = {}
    assert v3 == expected  # every field and extension, the book as SillyTavern wrote it

    png = await client.get(f"/character-cards/{card['id']}/export?format=png")
    assert png.headers["content-type"] == "image/png"
    assert pixels(png.content) == pixels(fixture(STAGING))  # the portrait, not re-encoded
    again = read_card(png.content)
    assert again.version == 3 and again.data["character_book"]["entries"][0]["keys"][0] == "eldoria"

    portrait = await client.get(f"/character-cards/{card['id']}/portrait")
    assert "x-luna-placeholder" not in portrait.headers
    with pytest.raises(CardError):  # the stored portrait is the image alone
        read_card(portrait.content)


@needs_fixtures
async def test_a_v2_png_exports_as_v2_and_as_tavernai(client: httpx.AsyncClient) -> None:
    original = read_card(fixture(RELEASE))
    card = (await import_file(client, fixture(RELEASE))).json()
    assert card["spec"] == "chara_card_v2" and card["extensions"]["talkativeness"] == "0.5"

    v2 = (await client.get(f"/character-cards/{card['id']}/export?format=v2")).json()
    assert {k: v for k, v in v2.items() if k != "data"} == {
        k: v for k, v in original.raw.items() if k != "data"
    }  # SillyTavern's legacy top-level keys kept
    assert {k: v for k, v in v2["data"].items() if k != "character_book"} == {
        k: v for k, v in original.data.items() if k != "character_book"
    }
    entries = v2["data"]["character_book"]["entries"]
    assert [e["keys"] for e in entries] == [
        e["keys"] for e in original.data["character_book"]["entries"]
    ]
    v1 = (await client.get(f"/character-cards/{card['id']}/export?format=tavernai")).json()
    assert v1["name"] == "Seraphina" and "spec" not in v1 and v1["first_mes"]


async def test_cards_are_written_edited_listed_and_deleted(client: httpx.AsyncClient) -> None:
    made = await client.post(
        "/character-cards/manual",
        json={
            "name": "Ila Varo",
            "description": "A quick-witted thief of Veyra.",
            "personality": "bold, loyal",
            "tags": ["Thief", "fantasy"],
            "skills": [
                {"name": "Lockpicking", "value": 8, "max_value": 10},
                {"name": "STR", "category": "attribute", "value": 12},
            ],
        },
    )
    assert made.status_code == 201, made.text
    ila = made.json()
    assert ila["spec"] == "chara_card_v3" and ila["portrait"] == "placeholder"
    assert [s["name"] for s in ila["skills"]] == ["STR", "Lockpicking"]
    await client.post("/character-cards/manual", json={"name": "Doge Orsini", "tags": ["noble"]})

    edited = await client.patch(
        f"/character-cards/{ila['id']}",
        json={"scenario": "The night of the heist.", "extensions": {"tool/x": 1}},
    )
    assert edited.json()["scenario"] == "The night of the heist."
    assert edited.json()["personality"] == "bold, loyal"  # untouched
    assert (
        await client.patch(f"/character-cards/{ila['id']}", json={"name": None})
    ).status_code == 422

    names = lambda page: [c["name"] for c in page.json()["items"]]  # noqa: E731
    assert names(await client.get("/character-cards?sort_by=name")) == ["Doge Orsini", "Ila Varo"]
    assert names(await client.get("/character-cards?filter=THIEF")) == ["Ila Varo"]
    assert names(await client.get("/character-cards?tag=thief")) == ["Ila Varo"]
    assert names(await client.get("/character-cards?filter=100%25")) == []

    exported = (await client.get(f"/character-cards/{ila['id']}/export?format=v3")).json()
    assert exported["data"]["extensions"] == {"tool/x": 1}
    placeholder = await client.get(f"/character-cards/{ila['id']}/export?format=png")
    assert read_card(placeholder.content).name == "Ila Varo"
    assert Image.open(io.BytesIO(placeholder.content)).size == (400, 600)
    portrait = await client.get(f"/character-cards/{ila['id']}/portrait")
    assert portrait.headers["x-luna-placeholder"] == "true"

    assert (await client.delete(f"/character-cards/{ila['id']}")).status_code == 204
    assert (await client.get(f"/character-cards/{ila['id']}")).status_code == 404


async def test_an_import_kept_out_of_the_library_is_listed_only_on_request(
    client: httpx.AsyncClient,
) -> None:
    card = {"name": "Extra", "description": "d", "personality": "", "scenario": "",
            "first_mes": "Hi", "mes_example": "", "avatar": "none", "create_date": "1"}  # fmt: skip
    response = await client.post("/character-cards/import?save_to_library=false", json=card)
    assert response.status_code == 201 and response.json()["in_library"] is False
    assert response.json()["spec"] == "tavernai"
    assert (await client.get("/character-cards")).json()["total"] == 0
    assert (await client.get("/character-cards?library=false")).json()["total"] == 1
    v1 = await client.get(f"/character-cards/{response.json()['id']}/export?format=tavernai")
    assert v1.json() == card  # TavernAI's own keys kept


async def test_a_charx_card_brings_its_icon(client: httpx.AsyncClient) -> None:
    icon = io.BytesIO()
    Image.new("RGB", (8, 12), "red").save(icon, "PNG")
    asset = {"type": "icon", "name": "main", "ext": "png", "uri": f"embeded://{ICON}"}
    card = {
        "spec": "chara_card_v3",
        "spec_version": "3.0",
        "data": {"name": "Risu", "assets": [asset]},
    }
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as charx:
        charx.writestr("card.json", json.dumps(card))
        charx.writestr(ICON, icon.getvalue())
    response = await import_file(client, archive.getvalue(), "risu.charx")
    assert response.status_code == 201, response.text
    found = response.json()
    assert found["origin"] == "charx" and found["portrait"] == "image"
    assert any("other assets" in w for w in found["warnings"])
    portrait = await client.get(f"/character-cards/{found['id']}/portrait")
    assert portrait.content == icon.getvalue()


async def test_characters_join_a_story_as_protagonist_or_npc(client: httpx.AsyncClient) -> None:
    story = (await client.post("/stories", json=STORY)).json()
    ila = (await client.post("/character-cards/manual", json={"name": "Ila"})).json()
    doge = (await client.post("/character-cards/manual", json={"name": "Doge"})).json()
    cast = f"/stories/{story['id']}/characters"

    added = await client.post(cast, json={"character_id": ila["id"], "role": "protagonist"})
    assert added.status_code == 201 and added.json()["role"] == "protagonist"
    second = await client.post(cast, json={"character_id": doge["id"], "role": "protagonist"})
    assert second.status_code == 409 and "protagonist" in second.json()["message"]
    assert (await client.post(cast, json={"character_id": doge["id"]})).status_code == 201
    assert (await client.post(cast, json={"character_id": doge["id"]})).status_code == 409
    listed = (await client.get(cast)).json()
    assert [(m["character"]["name"], m["role"]) for m in listed] == [
        ("Ila", "protagonist"), ("Doge", "npc"),
    ]  # fmt: skip
    assert (await client.delete(f"{cast}/{doge['id']}")).status_code == 204
    assert (await client.delete(f"{cast}/{doge['id']}")).status_code == 404
    unknown = "00000000-0000-0000-0000-000000000000"
    assert (await client.get(f"/stories/{unknown}/characters")).status_code == 404
    assert (await client.post(cast, json={"character_id": unknown})).status_code == 404

    book = (await client.post("/lorebooks", json={"name": "Veyra"})).json()
    books = f"/stories/{story['id']}/lorebooks"
    assert (await client.post(books, json={"lorebook_id": book["id"]})).status_code == 201
    assert (await client.post(books, json={"lorebook_id": book["id"]})).status_code == 201
    assert [b["name"] for b in (await client.get(books)).json()] == ["Veyra"]
    assert (await client.delete(f"{books}/{book['id']}")).status_code == 204
    assert (await client.get(books)).json() == []


def png_with(*extra: tuple[bytes, bytes], size: tuple[int, int] = (1, 1)) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", *size, 8, 0, 0, 0, 0))
    body = b"".join(chunk(kind, data) for kind, data in extra)
    pixels_ = chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    return b"\x89PNG\r\n\x1a\n" + header + body + pixels_ + chunk(b"IEND", b"")


def b64(value: Any) -> bytes:
    return base64.b64encode(json.dumps(value).encode())


BAD_BOOK = {"name": "B", "character_book": {"entries": [{"keys": "sword", "content": "x"}]}}
BAD: list[tuple[bytes, str]] = [
    (b"GIF89a not a card", "neither PNG, CHARX nor JSON"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "truncated"),
    (png_with(), "no character card"),
    (png_with((b"tEXt", b"chara\0!!!not base64!!!")), "not base64 JSON"),
    (png_with((b"tEXt", b"chara\0" + base64.b64encode(b"{oops"))), "not base64 JSON"),
    (png_with((b"tEXt", b"chara\0" + b64({"name": "Big"})), size=(50_000, 50_000)), "bomb"),
    (png_with((b"zTXt", b"chara\0\0" + zlib.compress(b"A" * 40_000_000))), "inflate past"),
    (json.dumps({"spec": "chara_card_v2", "data": "x"}).encode(), "needs a `data` object"),
    (json.dumps({"spec": "chara_card_v2", "data": {"name": ""}}).encode(), "no name"),
    (json.dumps({"name": "Nul", "description": "a\u0000b"}).encode(), "NUL"),
    (json.dumps({"spec": "chara_card_v2", "data": BAD_BOOK}).encode(), "entries[0].key"),
    (b"PK\x03\x04 broken zip", "Not a CHARX card"),
]


@pytest.mark.parametrize(("payload", "says"), BAD)
async def test_bad_cards_are_refused_naming_the_problem_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, payload: bytes, says: str
) -> None:
    response = await import_file(client, payload)
    assert response.status_code == 422, response.text
    assert says in response.json()["message"]
    assert await counts(services) == (0, 0)


async def test_oversized_cards_get_413(
    client: httpx.AsyncClient, services: Services, database_url: str, data_dir: Any
) -> None:
    services.settings = make_settings(database_url, data_dir, luna_upload_max_mb=0.01)
    try:
        big = json.dumps({"name": "Big", "description": "x" * 20_000}).encode()
        response = await import_file(client, big, "big.json")
        raw = await client.post("/character-cards/import", content=big)
    finally:
        services.settings = make_settings(database_url, data_dir)
    assert response.status_code == 413 and "larger than" in response.json()["message"]
    assert raw.status_code == 413
    assert await counts(services) == (0, 0)


@needs_fixtures
async def test_raw_bodies_are_read_by_content_whatever_their_type(
    client: httpx.AsyncClient,
) -> None:
    card = await client.post(
        "/character-cards/import",
        content=fixture(RELEASE),
        headers={"content-type": "image/png"},
    )
    assert card.status_code == 201, card.text
    jpeg = io.BytesIO()
    Image.new("RGB", (4, 6), "blue").save(jpeg, "JPEG")
    put = await client.put(
        f"/character-cards/{card.json()['id']}/portrait",
        content=jpeg.getvalue(),
        headers={"content-type": "image/jpeg"},
    )
    assert put.status_code == 204, put.text
    portrait = await client.get(f"/character-cards/{card.json()['id']}/portrait")
    assert portrait.headers["content-type"] == "image/jpeg"
    png = await client.get(f"/character-cards/{card.json()['id']}/export?format=png")
    assert Image.open(io.BytesIO(png.content)).size == (4, 6)  # re-encoded for the card
    assert read_card(png.content).name == "Seraphina"
    gif = io.BytesIO()
    Image.new("RGB", (2, 2)).save(gif, "GIF")
    refused = await client.put(
        f"/character-cards/{card.json()['id']}/portrait", content=gif.getvalue()
    )
    assert refused.status_code == 422 and "GIF" in refused.json()["message"]


async def test_a_chunked_multipart_upload_is_stopped_at_the_limit(
    client: httpx.AsyncClient, services: Services, database_url: str, data_dir: Any
) -> None:
    boundary = "luna-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.json"\r\n'
        "Content-Type: application/json\r\n\r\n"
    ).encode()

    sent = []

    async def body() -> Any:  # no Content-Length: sent chunked
        yield head
        for _ in range(400):
            sent.append(1024)
            yield b" " * 1024
        yield f"\r\n--{boundary}--\r\n".encode()

    services.settings = make_settings(database_url, data_dir, luna_upload_max_mb=0.05)
    try:
        response = await client.post(
            "/character-cards/import",
            content=body(),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
    finally:
        services.settings = make_settings(database_url, data_dir)
    assert response.status_code == 413, response.text
    assert "content-length" not in response.request.headers
    assert sum(sent) < 200 * 1024  # stopped near the limit, not read (and spooled) whole
