"""/lorebooks through the real app and database: SillyTavern's Eldoria uploaded, stored in each
tier, edited, exported back equal; bad files refused naming the problem, with nothing stored."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from luna_narrates.db.tables import Lorebook, LorebookEntry
from luna_narrates.services import Services, run_job_worker
from tests.conftest import make_settings
from tests.shared_fixtures import fixture, needs_fixtures

ELDORIA = "staging-2024-10-18/Eldoria.json"


async def upload(
    client: httpx.AsyncClient, data: bytes, filename: str = "book.json", **form: str
) -> httpx.Response:
    return await client.post("/lorebooks/upload", files={"file": (filename, data)}, data=form)


async def book_count(services: Services) -> int:
    async with services.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Lorebook)) or 0)


@needs_fixtures
@pytest.mark.parametrize("tier", ["hot", "warm", "cold"])
async def test_eldoria_uploads_in_each_tier_and_exports_back_equal(
    client: httpx.AsyncClient, services: Services, tier: str
) -> None:
    original = json.loads(fixture(ELDORIA))
    response = await upload(
        client, fixture(ELDORIA), "Eldoria.json", storage_tier=tier, universe_name="Seraphina"
    )
    assert response.status_code == 201, response.text
    book = response.json()
    assert (book["name"], book["storage_tier"], book["entry_count"]) == ("Eldoria", tier, 4)
    assert book["universe_name"] == "Seraphina" and book["source_format"] == "sillytavern"
    assert [e["fields"]["key"] for e in book["entries"]] == [
        e["key"] for e in original["entries"].values()
    ]

    exported = await client.get(f"/lorebooks/{book['id']}/export?format=world_info")
    assert exported.status_code == 200
    assert 'filename="eldoria.json"' in exported.headers["content-disposition"]
    written = exported.json()["entries"]
    assert written.keys() == original["entries"].keys()
    for uid, entry in original["entries"].items():  # every field as it was; defaults added
        assert {k: written[uid][k] for k in entry} == entry
        assert written[uid]["selectiveLogic"] == 0

    async with services.db.transaction() as session:
        rows = (await session.scalars(select(LorebookEntry))).all()
    assert all((row.fields is None) == (tier == "cold") for row in rows)
    assert all((row.packed is not None) == (tier == "cold") for row in rows)

    again = await upload(client, exported.content, "again.json", storage_tier=tier)
    assert [e["fields"] for e in again.json()["entries"]] == [e["fields"] for e in book["entries"]]


@needs_fixtures
async def test_a_book_moves_between_tiers_keeping_its_entries(
    client: httpx.AsyncClient, services: Services
) -> None:
    book = (await upload(client, fixture(ELDORIA), storage_tier="hot")).json()
    before = (await client.get(f"/lorebooks/{book['id']}")).json()["entries"]
    for tier in ("cold", "warm", "hot"):
        moved = await client.patch(f"/lorebooks/{book['id']}", json={"storage_tier": tier})
        assert moved.status_code == 200 and moved.json()["storage_tier"] == tier
        assert (await client.get(f"/lorebooks/{book['id']}")).json()["entries"] == before


@needs_fixtures
async def test_listing_filters_by_tier_and_sorts_by_entry_count(
    client: httpx.AsyncClient,
) -> None:
    await upload(client, fixture(ELDORIA), storage_tier="cold", name="Big")
    small = {"name": "Small", "entries": [{"key": ["x"], "content": "One entry."}]}
    assert (await client.post("/lorebooks", json=small)).status_code == 201

    by_count = (await client.get("/lorebooks?sort_by=entry_count")).json()
    assert [b["name"] for b in by_count["items"]] == ["Big", "Small"] and by_count["total"] == 2
    cold = (await client.get("/lorebooks?tier=cold")).json()
    assert [b["name"] for b in cold["items"]] == ["Big"]
    assert (await client.get("/lorebooks?sort_by=size")).status_code == 422


async def test_entries_are_added_edited_typed_and_deleted(client: httpx.AsyncClient) -> None:
    book = (await client.post("/lorebooks", json={"name": "Veyra"})).json()
    base = f"/lorebooks/{book['id']}"
    added = await client.post(
        f"{base}/entries",
        json={"key": ["Canal Market"], "content": "Stalls on barges.", "kind": "location",
              "sticky": 2, "customField": {"kept": True}},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    entry = added.json()
    assert (entry["uid"], entry["kind"]) == ("0", "location")
    assert entry["fields"]["sticky"] == 2 and entry["fields"]["customField"] == {"kept": True}
    assert entry["fields"]["order"] == 100  # World Info's default

    locations = (await client.get(f"{base}/locations")).json()
    assert [e["id"] for e in locations["items"]] == [entry["id"]]
    assert (await client.get(f"{base}/characters")).json()["total"] == 0

    edited = await client.patch(f"{base}/entries/{entry['id']}", json={"content": "Moved."})
    assert edited.json()["fields"]["content"] == "Moved."
    assert edited.json()["fields"]["key"] == ["Canal Market"]
    second = await client.post(f"{base}/entries", json={"key": ["Doge"], "kind": "character"})
    assert second.json()["uid"] == "1"
    clash = await client.patch(f"{base}/entries/{entry['id']}", json={"uid": 1})
    assert clash.status_code == 422 and "uid 1" in clash.json()["message"]
    assert (await client.get(base)).json()["entry_count"] == 2

    assert (await client.delete(f"{base}/entries/{entry['id']}")).status_code == 204
    assert (await client.get(f"{base}/entries/{entry['id']}")).status_code == 404
    assert (await client.get(base)).json()["entry_count"] == 1
    assert (await client.delete(base)).status_code == 204
    assert (await client.get(base)).status_code == 404


async def test_exports_in_card_shapes(client: httpx.AsyncClient) -> None:
    book = (
        await client.post(
            "/lorebooks",
            json={"name": "Veyra", "scan_depth": 6, "entries": [{"key": ["doge"], "content": "x"}]},
        )
    ).json()
    book_json = (await client.get(f"/lorebooks/{book['id']}/export?format=character_book")).json()
    assert book_json["scan_depth"] == 6 and book_json["entries"][0]["keys"] == ["doge"]
    v3 = (await client.get(f"/lorebooks/{book['id']}/export?format=lorebook_v3")).json()
    assert v3["spec"] == "lorebook_v3" and v3["data"]["entries"][0]["use_regex"] is True
    again = await upload(client, json.dumps(v3).encode())
    assert again.json()["entries"][0]["fields"]["key"] == ["doge"]


async def test_the_embedding_job_embeds_warm_entries(
    client: httpx.AsyncClient, services: Services
) -> None:
    warm = {"name": "W", "entries": [{"key": ["a"], "content": "A lighthouse on a cliff."}]}
    cold = {**warm, "name": "C", "storage_tier": "cold"}
    await client.post("/lorebooks", json=warm)
    await client.post("/lorebooks", json=cold)
    await run_job_worker(services, wait=False)
    async with services.db.transaction() as session:
        rows = (await session.execute(
            select(Lorebook.name, LorebookEntry.embedding.is_not(None))
            .join(Lorebook).order_by(Lorebook.name)
        )).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [("C", False), ("W", True)]


def tiny_png(*extra: bytes, size: tuple[int, int] = (1, 1)) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", *size, 8, 0, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    ends = chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(chunk(*e) for e in extra) + pixels + ends  # type: ignore[arg-type]


BAD: list[tuple[Any, str]] = [
    (b"{not json", "not JSON"),
    (b"\x89PNG\r\n\x1a\n garbage", "truncated"),
    (json.dumps({"entries": {"0": {"key": "sword"}}}).encode(), "entries['0'].key"),
    (json.dumps({"entries": {"0": {"key": [], "order": "high"}}}).encode(), "order"),
    (json.dumps({"entries": {"0": {"key": ["a"], "content": "a\u0000b"}}}).encode(), "NUL"),
    (json.dumps({"entries": [{"id": 1, "keys": []}, {"id": 1, "keys": []}]}).encode(), "share uid"),
    (json.dumps({"spec": "chara_card_v2", "data": {"name": "x"}}).encode(), "character card"),
    (b"null", "neither an object nor a list"),
]


@pytest.mark.parametrize(("payload", "says"), BAD)
async def test_bad_files_are_refused_naming_the_problem_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, payload: bytes, says: str
) -> None:
    response = await upload(client, payload)
    assert response.status_code == 422, response.text
    assert says in response.json()["message"]
    assert await book_count(services) == 0


async def test_upload_limits_and_image_bombs(
    client: httpx.AsyncClient, services: Services, database_url: str, data_dir: Any
) -> None:
    bomb = tiny_png(size=(60_000, 60_000))
    response = await upload(client, bomb, "bomb.png")
    assert response.status_code == 422 and "decompression bomb" in response.json()["message"]
    naidata = base64.b64encode(json.dumps({"lorebookVersion": 5, "entries": []}).encode())
    ok = await upload(client, tiny_png((b"tEXt", b"naidata\0" + naidata)), "nai.png")
    assert ok.status_code == 201 and ok.json()["source_format"] == "novelai"
    assert (await upload(client, b"{}", storage_tier="frozen")).status_code == 422
    assert (await upload(client, b"")).status_code == 422

    small = make_settings(database_url, data_dir, luna_upload_max_mb=0.001)
    services.settings = small
    try:
        big = json.dumps({"entries": {"0": {"key": ["a"], "content": "x" * 5000}}}).encode()
        refused = await upload(client, big)
        assert refused.status_code == 413 and "larger than" in refused.json()["message"]
    finally:
        services.settings = make_settings(database_url, data_dir)
    assert await book_count(services) == 1
    async with services.db.transaction() as session:
        assert await session.scalar(text("SELECT count(*) FROM luna.lorebook_entries")) == 0
