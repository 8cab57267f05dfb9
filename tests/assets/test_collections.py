"""/assets/collections through the real app: themed packs made, edited, filled in order,
emptied and deleted (their assets stay), and downloaded as a zip of the PNGs as imported with a
`collection.json` manifest, each download counted on every asset in it."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import httpx

from luna_narrates.assets import collections, service
from luna_narrates.assets.schemas import AssetEdit, CollectionCreate
from luna_narrates.services import Services
from tests.assets.test_library import OTHER_PLAYER, card_png, imported, names


async def collection(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/assets/collections", json={"name": "Dragons", **body})
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def fill(client: httpx.AsyncClient, pack: dict[str, Any], *assets: dict[str, Any]) -> Any:
    for asset in assets:
        response = await client.put(f"/assets/collections/{pack['id']}/assets/{asset['id']}")
        assert response.status_code == 200, response.text
    return response.json()


async def test_a_collection_is_made_filled_in_order_edited_and_deleted(
    client: httpx.AsyncClient,
) -> None:
    red = await imported(client, "Red dragon", "a wyrm of the northern peaks")
    green = await imported(client, "Green dragon", "a wyrm of the marshes")
    pack = await collection(client, description="Wyrms of the north")
    url = f"/assets/collections/{pack['id']}"
    assert (pack["name"], pack["description"], pack["is_public"]) == (
        "Dragons",
        "Wyrms of the north",
        False,
    )
    assert pack["assets"] == [] and pack["download_url"] == f"{url}/download"

    filled = await fill(client, pack, green, red, green)

    assert [a["name"] for a in filled["assets"]] == ["Green dragon", "Red dragon"]
    assert filled["asset_count"] == 2
    listed = (await client.get("/assets/collections")).json()
    assert [(c["name"], c["asset_count"]) for c in listed] == [("Dragons", 2)]
    edited = await client.patch(url, json={"name": "Great wyrms", "is_public": True})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["name"], edited.json()["is_public"]) == ("Great wyrms", True)
    assert edited.json()["description"] == "Wyrms of the north"

    taken_out = await client.delete(f"{url}/assets/{green['id']}")
    again = await client.delete(f"{url}/assets/{green['id']}")

    assert taken_out.status_code == 204
    assert again.status_code == 404 and "is not in collection" in again.json()["message"]
    assert [a["name"] for a in (await client.get(url)).json()["assets"]] == ["Red dragon"]
    assert (await client.delete(url)).status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (await client.get("/assets/collections")).json() == []
    assert await names(client) == ["Green dragon", "Red dragon"], "the assets stay"


async def test_a_deleted_asset_leaves_its_collections(client: httpx.AsyncClient) -> None:
    red = await imported(client, "Red dragon")
    pack = await collection(client)
    await fill(client, pack, red)

    await client.delete(f"/assets/{red['id']}")

    found = (await client.get(f"/assets/collections/{pack['id']}")).json()
    assert (found["assets"], found["asset_count"]) == ([], 0)


async def test_a_collection_downloads_as_a_zip_with_its_manifest(
    client: httpx.AsyncClient,
) -> None:
    red_png = card_png("Red dragon", "a wyrm of the northern peaks", "character")
    red = (
        await client.post(
            "/assets/import", files={"file": ("red.png", red_png)}, data={"tags": "fire"}
        )
    ).json()
    cave = await imported(client, "Dragon's cave", "bones and gold", "location")
    pack = await collection(client, name="Dragon / lair: pack", description="All of it")
    await fill(client, pack, red, cave)

    response = await client.get(pack["download_url"])

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="dragon-lair-pack.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["01-red-dragon.png", "02-dragon-s-cave.png", "collection.json"]
    assert archive.read("01-red-dragon.png") == red_png
    manifest = json.loads(archive.read("collection.json"))
    assert manifest["format"] == "luna-asset-collection" and manifest["format_version"] == "1.0"
    assert (manifest["name"], manifest["description"]) == ("Dragon / lair: pack", "All of it")
    [first, second] = manifest["assets"]
    assert first == {
        "file": "01-red-dragon.png",
        "id": red["id"],
        "name": "Red dragon",
        "content_type": "character",
        "description": "a wyrm of the northern peaks",
        "tags": ["fire"],
        "license": "CC-BY-SA-4.0",
        "created_by": "LUNA-Narrates",
        "checksum": red["checksum"],
    }
    assert (second["file"], second["name"]) == ("02-dragon-s-cave.png", "Dragon's cave")
    await client.get(pack["download_url"])
    await client.get(red["url"])
    downloads = {a["name"]: a["downloads"] for a in (await client.get("/assets")).json()["items"]}
    assert downloads == {"Red dragon": 3, "Dragon's cave": 2}


async def test_collections_refuse_what_they_cannot_hold(
    client: httpx.AsyncClient, services: Services
) -> None:
    pack = await collection(client)
    url = f"/assets/collections/{pack['id']}"
    theirs = await service.import_png(
        services.db,
        services.embedder,
        services.settings.luna_data_dir,
        OTHER_PLAYER,
        card_png("Their dragon"),
    )

    nameless = await client.post("/assets/collections", json={"description": "no name"})
    unknown_field = await client.patch(url, json={"owner_id": str(OTHER_PLAYER)})
    unknown_asset = await client.put(f"{url}/assets/{uuid.uuid4()}")
    private_asset = await client.put(f"{url}/assets/{theirs.id}")
    unknown_pack = await client.get(f"/assets/collections/{uuid.uuid4()}")

    assert nameless.status_code == 422 and "name" in nameless.json()["message"]
    assert unknown_field.status_code == 422 and "owner_id" in unknown_field.json()["message"]
    assert unknown_asset.status_code == 404 and "No asset" in unknown_asset.json()["message"]
    assert private_asset.status_code == 404, "another player's private asset is not seen"
    assert unknown_pack.status_code == 404 and "No collection" in unknown_pack.json()["message"]
    assert (await client.get(url)).json()["assets"] == []


async def test_another_players_public_collection_shows_only_what_is_public(
    client: httpx.AsyncClient, services: Services
) -> None:
    data_dir = services.settings.luna_data_dir
    shared, private = [
        await service.import_png(
            services.db, services.embedder, data_dir, OTHER_PLAYER, card_png(name)
        )
        for name in ("Shared dragon", "Private dragon")
    ]
    async with services.db.transaction() as session:
        await service.update(
            session, services.embedder, OTHER_PLAYER, shared.id, AssetEdit(is_public=True)
        )
        pack = await collections.create(
            session, OTHER_PLAYER, CollectionCreate(name="Their pack", is_public=True)
        )
        for asset in (private, shared):
            await collections.add(session, OTHER_PLAYER, pack.id, asset.id)
    url = f"/assets/collections/{pack.id}"

    seen = (await client.get(url)).json()
    archive = zipfile.ZipFile(io.BytesIO((await client.get(f"{url}/download")).content))
    renamed = await client.patch(url, json={"name": "Mine now"})

    assert (seen["mine"], seen["asset_count"]) == (False, 1)
    assert [a["name"] for a in seen["assets"]] == ["Shared dragon"]
    assert archive.namelist() == ["01-shared-dragon.png", "collection.json"]
    assert renamed.status_code == 403 and "not yours" in renamed.json()["message"]
    assert (await client.delete(url)).status_code == 403
