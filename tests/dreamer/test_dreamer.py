"""The Dreamer end to end on deterministic models: ideas dreamed after a turn and drawn ahead
of need when likely, realized (with their images) by the turn that uses them, the pool kept to
its size and its expiry (files included), and the idle dream scheduled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from luna_narrates.dreamer import service as dreams
from luna_narrates.images import service as images
from luna_narrates.services import Services
from tests.images.test_turn_images import drain
from tests.narration.test_pipeline import play
from tests.scripted import PLAN, Room


async def pool(client: httpx.AsyncClient, story: dict[str, Any]) -> dict[str, dict[str, Any]]:
    response = await client.get(f"/stories/{story['id']}/dreamer/pool")
    assert response.status_code == 200, response.text
    return {idea["name"]: idea for idea in response.json()}


async def test_a_turn_is_followed_by_a_dream_whose_likely_ideas_are_drawn(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    await play(client, story["id"], "I slip in through the water gate.")
    await drain(services)

    ideas = await pool(client, story)
    assert list(ideas) == ["Mira the Ferrywoman", "The Drowned Chapel", "The Crown Is Fake"]
    mira = ideas["Mira the Ferrywoman"]
    assert mira["metadata"] == {"look": "grey cloak, lantern on a pole"}
    assert mira["realized"] is False and mira["realized_in_turn"] is None
    [image] = mira["images"]
    assert image["speculative"] and image["placeholder"] and image["status"] == "complete"
    assert ideas["The Drowned Chapel"]["images"][0]["status"] == "complete"
    assert ideas["The Crown Is Fake"]["images"] == [], "a twist, and unlikely: no picture"
    assert len({i["session_id"] for i in ideas.values()}) == 1
    expires = datetime.fromisoformat(mira["expires_at"]) - datetime.fromisoformat(
        mira["created_at"]
    )
    assert expires == timedelta(days=services.settings.dreamer_asset_expiry_days)
    [dreamed] = room.calls["dreamer"]
    assert "I slip in through the water gate." in dreamed.user
    turn = (await client.get(f"/stories/{story['id']}/turns/1")).json()
    assert ("dreamer", "dream") in [(a["agent"], a["stage"]) for a in turn["agents"]]


async def meet_mira(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    """Turn 1 dreams Mira the Ferrywoman up; turn 2's plan puts her in the scene."""
    await play(client, story["id"], "I look for a way across.")
    await drain(services)
    room.plan = {**PLAN, "characters_present": ["Ila", "Mira the Ferrywoman"]}
    room.dream = {"ideas": [{**room.dream["ideas"][2], "name": "A Second Twist"}]}
    await play(client, story["id"], "I hail the ferry.")
    await drain(services)


async def test_the_turn_that_uses_an_idea_realizes_it_and_takes_its_picture(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    await meet_mira(client, services, story, room)

    mira = (await pool(client, story))["Mira the Ferrywoman"]
    assert (mira["realized"], mira["realized_in_turn"], mira["realized_by"]) == (
        True,
        2,
        "strategist",
    )
    assert mira["images"][0]["speculative"] is False
    turn_images = (
        await client.get(f"/stories/{story['id']}/images", params={"turn_number": 2})
    ).json()
    [shown] = [i for i in turn_images if i["subject"] == "Mira the Ferrywoman"]
    assert mira["images"][0]["id"] in (shown["id"], shown["reused_from"]), "not drawn again"
    stats = (await client.get(f"/stories/{story['id']}/dreamer/stats")).json()
    by_type = {s["content_type"]: s for s in stats["by_type"]}
    assert by_type["character"] | {"average_hours_to_realize": None} == {
        "content_type": "character",
        "dreamed": 1,
        "realized": 1,
        "realization_rate": 1.0,
        "average_hours_to_realize": None,
    }
    assert by_type["plot_twist"]["dreamed"] == 2 and by_type["plot_twist"]["realized"] == 0
    assert stats["pool_size"] == 3

    world = (await client.get(f"/stories/{story['id']}/world")).json()
    entities = {entity["name"]: entity for entity in world["entities"]}
    mira_now = entities["Mira the Ferrywoman"]
    assert (mira_now["kind"], mira_now["first_turn"]) == ("character", 2), "entered the ledger"
    assert mira_now["description"] == mira["description"]
    assert [(f["key"], f["value"]) for f in mira_now["facts"]] == [
        ("look", "grey cloak, lantern on a pole")
    ]
    assert "The Drowned Chapel" not in entities, "an idea no turn used stays out of the world"


async def test_the_pool_keeps_its_size_and_unused_ideas_expire_with_their_files(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], data_dir: Path
) -> None:
    services.settings.dreamer_speculative_pool_size = 2
    await play(client, story["id"], "I slip in.")
    await drain(services)

    ideas = await pool(client, story)
    assert list(ideas) == ["Mira the Ferrywoman", "The Drowned Chapel"], "the least likely went"
    files = [
        data_dir / "images" / story["id"] / kind / f"{idea['images'][0]['id']}.png"
        for kind, idea in zip(("portrait", "background"), ideas.values(), strict=True)
    ]
    assert all(file.is_file() for file in files)

    async with services.db.transaction() as session:
        gone = await dreams.expire(session, data_dir, datetime.now(UTC) + timedelta(days=8))

    assert gone == 2 and await pool(client, story) == {}
    assert not any(file.exists() for file in files), "their files went too"
    stats = (await client.get(f"/stories/{story['id']}/dreamer/stats")).json()
    assert [(s["content_type"], s["dreamed"], s["realized"]) for s in stats["by_type"]] == [
        ("character", 1, 0),
        ("location", 1, 0),
        ("plot_twist", 1, 0),
    ], "the ideas the pool let go still count as dreamed"


