"""Characters written by the model: a card from a name and an idea, a section rewritten; each
call recorded with its tokens and cost; a failed call leaves nothing."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from luna_narrates.db.tables import AgentRun, CharacterCard, CostLog
from luna_narrates.services import Services
from tests.scripted import CHARACTER, SECTION, Room


async def test_a_card_is_written_from_an_idea_and_its_call_recorded(
    client: httpx.AsyncClient, services: Services, room: Room
) -> None:
    response = await client.post(
        "/character-cards",
        json={"name": "Tavi", "description": "A lamplighter who sees ghosts.",
              "setting": "Veyra, a canal city", "tags": ["ghosts"], "generate_portrait": True},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    card = response.json()
    assert card["name"] == "Tavi" and card["spec"] == "chara_card_v3"
    assert card["origin"] == "generated"
    assert card["description"] == CHARACTER["description"]
    assert card["tags"] == ["ghosts", "lamplighter", "veyra"]
    assert card["creator_notes"] == "Written by LUNA-Narrates from: A lamplighter who sees ghosts."
    assert card["agent"]["provider"] == "fn" and card["agent"]["agent"] == "character_writer"
    assert "image worker" in card["warnings"][0] and card["portrait"] == "placeholder"
    [seen] = room.calls["character"]
    assert "Character: Tavi" in seen.user and "Veyra, a canal city" in seen.user

    async with services.db.sessions() as session:
        run = (await session.scalars(select(AgentRun))).one()
        cost = (await session.scalars(select(CostLog))).one()
    assert (run.stage, str(run.character_id), run.turn_id) == ("character", card["id"], None)
    assert (cost.story_id, cost.turn_id) == (None, None)

    exported = (await client.get(f"/character-cards/{card['id']}/export?format=v2")).json()
    assert exported["data"]["first_mes"] == CHARACTER["first_mes"]


async def test_one_section_is_rewritten_and_the_rest_kept(
    client: httpx.AsyncClient, services: Services, room: Room
) -> None:
    card = (
        await client.post(
            "/character-cards/manual",
            json={"name": "Ila", "description": "A thief.", "personality": "bold",
                  "scenario": "The heist."},
        )
    ).json()  # fmt: skip
    response = await client.post(
        f"/character-cards/{card['id']}/regenerate-section",
        json={"section": "personality", "instruction": "make her more secretive"},
    )
    assert response.status_code == 200, response.text
    rewritten = response.json()
    assert rewritten["personality"] == SECTION["text"]
    assert (rewritten["description"], rewritten["scenario"]) == ("A thief.", "The heist.")
    prompt = room.calls["character"][-1].user
    assert "description: A thief." in prompt and "make her more secretive" in prompt
    assert "personality: bold" not in prompt  # the section being rewritten is not shown

    bad = await client.post(
        f"/character-cards/{card['id']}/regenerate-section", json={"section": "tags"}
    )
    assert bad.status_code == 422
    missing = await client.post(
        "/character-cards/00000000-0000-0000-0000-000000000000/regenerate-section",
        json={"section": "scenario"},
    )
    assert missing.status_code == 404
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AgentRun)) == 1


async def test_a_failed_call_stores_nothing(
    client: httpx.AsyncClient, services: Services, room: Room
) -> None:
    room.character_failure = RuntimeError("connection reset by peer")
    response = await client.post(
        "/character-cards", json={"name": "Tavi", "description": "A lamplighter."}
    )
    assert response.status_code == 502
    assert "character_writer" in response.json()["message"]
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CharacterCard)) == 0
        assert await session.scalar(select(func.count()).select_from(AgentRun)) == 0
