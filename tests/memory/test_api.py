"""The memory endpoints and turn import, through the HTTP API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from luna_narrates.db.tables import Turn
from luna_narrates.services import Services
from tests.memory.conftest import import_turns, remember
from tests.memory.test_memory import TURNS, campaign


async def test_import_appends_turns_in_order_and_defers_their_memory_jobs(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    first = await import_turns(client, story["id"], TURNS[:2])
    second = await import_turns(client, story["id"], TURNS[2:])
    assert (first["first_turn_number"], first["last_turn_number"]) == (1, 2)
    assert (second["first_turn_number"], second["last_turn_number"]) == (3, 6)
    assert second["memory_jobs"] == 8
    turns = (await client.get(f"/stories/{story['id']}/turns")).json()["items"]
    assert [t["user_action"] for t in turns] == [a for a, _ in TURNS]
    assert {t["origin"] for t in turns} == {"imported"}


async def test_a_bad_import_is_refused_whole(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    bad = [
        {"turns": []},
        {"turns": [{"user_action": "I go.", "narrative_text": "You go."}, {"user_action": " "}]},
        {"turns": [{"user_action": "I go.", "narrative_text": "You go.", "mood": "x"}]},
    ]
    for body in bad:
        response = await client.post(f"/stories/{story['id']}/turns/import", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"] == "invalid_input"
        assert "turns" in response.json()["message"]
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Turn)) == 0
    missing = await client.post(
        f"/stories/{uuid.uuid4()}/turns/import",
        json={"turns": [{"user_action": "I go.", "narrative_text": "You go."}]},
    )
    assert missing.status_code == 404


async def test_search_ranks_items_with_kind_score_and_source_turn(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    await campaign(client, services, story)
    response = await client.get(
        f"/stories/{story['id']}/memory/search", params={"q": "Is Aldric alive?", "k": 5}
    )
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert 1 <= len(hits) <= 5
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    alive = [h for h in hits if h["kind"] == "fact" and h["text"] == "Aldric · status: alive"]
    assert alive and alive[0]["superseded_at_turn"] == 3 and alive[0]["turn_number"] == 1


async def test_the_briefing_endpoint_shows_what_an_action_would_get(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    await campaign(client, services, story)
    response = await client.get(
        f"/stories/{story['id']}/briefing", params={"action": "I ask Aldric to heal me."}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_budget"] == 400
    assert 0 < body["tokens"] <= 400 - body["scene_reserve_tokens"]
    assert body["items"][0]["text"] == "Aldric · status: dead (before: alive)"
    assert body["items"][0]["reason"] == "named in the action"
    assert all(item["source"]["turn"] >= 1 for item in body["items"])
    small = await client.get(
        f"/stories/{story['id']}/briefing", params={"action": "I look.", "budget": 80}
    )
    assert small.json()["tokens"] <= 80 - small.json()["scene_reserve_tokens"]


async def test_world_lists_entities_and_an_entity_is_found_by_any_name_or_id(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    branch = await campaign(client, services, story)
    await remember(
        services,
        branch,
        6,
        entities=[{"name": "Grey Abbot", "kind": "character", "aliases": ["Brother Cole"]}],
        relationships=[
            {"source": "Grey Abbot", "target": "Aldric", "disposition": "mourns him", "score": 3}
        ],
    )
    world = (await client.get(f"/stories/{story['id']}/world")).json()
    abbot = next(e for e in world["entities"] if e["name"] == "Grey Abbot")
    assert abbot["aliases"] == ["Brother Cole"]
    assert [r["disposition"] for r in abbot["relationships"]] == ["mourns him"]

    by_old_name = await client.get(f"/stories/{story['id']}/world/Brother Cole")
    by_id = await client.get(f"/stories/{story['id']}/world/{abbot['id']}")
    assert by_old_name.status_code == by_id.status_code == 200
    assert by_old_name.json() == by_id.json()
    assert by_id.json()["facts"][0]["value"] == "gatekeeper of the abbey"

    unknown = await client.get(f"/stories/{story['id']}/world/Nobody")
    assert unknown.status_code == 404
    assert "Nobody" in unknown.json()["message"]


async def test_memory_routes_need_a_story_and_valid_input(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    nobody = uuid.uuid4()
    for path in ("memory/search?q=x", "briefing?action=x", "world", "world/x"):
        assert (await client.get(f"/stories/{nobody}/{path}")).status_code == 404, path
    for path in (
        "memory/search",
        "memory/search?q=x&k=0",
        "briefing",
        "briefing?action=x&budget=1",
    ):
        response = await client.get(f"/stories/{story['id']}/{path}")
        assert response.status_code == 422, path
