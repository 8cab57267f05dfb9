"""A lorebook made from what a story remembers: its entities with their current facts, its
arcs as events; exported, it is a World Info file like any other."""

from __future__ import annotations

from typing import Any

import httpx

from luna_narrates.services import Services, run_job_worker
from tests.memory.conftest import import_turns
from tests.scripted import ARC, Room


async def test_a_story_s_memory_becomes_a_lorebook(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    services.settings.arc_length_turns = 2
    await import_turns(
        client,
        story["id"],
        [("I slip under the portcullis.", "Cold water bites."), ("I climb.", "A guard turns.")],
    )
    await run_job_worker(services, wait=False)  # the memory jobs, on the scripted model

    response = await client.post(
        "/lorebooks/extract",
        json={"story_id": story["id"], "entity_types": ["character", "location", "event"]},
    )
    assert response.status_code == 201, response.text
    book = response.json()
    assert book["name"] == "The Canal Thief: what the story remembers"
    assert book["universe_name"] == "The Canal Thief"
    entries = {e["fields"]["comment"]: e for e in book["entries"]}
    assert set(entries) == {"Ila", "Water Gate", ARC["title"]}
    ila = entries["Ila"]
    assert ila["kind"] == "character" and ila["fields"]["key"] == ["Ila"]
    assert "Ila · location: inside the Water Gate." in ila["fields"]["content"]
    assert entries["Water Gate"]["kind"] == "location"
    event = entries[ARC["title"]]
    assert event["kind"] == "event" and event["fields"]["content"].endswith("(turns 1-2)")

    only_places = await client.post(
        "/lorebooks/extract", json={"story_id": story["id"], "entity_types": ["location"]}
    )
    assert [e["fields"]["comment"] for e in only_places.json()["entries"]] == ["Water Gate"]
    exported = (await client.get(f"/lorebooks/{book['id']}/export?format=world_info")).json()
    assert len(exported["entries"]) == 3


async def test_extraction_refuses_unknown_stories_and_kinds(client: httpx.AsyncClient) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    assert (await client.post("/lorebooks/extract", json={"story_id": unknown})).status_code == 404
    story = (await client.post("/stories", json={"title": "T", "premise": "P"})).json()
    bad = await client.post(
        "/lorebooks/extract", json={"story_id": story["id"], "entity_types": ["weather"]}
    )
    assert bad.status_code == 422
    empty = await client.post("/lorebooks/extract", json={"story_id": story["id"]})
    assert empty.status_code == 201 and empty.json()["entry_count"] == 0
