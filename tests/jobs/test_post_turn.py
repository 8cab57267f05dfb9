"""Post-turn jobs: enqueued in the turn's transaction, run by the worker, idempotent."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select, text

from luna_narrates.db.tables import TurnEmbedding
from luna_narrates.memory.tasks import embed_turn
from luna_narrates.services import Services, run_job_worker


async def jobs(services: Services) -> list[dict[str, Any]]:
    async with services.db.sessions() as session:
        rows = await session.execute(
            text("SELECT task_name, status, args FROM luna.procrastinate_jobs ORDER BY id")
        )
        return [dict(row._mapping) for row in rows]


async def test_turn_enqueues_embedding_job_that_the_worker_runs(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    turn = (
        await client.post(
            "/narrate/turn", json={"story_id": story["id"], "user_action": "I open the door."}
        )
    ).json()
    [job] = await jobs(services)
    assert job["task_name"] == "memory.embed_turn"
    assert job["status"] == "todo"
    assert job["args"] == {"turn_id": turn["turn_id"]}

    await run_job_worker(services, wait=False)

    [job] = await jobs(services)
    assert job["status"] == "succeeded"
    async with services.db.sessions() as session:
        row = await session.get(TurnEmbedding, uuid.UUID(turn["turn_id"]))
        assert row is not None
        assert len(row.embedding) == 384
        assert row.embedder == "all-MiniLM-L6-v2"


async def test_embedding_job_is_idempotent(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    turn = (
        await client.post(
            "/narrate/turn", json={"story_id": story["id"], "user_action": "I open the door."}
        )
    ).json()
    turn_id = uuid.UUID(turn["turn_id"])
    assert await embed_turn(services.db, services.embedder, turn_id)
    assert await embed_turn(services.db, services.embedder, turn_id)
    async with services.db.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(TurnEmbedding))
    assert count == 1


async def test_embedding_a_deleted_turn_is_a_no_op(services: Services) -> None:
    assert not await embed_turn(services.db, services.embedder, uuid.uuid4())


async def test_similar_passages_embed_close_together(services: Services) -> None:
    calm, storm, also_calm = services.embedder.embed(
        ["The sea lay calm under the moon.", "Thunder split the mast.", "A quiet moonlit sea."]
    )

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(calm, also_calm) > cosine(calm, storm)