async def test_the_dreamer_dreams_again_while_the_story_is_idle(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    await play(client, story["id"], "I wait.")
    await drain(services)

    async with services.db.sessions() as session:
        scheduled = (
            await session.execute(
                text(
                    "SELECT args, scheduled_at > now() FROM luna.procrastinate_jobs "
                    "WHERE task_name = 'dreamer.dream' AND status = 'todo'"
                )
            )
        ).all()
    assert [(args["turn_id"], later) for args, later in scheduled] == [(None, True)]


async def test_no_dreaming_when_continuous_generation_is_off(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    services.settings.dreamer_continuous_generation = False
    await play(client, story["id"], "I wait.")
    await drain(services)
    assert await pool(client, story) == {} and "dreamer" not in room.calls


async def test_a_turn_can_put_its_dream_on_another_model(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    response = await client.post(
        "/narrate/turn",
        json={"story_id": story["id"], "user_action": "I wait.", "dreamer_model_override": "test"},
    )
    assert response.status_code == 200
    await drain(services)

    turn = (await client.get(f"/stories/{story['id']}/turns/1")).json()
    [dream] = [a for a in turn["agents"] if a["stage"] == "dream"]
    assert (dream["agent"], dream["provider"]) == ("dreamer", "test")
    assert "dreamer" not in room.calls, "the configured model was not asked"


async def test_the_briefing_offers_the_ideas_the_action_names_or_comes_close_to(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    await play(client, story["id"], "I slip in.")
    await drain(services)

    async def briefing(action: str) -> dict[str, dict[str, Any]]:
        response = await client.get(
            f"/stories/{story['id']}/briefing", params={"action": action, "budget": 1500}
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return {i["source"]["title"]: i for i in items if i["kind"] == "dream"}

    named = await briefing("I whistle for Mira the Ferrywoman.")
    mira = named["Mira the Ferrywoman"]
    assert mira["text"].startswith("Mira the Ferrywoman (character, not yet in the story): ")
    assert "names" in mira["reason"]
    close = await briefing("I look for a chapel half under the water where guards never go.")
    assert "The Drowned Chapel" in close and "meaning" in close["The Drowned Chapel"]["reason"]
    assert "The Crown Is Fake" not in close | named, "plot twists are the Strategist's to find"


async def test_taking_back_the_turn_that_used_an_idea_returns_it_to_the_pool(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    await meet_mira(client, services, story, room)
    picture = (await pool(client, story))["Mira the Ferrywoman"]["images"][0]

    response = await client.delete(f"/stories/{story['id']}/turns/after/1")
    assert response.status_code == 200, response.text

    mira = (await pool(client, story))["Mira the Ferrywoman"]
    assert (mira["realized"], mira["realized_in_turn"], mira["realized_by"]) == (False, None, None)
    [image] = mira["images"]
    assert (image["id"], image["speculative"], image["status"]) == (picture["id"], True, "complete")
    assert (await client.get(image["url"])).status_code == 200, "its picture is kept for later"


async def test_a_turn_shows_the_dreamers_picture_of_a_place_or_character_it_brings_in(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    """No second render, however the Dreamer's prompt differs from the turn's."""
    await play(client, story["id"], "I look for a way across.")
    await drain(services)
    dreamed = {
        name: idea["images"][0]["id"]
        for name, idea in (await pool(client, story)).items()
        if idea["images"]
    }
    room.plan = {
        **PLAN,
        "scene_location": "The Drowned Chapel",
        "characters_present": ["Ila", "Mira the Ferrywoman"],
    }
    await play(client, story["id"], "I hide in the chapel.")
    await drain(services)

    shown = (await client.get(f"/stories/{story['id']}/images", params={"turn_number": 2})).json()
    by_subject = {image["subject"]: image for image in shown}
    for name in ("The Drowned Chapel", "Mira the Ferrywoman"):
        assert dreamed[name] in (by_subject[name]["id"], by_subject[name]["reused_from"]), name
    async with services.db.sessions() as session:
        renders = await session.execute(
            text(
                "SELECT g.dreamer_content_id IS NOT NULL, j.priority "
                "FROM luna.procrastinate_jobs j "
                "JOIN luna.generated_images g ON g.id = CAST(j.args->>'image_id' AS uuid) "
                "WHERE j.task_name = 'images.render'"
            )
        )
        priorities = {(dreamers, priority) for dreamers, priority in renders}
    assert priorities == {(True, 0), (False, 10)}, "a turn's pictures go first in the queue"


async def test_a_dreamers_picture_not_begun_when_a_turn_needs_it_is_drawn_as_the_turns(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    chapel = {**room.dream["ideas"][1], "metadata": {}}
    async with services.db.transaction() as session:
        [idea] = await dreams.store_ideas(
            session, uuid.UUID(story["id"]), [chapel], services.settings
        )
        [picture] = dreams.speculative_images([idea], services.settings)
        session.add(picture)
    room.plan = {**PLAN, "scene_location": "The Drowned Chapel"}
    turn = (await play(client, story["id"], "I hide in the chapel.")).json()

    to_render = await images.plan_turn(services.db, services.settings, uuid.UUID(turn["turn_id"]))

    assert picture.id in to_render, "its render is asked for again, at the turn's priority"
    shown = (await client.get(f"/stories/{story['id']}/images", params={"turn_number": 1})).json()
    [background] = [i for i in shown if i["image_type"] == "background"]
    assert (background["reused_from"], background["status"]) == (str(picture.id), "pending")
