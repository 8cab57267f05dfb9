"""Post-turn jobs: enqueued in the turn's transaction, run by the worker, idempotent."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select, text

from luna_narrates.db.tables import (
    AgentRun,
    Entity,
    Fact,
    MemoryChunk,
    StoryArc,
    Turn,
    TurnSummary,
    story_arc_turns,
)
from luna_narrates.jobs import memory
from luna_narrates.jobs.memory import WorkerContext
from luna_narrates.memory.tasks import index_turn
from luna_narrates.services import Services, run_job_worker
from tests.scripted import MEMORY, Room


async def jobs(services: Services) -> list[dict[str, Any]]:
    async with services.db.sessions() as session:
        rows = await session.execute(
            text("SELECT task_name, status, args, lock FROM luna.procrastinate_jobs ORDER BY id")
        )
        return [dict(row._mapping) for row in rows]


async def count(services: Services, table: Any) -> int:
    async with services.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def worker(services: Services) -> WorkerContext:
    return WorkerContext(
        services.db,
        services.embedder,
        services.registry,
        services.settings,
        services.store,
        services.pool,
    )


async def play(client: httpx.AsyncClient, story: dict[str, Any], action: str) -> dict[str, Any]:
    response = await client.post(
        "/narrate/turn", json={"story_id": story["id"], "user_action": action}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_turn_defers_its_memory_jobs_and_the_worker_builds_its_memory(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    turn = await play(client, story, "I slip in through the water gate.")
    deferred = await jobs(services)
    assert [(j["task_name"], j["status"]) for j in deferred] == [
        ("memory.index_turn", "todo"),
        ("memory.remember_turn", "todo"),
    ]
    assert all(j["args"] == {"turn_id": turn["turn_id"]} for j in deferred)
    assert {j["lock"] for j in deferred} == {f"memory:{story['id']}"}

    await run_job_worker(services, wait=False)

    assert {j["status"] for j in await jobs(services)} == {"succeeded"}
    [memory_call] = room.calls["memory"]
    assert "I slip in through the water gate." in memory_call.user
    async with services.db.sessions() as session:
        summary = await session.get(TurnSummary, uuid.UUID(turn["turn_id"]))
        assert summary is not None and summary.summary == MEMORY["summary"]
        kinds = (await session.scalars(select(MemoryChunk.kind))).all()
        run = await session.scalar(select(AgentRun).where(AgentRun.stage == "remember"))
    assert {"passage", "summary", "entity", "fact"} <= set(kinds)
    assert run is not None and run.agent == "extractor" and run.output["summary"]

    shown = (await client.get(f"/stories/{story['id']}/turns/1")).json()
    stages = [(a["agent"], a["stage"]) for a in shown["agents"]]
    assert stages[-1] == ("extractor", "remember")
    assert Decimal(shown["total_cost_usd"]) == Decimal(turn["total_cost_usd"]), "turn cost only"

    world = (await client.get(f"/stories/{story['id']}/world")).json()
    ila = next(e for e in world["entities"] if e["name"] == "Ila")
    assert ila["facts"][0]["value"] == "inside the Water Gate"


async def test_memory_jobs_are_idempotent(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    turn_id = uuid.UUID((await play(client, story, "I open the door."))["turn_id"])
    for _ in range(2):
        assert await index_turn(services.db, services.embedder, turn_id)
        await memory.remember_turn(worker(services), turn_id)
    assert await count(services, Entity) == 2
    assert await count(services, Fact) == 1
    assert await count(services, TurnSummary) == 1
    chunks = await count(services, MemoryChunk)
    await index_turn(services.db, services.embedder, turn_id)
    assert await count(services, MemoryChunk) == chunks


async def test_jobs_for_a_deleted_turn_do_nothing(services: Services) -> None:
    assert not await index_turn(services.db, services.embedder, uuid.uuid4())
    assert not await memory.remember_turn(worker(services), uuid.uuid4())
    assert await memory.summarize_arc(worker(services), uuid.uuid4()) is None


async def test_an_arc_is_summarised_every_few_turns_and_linked_to_its_turns(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    services.settings.arc_length_turns = 2
    for action in ("I go left.", "I go right.", "I wait."):
        await play(client, story, action)
    await run_job_worker(services, wait=False)

    names = [j["task_name"] for j in await jobs(services)]
    assert names.count("memory.summarize_arc") == 1
    async with services.db.sessions() as session:
        [arc] = (await session.scalars(select(StoryArc))).all()
        linked = (await session.execute(select(story_arc_turns))).all()
    assert (arc.first_turn, arc.turn_number, arc.title) == (1, 2, "The Way In")
    assert len(linked) == 2
    arc_prompt = room.calls["memory"][-1].user
    assert "Turn 1:" in arc_prompt and "Turn 2:" in arc_prompt
    briefing = await client.get(
        f"/stories/{story['id']}/briefing", params={"action": "I remember how I got in."}
    )
    assert any(i["kind"] == "arc" for i in briefing.json()["items"])


async def test_similar_passages_embed_close_together(services: Services) -> None:
    calm, storm, also_calm = services.embedder.embed(
        ["The sea lay calm under the moon.", "Thunder split the mast.", "A quiet moonlit sea."]
    )

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(calm, also_calm) > cosine(calm, storm)


async def test_a_turn_can_put_its_memory_jobs_on_other_models(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    services.settings.arc_length_turns = 2
    await play(client, story, "I slip in through the water gate.")
    response = await client.get(
        f"/narrates/stories/{story['id']}/generate",
        params={
            "action": "I climb the stairs.",
            "extractor_model_override": "test",
            "summariser_model_override": "test",
        },
    )
    assert response.status_code == 200
    bad = await client.post(
        "/narrate/turn",
        json={"story_id": story["id"], "user_action": "I wait.", "dreamer_model_override": "x"},
    )
    assert bad.status_code == 422, "a malformed override is refused before the turn runs"

    await run_job_worker(services, wait=False)

    async with services.db.sessions() as session:
        runs = (
            await session.execute(
                select(Turn.turn_number, AgentRun.stage, AgentRun.provider)
                .join(Turn, Turn.id == AgentRun.turn_id)
                .where(AgentRun.stage.in_(("remember", "arc")))
                .order_by(Turn.turn_number, AgentRun.position)
            )
        ).all()
    assert [tuple(r) for r in runs] == [
        (1, "remember", "fn"),
        (2, "remember", "test"),
        (2, "arc", "test"),
    ]
