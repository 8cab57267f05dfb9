"""The procrastinate app and the task registry; tasks call into the domain packages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.engine import SEARCH_PATH_OPTION, Database
from luna_narrates.llm.embeddings import Embedder
from luna_narrates.memory import tasks as memory_tasks

POST_TURN_QUEUE = "post_turn"


@dataclass
class WorkerContext:
    """What tasks need; handed to the worker, never read from globals."""

    db: Database
    embedder: Embedder


def build_app(libpq_url: str) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url, kwargs={"options": SEARCH_PATH_OPTION}, min_size=1, max_size=4
    )
    app = procrastinate.App(connector=connector)

    @app.task(name="memory.embed_turn", queue=POST_TURN_QUEUE, pass_context=True, retry=5)
    async def embed_turn(context: procrastinate.JobContext, turn_id: str) -> None:
        worker: WorkerContext = context.additional_context["luna"]
        await memory_tasks.embed_turn(worker.db, worker.embedder, uuid.UUID(turn_id))

    return app


async def enqueue_post_turn(
    app: procrastinate.App, session: AsyncSession, turn_id: uuid.UUID
) -> int:
    """Defers the post-turn jobs inside the caller's transaction: they exist iff the turn does."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    task = app.tasks["memory.embed_turn"]
    job_id: Any = await task.configure(connection=raw.driver_connection).defer_async(
        turn_id=str(turn_id)
    )
    return int(job_id)
