"""Lore and the cast in the briefing: the entries an action activates (by keyword in any tier,
by meaning in hot and warm books) and the cards of the story's characters compete for the
Preprocessor's budget with the rest of memory, cited, and reach the Strategist."""

from __future__ import annotations

from typing import Any

import httpx

from tests.memory.conftest import import_turns
from tests.scripted import Room
from tests.shared_fixtures import fixture, needs_fixtures


async def preview(
    client: httpx.AsyncClient, story_id: str, action: str, budget: int = 2000
) -> dict[str, Any]:
    response = await client.get(
        f"/stories/{story_id}/briefing", params={"action": action, "budget": budget}
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def lore(briefing: dict[str, Any]) -> dict[str, str]:
    return {i["source"]["title"]: i["reason"] for i in briefing["items"] if i["kind"] == "lore"}


async def lorebook(client: httpx.AsyncClient, tier: str, *entries: dict[str, Any]) -> str:
    body = {"name": f"Veyra ({tier})", "storage_tier": tier, "entries": list(entries)}
    response = await client.post("/lorebooks", json=body)
    assert response.status_code == 201, response.text
    book_id: str = response.json()["id"]
    return book_id


ENTRIES = (
    {"key": ["lighthouse"], "comment": "Lighthouse", "content": "The lighthouse keeper is blind."},
    {"key": ["Doge"], "comment": "Doge", "content": "The Doge fears water.", "constant": True},
    {"key": ["glass"], "comment": "Glass", "content": "Veyra's glass is blown on Murano."},
    {"key": ["crown"], "keysecondary": ["curse"], "selectiveLogic": 3, "comment": "Crown",
     "content": "{{user}} knows the crown's curse kills whoever wears it at dawn."},
)  # fmt: skip


async def test_attached_books_fire_by_keyword_in_every_tier(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    for tier in ("hot", "warm", "cold"):
        book = await lorebook(client, tier, *ENTRIES)
        attach = await client.post(f"/stories/{story['id']}/lorebooks", json={"lorebook_id": book})
        assert attach.status_code == 201
        briefing = await preview(client, story["id"], "I climb the lighthouse with the crown.")
        assert lore(briefing) == {
            "Lighthouse": f"lorebook 'Veyra ({tier})': key 'lighthouse'",
            "Doge": f"lorebook 'Veyra ({tier})': constant",
        }, tier
        both = await preview(client, story["id"], "The crown and its curse.")
        assert "Crown" in lore(both)
        [crown] = [i for i in both["items"] if i["source"]["title"] == "Crown"]
        assert crown["text"] == "the player knows the crown's curse kills whoever wears it at dawn."
        assert crown["source"]["lorebook_id"] == book and crown["source"]["lore_entry_id"]
        await client.delete(f"/stories/{story['id']}/lorebooks/{book}")
    assert lore(await preview(client, story["id"], "I climb the lighthouse.")) == {}


async def test_lore_competes_for_the_budget(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    book = await lorebook(client, "hot", *ENTRIES)
    await client.post(f"/stories/{story['id']}/lorebooks", json={"lorebook_id": book})
    roomy = await preview(client, story["id"], "The lighthouse, the crown and its curse.")
    tight = await preview(client, story["id"], "The lighthouse, the crown and its curse.", 70)
    assert len(lore(tight)) < len(lore(roomy)) == 3
    assert tight["tokens"] <= tight["token_budget"] - tight["scene_reserve_tokens"]


async def test_entries_no_keyword_hits_are_found_by_meaning_once_embedded(
    client: httpx.AsyncClient, story: dict[str, Any], services: Any
) -> None:
    from luna_narrates.services import run_job_worker

    book = await lorebook(client, "warm", *ENTRIES)
    await client.post(f"/stories/{story['id']}/lorebooks", json={"lorebook_id": book})
    action = "I ask about the glassblowers and their furnaces on the island."
    assert "Glass" not in lore(await preview(client, story["id"], action))
    await run_job_worker(services, wait=False)
    found = lore(await preview(client, story["id"], action))
    assert found["Glass"].startswith("lorebook 'Veyra (warm)': close in meaning")


@needs_fixtures
async def test_a_cast_characters_card_and_book_reach_the_strategist(
    client: httpx.AsyncClient, story: dict[str, Any], room: Room
) -> None:
    seraphina = (
        await client.post(
            "/character-cards/import",
            files={"file": ("s.png", fixture("staging-2024-10-18/default_Seraphina.png"))},
        )
    ).json()
    ila = (
        await client.post(
            "/character-cards/manual",
            json={"name": "Ila", "description": "A thief with a debt to the Guild.",
                  "skills": [{"name": "Lockpicking", "value": 8, "max_value": 10}]},
        )
    ).json()  # fmt: skip
    cast = f"/stories/{story['id']}/characters"
    await client.post(cast, json={"character_id": ila["id"], "role": "protagonist"})
    await client.post(cast, json={"character_id": seraphina["id"], "role": "npc"})

    briefing = await preview(client, story["id"], "I ask Seraphina about the Shadowfangs.")
    cards = [i for i in briefing["items"] if i["kind"] == "character"]
    assert any(i["text"].startswith("Seraphina, description:") for i in cards)
    assert any(i["text"] == "Ila, skills and stats: Lockpicking 8/10" for i in cards)
    named = next(i for i in cards if i["text"].startswith("Seraphina, description"))
    assert named["reason"] == "named in the action"
    assert "{{user}}" not in named["text"] and "{{char}}" not in named["text"]
    assert "shadowfang" in lore(briefing)  # Seraphina's own book, through her card

    quiet = await preview(client, story["id"], "I sit by the fire.")
    quiet_cards = {
        i["text"].split(":")[0]: i["score"] for i in quiet["items"] if i["kind"] == "character"
    }
    assert quiet_cards["Ila, description"] > quiet_cards.get("Seraphina, description", 0)

    response = await client.post(
        "/narrate/turn",
        json={"story_id": story["id"], "user_action": "I ask Seraphina about the Shadowfangs."},
    )
    assert response.status_code == 200, response.text
    strategist = room.calls["strategist"][-1].user
    assert "- [card: Seraphina] Seraphina, description: [Seraphina's Personality=" in strategist
    assert "- [card: Ila] Ila, skills and stats: Lockpicking 8/10" in strategist


async def test_sticky_entries_stay_for_the_turns_after_they_fire(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    storm = {"key": ["storm"], "comment": "Storm", "content": "A storm rolls in.", "sticky": 2}
    book = await lorebook(client, "hot", storm)
    await client.post(f"/stories/{story['id']}/lorebooks", json={"lorebook_id": book})
    played = await client.post(
        "/narrate/turn", json={"story_id": story["id"], "user_action": "I watch the storm."}
    )
    assert played.status_code == 200
    assert [i["source"]["title"] for i in played.json()["briefing"]["memory"]] == ["Storm"]
    await import_turns(client, story["id"], [("I wait.", "Nothing happens.")])
    assert lore(await preview(client, story["id"], "I sleep.")) == {
        "Storm": "lorebook 'Veyra (hot)': sticky"
    }


async def test_recursion_reaches_entries_of_indexed_books_too(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    forest = {"key": ["forest"], "comment": "Forest", "content": "The glade hides in it."}
    glade = {"key": ["glade"], "comment": "Glade", "content": "The glade has a spring."}
    for tier in ("hot", "warm", "cold"):
        book = await lorebook(client, tier, forest, glade)
        link = f"/stories/{story['id']}/lorebooks"
        await client.post(link, json={"lorebook_id": book})
        found = lore(await preview(client, story["id"], "I walk into the forest."))
        assert found == {
            "Forest": f"lorebook 'Veyra ({tier})': key 'forest'",
            "Glade": f"lorebook 'Veyra ({tier})': recursion: key 'glade'",
        }, tier
        await client.delete(f"{link}/{book}")
