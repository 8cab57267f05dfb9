"""/assets through the real app, database and embedder: asset card PNGs imported and exported
byte for byte, taken from a story's drawn images, found by type, tags, popularity and meaning,
voted on, reported, edited and deleted; files that are not asset cards refused, naming why,
with nothing stored; another player's assets seen only once public, and never changed."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from luna_narrates.assets import service
from luna_narrates.assets.schemas import AssetEdit
from luna_narrates.db.tables import (
    LOCAL_OWNER_ID,
    AssetImport,
    AssetVote,
    CommunityAsset,
    GeneratedImage,
)
from luna_narrates.formats.asset_card import (
    NO_CARD,
    AssetCard,
    AssetGeneration,
    ContentType,
    embed,
    extract,
)
from luna_narrates.images import storage
from luna_narrates.services import Services
from tests.conftest import make_settings
from tests.shared_fixtures import fixture, needs_fixtures

OTHER_PLAYER = uuid.UUID(int=7)


def card(name: str, description: str = "", content_type: ContentType = "item") -> AssetCard:
    return AssetCard(
        content_type=content_type,
        name=name,
        description=description,
        attributes={"rarity": "rare", "level": 3},
        generation=AssetGeneration(
            prompt=f"{name}, {description}", model="dreamshaper-8", steps=20, cfg=7.0, seed=42
        ),
        created_by="LUNA-Narrates",
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def png(size: tuple[int, int] = (24, 16), colour: tuple[int, int, int] = (90, 30, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def card_png(name: str, description: str = "", content_type: ContentType = "item") -> bytes:
    return embed(png(), card(name, description, content_type))


async def upload(
    client: httpx.AsyncClient, data: bytes, filename: str = "asset.png", **form: str
) -> httpx.Response:
    return await client.post("/assets/import", files={"file": (filename, data)}, data=form)


async def imported(
    client: httpx.AsyncClient,
    name: str,
    description: str = "",
    content_type: ContentType = "item",
    tags: str = "",
) -> dict[str, Any]:
    response = await upload(client, card_png(name, description, content_type), tags=tags)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/assets", params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def names(client: httpx.AsyncClient, **params: Any) -> list[str]:
    return [item["name"] for item in (await search(client, **params))["items"]]


def files_in(data_dir: Path) -> set[str]:
    return {path.name for path in (data_dir / "assets").glob("*")}


async def test_an_imported_card_exports_byte_for_byte(
    client: httpx.AsyncClient, services: Services, data_dir: Path
) -> None:
    data = card_png("Red dragon", "a wyrm of the northern peaks", "character")
    response = await upload(client, data, "../../etc/my dragon.png", tags=" Dragon , fire,dragon")

    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["already_in_library"] is False
    assert (asset["name"], asset["description"], asset["content_type"]) == (
        "Red dragon",
        "a wyrm of the northern peaks",
        "character",
    )
    assert asset["tags"] == ["dragon", "fire"]
    assert asset["attributes"] == {"rarity": "rare", "level": 3}
    assert asset["generation"]["model"] == "dreamshaper-8" and asset["generation"]["seed"] == 42
    assert (asset["license"], asset["created_by"]) == ("CC-BY-SA-4.0", "LUNA-Narrates")
    assert (asset["width"], asset["height"], asset["size_bytes"]) == (24, 16, len(data))
    assert asset["is_public"] is False and asset["mine"] is True
    assert (asset["downloads"], asset["vote_score"], asset["my_vote"]) == (0, 0, 0)
    assert asset["url"] == f"/assets/{asset['id']}/export"
    assert f"{asset['id']}.png" in files_in(data_dir), "stored under a name made from its id"

    exported = await client.get(asset["url"])
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "image/png"
    assert exported.headers["content-disposition"] == 'attachment; filename="red-dragon.png"'
    assert exported.content == data
    assert extract(exported.content) == card(
        "Red dragon", "a wyrm of the northern peaks", "character"
    )
    again = (await client.get(f"/assets/{asset['id']}")).json()
    assert again["downloads"] == 1
    async with services.db.sessions() as session:
        [row] = (await session.scalars(select(AssetImport))).all()
        stored = await session.get(CommunityAsset, uuid.UUID(asset["id"]))
    assert (row.source, row.filename) == ("upload", "../../etc/my dragon.png")
    assert stored is not None and stored.card["generation"]["prompt"] == (
        "Red dragon, a wyrm of the northern peaks"
    )


async def test_the_same_file_imported_again_is_the_asset_already_there(
    client: httpx.AsyncClient, services: Services
) -> None:
    data = card_png("Silver key", "opens the vault")
    first = await upload(client, data)
    raw = await client.post("/assets/import", content=data, headers={"content-type": "image/png"})

    assert first.status_code == 201 and raw.status_code == 200, raw.text
    assert raw.json()["id"] == first.json()["id"] and raw.json()["already_in_library"] is True
    assert (await search(client))["total"] == 1
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AssetImport)) == 1


@needs_fixtures
@pytest.mark.parametrize(
    ("data", "says"),
    [
        (lambda: fixture("release-1.12.6/default_Seraphina.png"), NO_CARD),
        (lambda: jpeg(), "The file is not a PNG"),
        (lambda: b"name: Red dragon\n", "The file is not a PNG"),
        (lambda: png()[:40], "The PNG is truncated"),
        (lambda: b"", "The asset card is empty."),
    ],
    ids=["png-without-card", "jpeg", "text", "truncated-png", "empty"],
)
async def test_a_file_that_is_not_an_asset_card_is_refused_naming_why(
    client: httpx.AsyncClient, services: Services, data_dir: Path, data: Any, says: str
) -> None:
    before = files_in(data_dir)
    response = await upload(client, data())

    assert response.status_code == 422, response.text
    assert says in response.json()["message"]
    assert (await search(client))["total"] == 0
    assert files_in(data_dir) == before


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "JPEG")
    return out.getvalue()


async def test_an_asset_card_over_the_upload_limit_gets_413(
    client: httpx.AsyncClient, services: Services, database_url: str, data_dir: Path
) -> None:
    services.settings = make_settings(database_url, data_dir, luna_upload_max_mb=0.001)
    try:
        response = await upload(client, embed(png((64, 64)), card("Big", "x" * 2000)))
    finally:
        services.settings = make_settings(database_url, data_dir)

    assert response.status_code == 413 and "larger than" in response.json()["message"]
    assert (await search(client))["total"] == 0


async def drawn_image(
    services: Services, story: dict[str, Any], data: bytes | None, status: str = "complete"
) -> uuid.UUID:
    """A story image as the image service leaves it: a row and, once drawn, its file."""
    image_id, story_id = uuid.uuid4(), uuid.UUID(str(story["id"]))
    stored = None
    if data is not None:
        stored = storage.write(
            services.settings.luna_data_dir, story_id, "portrait", image_id, data
        )
    async with services.db.transaction() as session:
        session.add(
            GeneratedImage(
                id=image_id,
                story_id=story_id,
                image_type="portrait",
                subject="Ila",
                prompt="portrait of Ila",
                settings={},
                cache_key="0" * 64,
                status=status,
                path=None if stored is None else stored.path,
            )
        )
    return image_id


async def test_a_drawn_image_goes_into_the_library_with_its_card(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    data = card_png("Ila", "a quick-witted thief", "character")
    image_id = await drawn_image(services, story, data)

    response = await client.post(f"/assets/from-image/{image_id}")
    again = await client.post(f"/assets/from-image/{image_id}")

    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["source_image_id"] == str(image_id) and asset["name"] == "Ila"
    assert (await client.get(asset["url"])).content == data
    assert again.status_code == 200 and again.json()["id"] == asset["id"]
    async with services.db.sessions() as session:
        [row] = (await session.scalars(select(AssetImport))).all()
    assert (row.source, row.filename) == ("generated", None)


async def test_only_a_drawn_image_can_go_into_the_library(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    pending = await drawn_image(services, story, None, status="pending")

    unknown = await client.post(f"/assets/from-image/{uuid.uuid4()}")
    waiting = await client.post(f"/assets/from-image/{pending}")

    assert unknown.status_code == 404 and "No image" in unknown.json()["message"]
    assert waiting.status_code == 409 and "pending" in waiting.json()["message"]


async def test_assets_are_found_by_type_and_by_all_their_tags(client: httpx.AsyncClient) -> None:
    await imported(client, "Red dragon", content_type="character", tags="dragon,fire")
    await imported(client, "Fire sword", content_type="item", tags="fire,weapon")
    await imported(client, "Ice sword", content_type="item", tags="ice,Weapon")

    assert await names(client, content_type="item") == ["Ice sword", "Fire sword"]
    assert await names(client, tags="FIRE") == ["Fire sword", "Red dragon"]
    assert await names(client, tags="weapon, fire") == ["Fire sword"]
    assert await names(client, tags="weapon", content_type="character") == []
    assert (await search(client, content_type="item", limit=1))["total"] == 2
    assert await names(client, sort_by="oldest", limit=1, offset=1) == ["Fire sword"]
    unknown = await client.get("/assets", params={"content_type": "spaceship"})
    assert unknown.status_code == 422 and "content_type" in unknown.json()["message"]


async def test_assets_are_found_by_meaning(client: httpx.AsyncClient) -> None:
    await imported(client, "Red dragon", "a wyrm of the northern peaks", "character")
    await imported(client, "Tavern sign", "a wooden sign above an inn door", "item")
    await imported(client, "Silver key", "a small key that opens the vault", "item")
    await imported(client, "Harbour at dawn", "fishing boats in the morning mist", "location")
    await imported(client, "Old librarian", "a scholar with ink-stained fingers", "character")

    found = await search(client, q="large fire-breathing reptile")
    assert found["items"][0]["name"] == "Red dragon"
    assert found["items"][0]["similarity"] > 0.3
    similarities = [item["similarity"] for item in found["items"]]
    assert similarities == sorted(similarities, reverse=True)
    assert (await names(client, q="someone who reads books"))[0] == "Old librarian"
    assert await names(client, q="spreadsheet formulas for tax returns") == []
    assert len(await names(client, q="   ")) == 5, "a blank q is no query"
    assert (await names(client, q="Tavern"))[0] == "Tavern sign"
    assert await names(client, q="ILVER K") == ["Silver key"], "in the name, whatever it means"
    by_type = await names(client, q="boats on the sea", content_type="location")
    assert by_type == ["Harbour at dawn"]
    refused = await client.get("/assets", params={"sort_by": "relevance"})
    assert refused.status_code == 422 and "give q" in refused.json()["message"]


async def test_votes_and_downloads_order_the_popular_ones(client: httpx.AsyncClient) -> None:
    loved = await imported(client, "Loved")
    liked = await imported(client, "Liked")
    hated = await imported(client, "Hated")
    await client.post(f"/assets/{loved['id']}/vote", json={"value": 1})
    await client.post(f"/assets/{hated['id']}/vote", json={"value": -1})
    for _ in range(2):
        await client.get(liked["url"])

    assert await names(client, sort_by="popular") == ["Loved", "Liked", "Hated"]
    assert await names(client, sort_by="downloads") == ["Liked", "Loved", "Hated"]
    assert await names(client) == ["Hated", "Liked", "Loved"], "newest first by default"
    assert await names(client, sort_by="oldest") == ["Loved", "Liked", "Hated"]


async def test_each_player_votes_once_and_may_withdraw(
    client: httpx.AsyncClient, services: Services
) -> None:
    asset = await imported(client, "Silver key")
    vote = f"/assets/{asset['id']}/vote"

    scores = []
    for value in (1, 1, -1, 0, 0, -1):
        response = await client.post(vote, json={"value": value})
        assert response.status_code == 200, response.text
        scores.append((response.json()["vote_score"], response.json()["my_vote"]))

    assert scores == [(1, 1), (1, 1), (-1, -1), (0, 0), (0, 0), (-1, -1)]
    assert (await client.get(f"/assets/{asset['id']}")).json()["vote_score"] == -1
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AssetVote)) == 1
    bad = await client.post(vote, json={"value": 2})
    assert bad.status_code == 422 and "value" in bad.json()["message"]


async def test_a_player_reports_an_asset_once(client: httpx.AsyncClient) -> None:
    asset = await imported(client, "Silver key")
    report = f"/assets/{asset['id']}/report"

    first = await client.post(report, json={"reason": "  Copied from someone else's art. "})
    second = await client.post(report, json={"reason": "Still copied."})
    blank = await client.post(report, json={"reason": "   "})

    assert first.status_code == 201, first.text
    assert first.json()["reason"] == "Copied from someone else's art."
    assert first.json()["report_count"] == 1
    assert second.status_code == 409 and "already" in second.json()["message"]
    assert blank.status_code == 422 and "reason" in blank.json()["message"]
    assert (await client.get(f"/assets/{asset['id']}")).json()["report_count"] == 1


async def test_an_edit_is_checked_and_the_asset_is_found_by_its_new_meaning(
    client: httpx.AsyncClient, data_dir: Path
) -> None:
    asset = await imported(client, "Red dragon", "a wyrm of the northern peaks")
    await imported(client, "Old librarian", "a scholar with ink-stained fingers")
    url = f"/assets/{asset['id']}"

    edited = await client.patch(
        url,
        json={
            "name": "Harbour lighthouse",
            "description": "a tower of light guiding ships home",
            "tags": [" Coast ", "coast", "LIGHT", ""],
            "is_public": True,
        },
    )

    assert edited.status_code == 200, edited.text
    assert edited.json()["tags"] == ["coast", "light"] and edited.json()["is_public"] is True
    assert edited.json()["updated_at"] > asset["updated_at"]
    assert (await names(client, q="a beacon by the sea"))[0] == "Harbour lighthouse"
    exported = await client.get(asset["url"])
    assert extract(exported.content).name == "Red dragon", "the file keeps the card it came with"
    for body, says in [
        ({"tags": [f"t{n}" for n in range(21)]}, "at most 20 tags"),
        ({"tags": ["x" * 41]}, "longer than 40 characters"),
        ({"tags": ["a,b"]}, "holds a comma"),
        ({"name": "  "}, "name"),
        ({"name": None}, "name cannot be null"),
        ({"downloads": 1000}, "downloads"),
        ({"is_public": "perhaps"}, "is_public"),
    ]:
        response = await client.patch(url, json=body)
        assert response.status_code == 422, body
        assert says in response.json()["message"], response.json()["message"]
    assert (await client.get(url)).json()["name"] == "Harbour lighthouse"


async def test_deleting_an_asset_removes_its_file(
    client: httpx.AsyncClient, data_dir: Path
) -> None:
    asset = await imported(client, "Silver key")
    kept = await imported(client, "Iron key")
    assert f"{asset['id']}.png" in files_in(data_dir)

    response = await client.delete(f"/assets/{asset['id']}")

    assert response.status_code == 204
    assert f"{asset['id']}.png" not in files_in(data_dir)
    assert f"{kept['id']}.png" in files_in(data_dir)
    assert (await client.get(f"/assets/{asset['id']}")).status_code == 404
    gone = await client.get(asset["url"])
    assert gone.status_code == 404 and asset["id"] in gone.json()["message"]
    assert (await client.delete(f"/assets/{asset['id']}")).status_code == 404
    assert await names(client) == ["Iron key"]


async def test_another_players_asset_is_seen_once_public_and_never_changed(
    client: httpx.AsyncClient, services: Services
) -> None:
    mine = await imported(client, "My key")
    theirs = await service.import_png(
        services.db,
        services.embedder,
        services.settings.luna_data_dir,
        OTHER_PLAYER,
        card_png("Their key"),
    )
    url = f"/assets/{theirs.id}"

    assert (await client.get(url)).status_code == 404
    assert await names(client) == ["My key"]
    async with services.db.transaction() as session:
        await service.update(
            session, services.embedder, OTHER_PLAYER, theirs.id, AssetEdit(is_public=True)
        )

    shown = (await client.get(url)).json()
    assert (shown["name"], shown["mine"], shown["owner_id"]) == (
        "Their key",
        False,
        str(OTHER_PLAYER),
    )
    assert await names(client) == ["Their key", "My key"]
    assert await names(client, mine=True) == ["My key"]
    changed = await client.patch(url, json={"name": "Stolen key"})
    deleted = await client.delete(url)
    assert changed.status_code == 403 and "not yours" in changed.json()["message"]
    assert deleted.status_code == 403
    assert (await client.post(f"{url}/vote", json={"value": 1})).json()["vote_score"] == 1
    async with services.db.sessions() as session:
        theirs_now = await service.get(session, OTHER_PLAYER, theirs.id)
        seen = await service.search(session, services.embedder, OTHER_PLAYER)
    assert theirs_now.name == "Their key" and theirs_now.my_vote == 0
    assert [item.name for item in seen.items] == ["Their key"], f"{mine['id']} is private"


async def test_an_import_that_cannot_be_committed_leaves_no_file(
    services: Services, data_dir: Path
) -> None:
    before = files_in(data_dir)

    with pytest.raises(IntegrityError, match="source_image_id"):
        await service.import_png(
            services.db,
            services.embedder,
            data_dir,
            LOCAL_OWNER_ID,
            card_png("Orphan"),
            source_image_id=uuid.uuid4(),  # no such image: the commit fails
        )

    assert files_in(data_dir) == before
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CommunityAsset)) == 0


async def test_the_library_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert {
        "/assets",
        "/assets/import",
        "/assets/from-image/{image_id}",
        "/assets/{asset_id}",
        "/assets/{asset_id}/export",
        "/assets/{asset_id}/vote",
        "/assets/{asset_id}/report",
        "/assets/collections",
        "/assets/collections/{collection_id}",
        "/assets/collections/{collection_id}/assets/{asset_id}",
        "/assets/collections/{collection_id}/download",
    } <= set(paths)
    body = paths["/assets/import"]["post"]["requestBody"]["content"]
    assert "tags" in body["multipart/form-data"]["schema"]["properties"]
