"""Character cards, lorebooks and worlds are a player's own: listed only to them, usable only by
them (another player's answers 404 in a path and in a body alike), made theirs by a template
or an archive import; and those made before accounts belong to the local player."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import create_engine, text

from luna_narrates.db import migrate
from luna_narrates.db.engine import sqlalchemy_url
from luna_narrates.db.tables import LOCAL_OWNER_ID
from tests.accounts.conftest import cast_and_lore, player
from tests.conftest import STORY

Headers = dict[str, str]


async def created(client: httpx.AsyncClient, path: str, body: Any, headers: Headers) -> str:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    found: str = response.json()["id"]
    return found


async def library(client: httpx.AsyncClient, headers: Headers, name: str) -> dict[str, str]:
    """A card, a lorebook and a world named after their player."""
    entries = [{"key": [name], "content": f"{name} keeps a lantern."}]
    return {
        "character_id": await created(
            client, "/character-cards/manual", {"name": f"{name}'s card"}, headers
        ),
        "lorebook_id": await created(
            client, "/lorebooks", {"name": f"{name}'s lore", "entries": entries}, headers
        ),
        "world_id": await created(client, "/worlds", {"name": f"{name}'s world"}, headers),
    }


@pytest.fixture
async def two(client: httpx.AsyncClient) -> dict[str, Any]:
    """Ila (the admin) and Tomas (a player), each with a library of their own."""
    ila = await player(client, "ila")
    tomas = await player(client, "tomas")
    return {
        "ila": ila,
        "tomas": tomas,
        "hers": await library(client, ila, "Ila"),
        "his": await library(client, tomas, "Tomas"),
    }


async def names(client: httpx.AsyncClient, path: str, headers: Headers) -> list[str]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return [item["name"] for item in page["items"]]


async def test_each_player_lists_only_their_own_library(
    client: httpx.AsyncClient, two: dict[str, Any]
) -> None:
    ila, tomas = two["ila"], two["tomas"]
    await client.post("/stories", json={"template_id": "heist"}, headers=ila)

    assert await names(client, "/character-cards", tomas) == ["Tomas's card"]
    assert await names(client, "/character-cards?library=false", tomas) == ["Tomas's card"]
    assert await names(client, "/lorebooks", tomas) == ["Tomas's lore"]
    assert await names(client, "/worlds", tomas) == ["Tomas's world"]
    assert await names(client, "/worlds", ila) == ["Ila's world"], "an admin's too"
    every_card = await names(client, "/character-cards?library=false", ila)
    assert "Ila's card" in every_card and len(every_card) > 1, "and the heist's cast"


async def test_another_players_card_or_lorebook_is_not_found_and_not_attached(
    client: httpx.AsyncClient, two: dict[str, Any]
) -> None:
    tomas, hers, his = two["tomas"], two["hers"], two["his"]
    story = await created(client, "/stories", STORY, tomas)

    for path, body, missing in (
        (f"/stories/{story}/characters", {"character_id": hers["character_id"]}, "char"),
        (f"/stories/{story}/lorebooks", {"lorebook_id": hers["lorebook_id"]}, "lore"),
        (f"/worlds/{his['world_id']}/characters", {"character_id": hers["character_id"]}, "char"),
    ):
        refused = await client.post(path, json=body, headers=tomas)
        assert refused.status_code == 404, refused.text
        assert refused.json()["message"].startswith(f"No {missing}"), "as a missing one"
    linked = await client.patch(
        f"/worlds/{his['world_id']}", json={"lorebook_id": hers["lorebook_id"]}, headers=tomas
    )
    assert linked.status_code == 404, linked.text

    assert (await client.get(f"/stories/{story}/characters", headers=tomas)).json() == []
    assert (await client.get(f"/stories/{story}/lorebooks", headers=tomas)).json() == []
    world = (await client.get(f"/worlds/{his['world_id']}", headers=tomas)).json()
    assert (world["characters"], world["lorebook_id"]) == ([], None)
    own = await client.post(
        f"/stories/{story}/characters", json={"character_id": his["character_id"]}, headers=tomas
    )
    assert own.status_code == 201, "a player's own card goes in"


async def test_a_story_starts_only_in_a_world_of_ones_own(
    client: httpx.AsyncClient, two: dict[str, Any]
) -> None:
    tomas, hers, his = two["tomas"], two["hers"], two["his"]
    await client.post(
        f"/worlds/{his['world_id']}/characters",
        json={"character_id": his["character_id"]},
        headers=tomas,
    )

    refused = await client.post(
        "/stories", json={**STORY, "world_id": hers["world_id"]}, headers=tomas
    )
    assert refused.status_code == 404, refused.text
    assert refused.json()["message"] == f"No world with id {hers['world_id']}."
    assert (await client.get("/stories", headers=tomas)).json()["total"] == 0
    story = await created(client, "/stories", {**STORY, "world_id": his["world_id"]}, tomas)
    cast = (await client.get(f"/stories/{story}/characters", headers=tomas)).json()
    assert [member["character"]["id"] for member in cast] == [his["character_id"]]


async def test_a_templates_cast_and_lore_belong_to_its_player(client: httpx.AsyncClient) -> None:
    ila = await player(client, "ila")
    tomas = await player(client, "tomas")
    story = await created(client, "/stories", {"template_id": "fantasy"}, tomas)
    world = (await client.post("/worlds", json={"template_id": "fantasy"}, headers=tomas)).json()

    cast = (await client.get(f"/stories/{story}/characters", headers=tomas)).json()
    books = (await client.get(f"/stories/{story}/lorebooks", headers=tomas)).json()
    cards = [m["character"]["id"] for m in cast] + [c["id"] for c in world["characters"]]
    lore = [b["id"] for b in books] + [world["lorebook_id"]]
    assert len(cards) > 2 and len(lore) == 2
    for path in [f"/character-cards/{i}" for i in cards] + [f"/lorebooks/{i}" for i in lore]:
        assert (await client.get(path, headers=tomas)).status_code == 200, path
        assert (await client.get(path, headers=ila)).status_code == 404, path


async def test_an_imported_story_gives_the_importer_copies_they_own(
    client: httpx.AsyncClient, two: dict[str, Any]
) -> None:
    ila, tomas, hers = two["ila"], two["tomas"], two["hers"]
    story = await created(client, "/stories", STORY, ila)
    await cast_and_lore(client, ila, story, hers)
    archive = (await client.get(f"/stories/{story}/export", headers=ila)).text
    tables = json.loads(archive)["tables"]
    assert all(
        "owner_id" not in row for name in ("character_cards", "lorebooks") for row in tables[name]
    )

    imported = await client.post(
        "/stories/import", content=archive, headers={**tomas, "Content-Type": "application/json"}
    )
    assert imported.status_code == 201, imported.text
    copy = imported.json()["story_id"]
    [member] = (await client.get(f"/stories/{copy}/characters", headers=tomas)).json()
    [book] = (await client.get(f"/stories/{copy}/lorebooks", headers=tomas)).json()
    assert (member["character"]["id"], book["id"]) != (hers["character_id"], hers["lorebook_id"])
    assert sorted(await names(client, "/character-cards", tomas)) == ["Ila's card", "Tomas's card"]
    assert sorted(await names(client, "/lorebooks", tomas)) == ["Ila's lore", "Tomas's lore"]
    for path in (f"/character-cards/{member['character']['id']}", f"/lorebooks/{book['id']}"):
        assert (await client.get(path, headers=ila)).status_code == 404, "the copy is his"
    assert await names(client, "/character-cards", ila) == ["Ila's card"], "hers stays hers"


def test_the_library_made_before_owners_is_the_local_players(database_url: str) -> None:
    config = migrate.alembic_config(database_url)
    engine = create_engine(sqlalchemy_url(database_url))
    ids = {table: uuid.uuid4() for table in ("lorebooks", "character_cards", "worlds")}
    command.downgrade(config, "0013")
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO luna.lorebooks (id, name, description, storage_tier, "
                    "source_format, settings, entry_count) "
                    "VALUES (:id, 'Old lore', '', 'hot', 'sillytavern', '{}', 0)"
                ),
                {"id": ids["lorebooks"]},
            )
            connection.execute(
                text(
                    "INSERT INTO luna.character_cards (id, name, tags, version, card, origin, "
                    "in_library) VALUES (:id, 'Old card', '{}', 1, '{}', 'json', true)"
                ),
                {"id": ids["character_cards"]},
            )
            connection.execute(
                text("INSERT INTO luna.worlds (id, name, description) VALUES (:id, 'Old', '')"),
                {"id": ids["worlds"]},
            )
        migrate.upgrade(database_url)
        with engine.begin() as connection:
            owners = {
                table: connection.scalar(
                    text(f"SELECT owner_id FROM luna.{table} WHERE id = :id"), {"id": found}
                )
                for table, found in ids.items()
            }
            defaults = connection.scalars(
                text(
                    "SELECT column_default FROM information_schema.columns "
                    "WHERE table_schema = 'luna' AND column_name = 'owner_id' "
                    "AND table_name IN ('lorebooks', 'character_cards', 'worlds')"
                )
            ).all()
        assert owners == dict.fromkeys(ids, LOCAL_OWNER_ID)
        assert defaults == [None] * 3, "a new row must name its owner"
    finally:
        migrate.upgrade(database_url)
        with engine.begin() as connection:
            for table, found in ids.items():
                connection.execute(text(f"DELETE FROM luna.{table} WHERE id = :id"), {"id": found})
        engine.dispose()
