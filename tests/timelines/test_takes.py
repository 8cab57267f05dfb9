"""Alternate takes: regenerate, list, select and edit a turn; memory follows the selected take,
and a turn that later turns or other branches build on is never rewritten."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from luna_narrates.agents.preprocessor.memory_schemas import ArcSummary, TurnMemory
from luna_narrates.db.tables import Entity, Fact, StoryArc
from luna_narrates.memory import tasks
from luna_narrates.memory.errors import StaleMemory
from luna_narrates.services import Services
from tests.memory.conftest import remember, turn_id
from tests.narration.test_sse import parse_sse
from tests.timelines.conftest import append, branch, lineage, play

Story = dict[str, Any]


async def regenerate(
    client: httpx.AsyncClient, story_id: object, number: int, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"/stories/{story_id}/turns/{number}/regenerate", json=body)
    assert response.status_code == 200, response.text
    turn: dict[str, Any] = response.json()
    return turn


async def three_turns_meeting_mira(
    client: httpx.AsyncClient, services: Services, story: Story
) -> str:
    branch_id: str = (await append(client, story["id"], "main", 3))["branch_id"]
    await remember(
        services,
        branch_id,
        1,
        entities=[{"name": "Mira", "kind": "character", "description": "A smuggler."}],
    )
    return branch_id


async def queued(services: Services) -> list[tuple[str, str]]:
    async with services.db.sessions() as session:
        rows = await session.execute(
            text("SELECT task_name, args->>'turn_id' FROM luna.procrastinate_jobs ORDER BY id")
        )
    return [(name, turn) for name, turn in rows.all()]


async def test_regenerating_the_latest_turn_adds_a_take_and_selects_it(
    client: httpx.AsyncClient, services: Services, story: Story
) -> None:
    first = await play(client, story["id"], "I knock on the tower door.")
    again = await regenerate(client, story["id"], 1)
    assert (again["turn_number"], again["version"], again["branch_created"]) == (1, 2, None)
    assert again["branch_id"] == first["branch_id"]
    assert again["user_action"] == "I knock on the tower door."
    assert ("memory.remember_turn", again["turn_id"]) in await queued(services)

    url = f"/stories/{story['id']}/turns/1"
    takes = (await client.get(f"{url}/versions")).json()
    assert takes["selected_version"] == 2
    assert [(t["version"], t["is_selected"]) for t in takes["items"]] == [(1, False), (2, True)]
    assert (await client.get(url)).json()["id"] == again["turn_id"]

    chosen = await client.post(f"{url}/select", json={"version": 1})
    assert chosen.status_code == 200 and chosen.json()["selected_version"] == 1
    shown = (await client.get(url)).json()
    assert (shown["id"], shown["version"], shown["versions"]) == (first["turn_id"], 1, 2)
    missing = await client.post(f"{url}/select", json={"version": 7})
    assert missing.status_code == 404 and "versions 1–2" in missing.json()["message"]

    third = await regenerate(client, story["id"], 1, user_action="I climb the wall instead.")
    assert (third["version"], third["user_action"]) == (3, "I climb the wall instead.")
    next_turn = await play(client, story["id"], "I look around.")
    assert next_turn["turn_number"] == 2, "later turns follow the selected take"


async def test_regenerating_a_turn_that_later_turns_build_on_starts_a_branch(
    client: httpx.AsyncClient, story: Story
) -> None:
    main = (await append(client, story["id"], "main", 4))["branch_id"]
    again = await regenerate(client, story["id"], 2)
    created = again["branch_created"]
    assert created is not None and created["name"] == "Turn 2, take 2"
    assert (again["branch_id"], again["turn_number"], again["version"]) == (created["id"], 2, 1)
    story_now = (await client.get(f"/stories/{story['id']}")).json()
    assert story_now["active_branch"]["id"] == created["id"]
    told = await lineage(client, story["id"], created["id"])
    assert [(n, b) for n, b, _ in told] == [(1, main), (2, created["id"])]
    assert len(await lineage(client, story["id"], main)) == 4, "history was not rewritten"
    takes = (await client.get(f"/stories/{story['id']}/turns/2/versions?branch_id={main}")).json()
    assert len(takes["items"]) == 1


async def test_a_turn_another_branch_inherits_is_not_rewritten(
    client: httpx.AsyncClient, story: Story
) -> None:
    main = (await append(client, story["id"], "main", 3))["branch_id"]
    await branch(client, story["id"], "Side", 3, active=False)
    again = await regenerate(client, story["id"], 3)
    assert again["branch_created"] is not None, "Side's past includes Main's turn 3"
    await client.post(f"/stories/{story['id']}/branches/switch", json={"branch_id": main})
    other = await regenerate(client, story["id"], 3, branch_id=main)
    assert other["branch_created"]["name"] == "Turn 3, take 2 (2)"


async def test_selecting_another_take_of_a_settled_turn_is_refused(
    client: httpx.AsyncClient, story: Story
) -> None:
    await play(client, story["id"], "I open the chest.")
    await regenerate(client, story["id"], 1)
    await play(client, story["id"], "I read the letter inside.")
    refused = await client.post(f"/stories/{story['id']}/turns/1/select", json={"version": 1})
    assert refused.status_code == 409
    assert "later turns" in refused.json()["message"]
    shown = (await client.get(f"/stories/{story['id']}/turns/1")).json()
    assert shown["version"] == 2


async def test_an_edit_is_a_new_take_and_the_old_text_is_kept(
    client: httpx.AsyncClient, services: Services, story: Story
) -> None:
    await append(client, story["id"], "main", 3)
    url = f"/stories/{story['id']}/turns/2"
    edited = await client.patch(url, json={"narrative_text": "  Mira waves from the dock.  "})
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["version"], body["origin"], body["narrative_text"]) == (
        2,
        "edited",
        "Mira waves from the dock.",
    )
    assert body["user_action"] == "main action 2"
    takes = (await client.get(f"{url}/versions")).json()["items"]
    assert [t["narrative_text"] for t in takes] == ["main passage 2.", "Mira waves from the dock."]
    assert ("memory.index_turn", body["id"]) in await queued(services)
    assert (await client.patch(url, json={})).status_code == 422
    assert (await client.patch(url, json={"narrative_text": " "})).status_code == 422
    same = await client.patch(url, json={"narrative_text": "Mira waves from the dock."})
    assert same.json()["version"] == 2, "an edit that changes nothing adds no take"


async def test_memory_follows_the_selected_take(
    client: httpx.AsyncClient, services: Services, story: Story
) -> None:
    branch_id = await three_turns_meeting_mira(client, services, story)
    await remember(
        services,
        branch_id,
        2,
        entities=[
            {"name": "Orrin", "kind": "character", "description": "A harbour guard."},
            {"name": "Tessa", "kind": "character", "description": "A fence."},
        ],
        facts=[{"subject": "Mira", "key": "status", "value": "arrested"}],
    )
    await remember(
        services, branch_id, 3, facts=[{"subject": "Orrin", "key": "mood", "value": "suspicious"}]
    )
    old = await turn_id(services, branch_id, 2)
    arc_context = await tasks.read_arc(services.db, await turn_id(services, branch_id, 3), 3)
    assert arc_context is not None
    await tasks.write_arc(
        services.db, services.embedder, arc_context, ArcSummary(title="Dock", summary="Trouble.")
    )

    edited = await client.patch(
        f"/stories/{story['id']}/turns/2", json={"narrative_text": "Mira slips away."}
    )
    new = uuid.UUID(edited.json()["id"])

    async with services.db.sessions() as session:
        facts = (await session.scalars(select(Fact.value))).all()
        entities = {e.name: e.turn_id for e in (await session.scalars(select(Entity))).all()}
        arcs = (await session.scalars(select(StoryArc))).all()
    assert "arrested" not in facts, "the old take's facts went with it"
    assert "suspicious" in facts, "later turns keep theirs"
    assert entities["Orrin"] == new, "a later turn refers to Orrin, so he stays, now from take 2"
    assert "Tessa" not in entities, "only the old take knew Tessa"
    assert arcs == [], "the arc covering the old take is summed up again"
    jobs = await queued(services)
    assert ("memory.summarize_arc", str(await turn_id(services, branch_id, 3))) in jobs

    # A memory job for the old take that finishes late writes nothing.
    context = await tasks.read_turn(services.db, old, names=True)
    assert context is None, "a take that is not selected is not remembered"
    assert not await tasks.index_turn(services.db, services.embedder, old)


async def test_a_late_job_for_a_replaced_take_writes_nothing(
    client: httpx.AsyncClient, services: Services, story: Story
) -> None:
    branch_id = (await append(client, story["id"], "main", 1))["branch_id"]
    old = await turn_id(services, branch_id, 1)
    context = await tasks.read_turn(services.db, old, names=True)  # the job started…
    assert context is not None
    await client.patch(f"/stories/{story['id']}/turns/1", json={"narrative_text": "Rewritten."})
    memory = TurnMemory(summary="Old.", facts=[{"subject": "Ila", "key": "mood", "value": "stale"}])
    assert not await tasks.write_memory(services.db, services.embedder, context, memory)
    async with services.db.sessions() as session:
        assert (await session.scalars(select(Fact))).all() == []


async def test_a_regeneration_streams_like_a_turn(client: httpx.AsyncClient, story: Story) -> None:
    await append(client, story["id"], "main", 2)
    url = f"/narrates/stories/{story['id']}/turns/1/regenerate"
    response = await client.get(url, params={"action": "I leave by the window."})
    events = parse_sse(response.text)
    statuses = [data["message"] for kind, data in events if kind == "status"]
    assert any("on the new branch 'Turn 1, take 2'" in message for message in statuses)
    kind, done = events[-1]
    assert kind == "done"
    assert done["turn"]["branch_created"]["name"] == "Turn 1, take 2"
    assert done["turn"]["user_action"] == "I leave by the window."
    missing = await client.get(f"/narrates/stories/{story['id']}/turns/9/regenerate")
    assert missing.status_code == 404 and "has no turn 9" in missing.json()["message"]


async def test_a_memory_job_overtaken_by_an_edit_runs_again_instead_of_writing_stale_rows(
    client: httpx.AsyncClient, services: Services, story: Story
) -> None:
    branch_id = await three_turns_meeting_mira(client, services, story)
    third = await turn_id(services, branch_id, 3)
    context = await tasks.read_turn(services.db, third, names=True)  # the job read Mira…
    assert context is not None and "Mira" in context.book.display.values()
    # …then the player rewrote turn 1, and Mira, whom nothing else named yet, went with it.
    await client.patch(f"/stories/{story['id']}/turns/1", json={"narrative_text": "Quiet."})
    memory = TurnMemory(
        summary="Mira hides.", facts=[{"subject": "Mira", "key": "status", "value": "hiding"}]
    )
    with pytest.raises(StaleMemory):
        await tasks.write_memory(services.db, services.embedder, context, memory)
    again = await tasks.read_turn(services.db, third, names=True)  # the retry
    assert again is not None
    assert await tasks.write_memory(services.db, services.embedder, again, memory)
    async with services.db.sessions() as session:
        assert (await session.scalars(select(Fact.value))).all() == ["hiding"]


async def test_an_arc_summed_up_from_a_replaced_take_is_not_written(
    client: httpx.AsyncClient, services: Services, story: Story
) -> None:
    branch_id = (await append(client, story["id"], "main", 3))["branch_id"]
    arc = await tasks.read_arc(services.db, await turn_id(services, branch_id, 3), 3)
    assert arc is not None
    await client.patch(f"/stories/{story['id']}/turns/2", json={"narrative_text": "Changed."})
    with pytest.raises(StaleMemory):
        await tasks.write_arc(
            services.db, services.embedder, arc, ArcSummary(title="Old", summary="Stale.")
        )
    async with services.db.sessions() as session:
        assert (await session.scalars(select(StoryArc))).all() == []
