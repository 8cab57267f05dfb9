"""Worlds, the shipped story templates, and new stories started from them (with the opening
written by the pipeline, or nothing kept when it fails)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from luna_narrates.db.tables import CharacterCard, Lorebook, Story
from luna_narrates.services import Services
from luna_narrates.worlds.templates import templates
from tests.scripted import PASSAGE, Room

GENRES = {
    "fantasy", "cyberpunk noir", "science fiction", "historical", "horror", "mystery",
    "post-apocalyptic", "romance", "superhero", "heist",
}  # fmt: skip


async def test_ten_templates_are_shipped_each_complete(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/worlds/templates")).json()
    assert len(listed) == 10 and {t["genre"] for t in listed} == GENRES
    assert len({t["id"] for t in listed}) == 10
    for found in listed:
        assert found["premise"] and found["setting"] and found["opening"]
        assert found["protagonist"]["name"] and found["characters"] and found["locations"]
    assert [t.id for t in templates()] == [t["id"] for t in listed]


async def test_a_story_from_a_template_has_its_cast_and_lore(client: httpx.AsyncClient) -> None:
    response = await client.post("/stories", json={"template_id": "heist"})
    assert response.status_code == 201, response.text
    story = response.json()
    assert (story["title"], story["genre"]) == ("The Gilded Vault", "heist")
    assert story["protagonist"].startswith("Sasha Lenoir, ") and story["opening"] is None
    cast = (await client.get(f"/stories/{story['id']}/characters")).json()
    assert [(m["character"]["name"], m["role"]) for m in cast] == [
        ("Sasha Lenoir", "protagonist"), ("Benny Ortiz", "npc"), ("Inspector Valmont", "npc"),
    ]  # fmt: skip
    assert all(m["character"]["in_library"] is False for m in cast)
    [book] = (await client.get(f"/stories/{story['id']}/lorebooks")).json()
    entries = (await client.get(f"/lorebooks/{book['id']}/entries")).json()["items"]
    assert [(e["kind"], e["fields"]["key"]) for e in entries] == [
        ("location", ["The Aurum Vault"]),
        ("location", ["The Casino de Monte-Carlo"]),
        ("item", ["The blueprint"]),
    ]
    briefing = (
        await client.get(
            f"/stories/{story['id']}/briefing",
            params={"action": "I study the blueprint of the Aurum Vault.", "budget": 2000},
        )
    ).json()
    titles = {i["source"]["title"] for i in briefing["items"]}
    assert {"The Aurum Vault", "The blueprint", "Sasha Lenoir"} <= titles

    own = await client.post(
        "/stories", json={"template_id": "heist", "title": "My Heist", "genre": "caper"}
    )
    assert (own.json()["title"], own.json()["genre"]) == ("My Heist", "caper")


async def test_bad_starts_are_refused(client: httpx.AsyncClient, services: Services) -> None:
    unknown = await client.post("/stories", json={"template_id": "western"})
    assert unknown.status_code == 422 and "heist" in unknown.json()["message"]
    assert (await client.post("/stories", json={"title": "No premise"})).status_code == 422
    nowhere = await client.post(
        "/stories",
        json={"title": "T", "premise": "P", "world_id": "00000000-0000-0000-0000-000000000000"},
    )
    assert nowhere.status_code == 404
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Story)) == 0


async def test_the_opening_is_written_by_the_pipeline_or_nothing_is_kept(
    client: httpx.AsyncClient, services: Services, room: Room
) -> None:
    started = await client.post(
        "/stories", json={"template_id": "mystery", "generate_opening": True}
    )
    assert started.status_code == 201, started.text
    body = started.json()
    opening = body["opening"]
    assert opening["turn_number"] == 1 and opening["narrative_text"] == "".join(PASSAGE).strip()
    assert body["turn_count"] == 1
    [mystery] = [t for t in templates() if t.id == "mystery"]
    assert opening["user_action"] == mystery.opening
    assert "Edith Marsh" in room.calls["strategist"][-1].user  # the cast reached the briefing

    room.writer_failure = RuntimeError("connection reset by peer")
    failed = await client.post("/stories", json={"template_id": "horror", "generate_opening": True})
    assert failed.status_code == 502
    async with services.db.sessions() as session:  # the mystery's story, cast and lore only
        assert await session.scalar(select(func.count()).select_from(Story)) == 1
        assert await session.scalar(select(func.count()).select_from(CharacterCard)) == 3
        assert await session.scalar(select(func.count()).select_from(Lorebook)) == 1


async def test_worlds_are_made_edited_and_used_by_stories(client: httpx.AsyncClient) -> None:
    horror = await client.post("/worlds", json={"template_id": "horror"})
    assert horror.status_code == 201, horror.text
    world = horror.json()
    assert (world["name"], world["genre"], world["template_id"]) == (
        "The House on Wren Hill", "horror", "horror",
    )  # fmt: skip
    assert (world["location_count"], world["item_count"]) == (2, 1)
    assert [c["name"] for c in world["characters"]] == [
        "Mr. Abernathy", "The girl in the photographs",
    ]  # fmt: skip
    blank = (await client.post("/worlds", json={"name": "Blank", "genre": "fantasy"})).json()
    assert blank["lorebook_id"] is None and blank["characters"] == []
    assert (await client.post("/worlds", json={})).status_code == 422

    listed = (await client.get("/worlds?genre=HORROR")).json()
    assert [w["name"] for w in listed["items"]] == ["The House on Wren Hill"]
    hero = (await client.post("/character-cards/manual", json={"name": "Ghost Hunter"})).json()
    added = await client.post(
        f"/worlds/{world['id']}/characters", json={"character_id": hero["id"]}
    )
    assert len(added.json()["characters"]) == 3
    patched = await client.patch(f"/worlds/{world['id']}", json={"tone": "quiet dread"})
    assert patched.json()["tone"] == "quiet dread"

    story = (
        await client.post(
            "/stories",
            json={"title": "Night Shift", "premise": "A nurse takes a job at the house.",
                  "world_id": world["id"]},
        )
    ).json()  # fmt: skip
    assert story["genre"] == "horror" and story["setting"].startswith("Wren Hill")
    cast = (await client.get(f"/stories/{story['id']}/characters")).json()
    assert {m["character"]["name"] for m in cast} == {
        "Mr. Abernathy", "The girl in the photographs", "Ghost Hunter",
    }  # fmt: skip
    books = (await client.get(f"/stories/{story['id']}/lorebooks")).json()
    assert [b["id"] for b in books] == [world["lorebook_id"]]

    assert (await client.delete(f"/worlds/{world['id']}")).status_code == 204
    assert (await client.get(f"/worlds/{world['id']}")).status_code == 404
    assert (await client.get(f"/lorebooks/{world['lorebook_id']}")).status_code == 200


def names(body: Any) -> list[str]:
    return [item["name"] for item in body["items"]]
