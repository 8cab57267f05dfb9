"""The procrastinate app and the task registry; tasks call into the domain packages.

A story's memory jobs share a lock: procrastinate runs jobs with the same lock one at a time,
in the order they were deferred, so turn N is remembered before turn N+1 and an arc after
the turns it sums up.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.engine import SEARCH_PATH_OPTION
from luna_narrates.images import service as images
from luna_narrates.jobs import dreaming, memory
from luna_narrates.jobs.memory import WorkerContext
from luna_narrates.lore import tasks as lore_tasks
from luna_narrates.memory import tasks as memory_tasks

POST_TURN_QUEUE = "post_turn"
LORE_QUEUE = "lore"
# Renders wait on GPUs elsewhere, so they get a worker of their own that runs several at once.
IMAGES_QUEUE = "images"
# The Dreamer calls a model, like the memory jobs: same worker, one job at a time.
DREAMER_QUEUE = "dreamer"
QUEUES = (POST_TURN_QUEUE, LORE_QUEUE, DREAMER_QUEUE)

__all__ = ["WorkerContext", "build_app", "enqueue_lore_embedding", "enqueue_post_turn"]


# Jobs for the pictures a player waits for go before the Dreamer's speculative renders (which
# keep procrastinate's default priority, 0) in the images queue; one already drawing is not
# interrupted.
TURN_IMAGES = 10


def memory_lock(story_id: uuid.UUID | str) -> str:
    return f"memory:{story_id}"


def dreamer_lock(story_id: uuid.UUID | str) -> str:
    return f"dreamer:{story_id}"


def images_lock(story_id: uuid.UUID | str) -> str:
    """A story's turns are planned in order: a background is reused only once drawn."""
    return f"images:{story_id}"


def build_app(libpq_url: str) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url, kwargs={"options": SEARCH_PATH_OPTION}, min_size=1, max_size=4
    )
    app = procrastinate.App(connector=connector)

    async def worker(context: procrastinate.JobContext) -> WorkerContext:
        """The job's context, with the settings as they stand now (another process may have
        changed them): once per job, as once per HTTP request."""
        found: WorkerContext = context.additional_context["luna"]
        await found.store.refresh()
        return found

    @app.task(name="memory.index_turn", queue=POST_TURN_QUEUE, pass_context=True, retry=5)
    async def index_turn(context: procrastinate.JobContext, turn_id: str) -> None:
        luna = await worker(context)
        await memory_tasks.index_turn(luna.db, luna.embedder, uuid.UUID(turn_id))

    @app.task(name="memory.remember_turn", queue=POST_TURN_QUEUE, pass_context=True, retry=3)
    async def remember_turn(
        context: procrastinate.JobContext,
        turn_id: str,
        extractor: str | None = None,
        summariser: str | None = None,
    ) -> None:
        """`extractor` and `summariser`: the turn's overrides of those roles' models."""
        if await memory.remember_turn(await worker(context), uuid.UUID(turn_id), extractor):
            lock = context.job.lock
            arc = {"summariser": summariser} if summariser else {}
            await summarize_arc.configure(lock=lock).defer_async(turn_id=turn_id, **arc)

    @app.task(name="memory.summarize_arc", queue=POST_TURN_QUEUE, pass_context=True, retry=3)
    async def summarize_arc(
        context: procrastinate.JobContext, turn_id: str, summariser: str | None = None
    ) -> None:
        await memory.summarize_arc(await worker(context), uuid.UUID(turn_id), summariser)

    @app.task(name="images.plan_turn", queue=IMAGES_QUEUE, pass_context=True, retry=3)
    async def plan_turn(context: procrastinate.JobContext, turn_id: str) -> None:
        luna = await worker(context)
        for image_id in await images.plan_turn(luna.db, luna.settings, uuid.UUID(turn_id)):
            await render_image.configure(priority=TURN_IMAGES).defer_async(image_id=str(image_id))

    @app.task(name="images.render", queue=IMAGES_QUEUE, pass_context=True, retry=2)
    async def render_image(context: procrastinate.JobContext, image_id: str) -> None:
        luna = await worker(context)
        await images.render(
            luna.db, luna.pool, luna.settings, luna.settings.luna_data_dir, uuid.UUID(image_id)
        )

    @app.task(name="dreamer.dream", queue=DREAMER_QUEUE, pass_context=True, retry=2)
    async def dream(
        context: procrastinate.JobContext,
        story_id: str,
        turn_id: str | None,
        dreamer: str | None = None,
    ) -> None:
        """After a turn (`turn_id`, and its override of the Dreamer's model), or while the
        story is idle (None); then it dreams again after `dreamer_idle_interval_seconds` while
        the story was played recently."""
        luna = await worker(context)
        story = uuid.UUID(story_id)
        turn = uuid.UUID(turn_id) if turn_id else None
        for image_id in await dreaming.dream(luna, story, turn, dreamer):
            await render_image.defer_async(image_id=str(image_id))
        if luna.settings.dreamer_continuous_generation and await dreaming.still_active(luna, story):
            with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
                # No lock: a job waits for every earlier job of its lock, and this one waits
                # minutes for its time; the queueing lock keeps one idle dream per story.
                await dream.configure(
                    queueing_lock=f"dreamer-idle:{story}",
                    schedule_in={"seconds": int(luna.settings.dreamer_idle_interval_seconds)},
                ).defer_async(story_id=story_id, turn_id=None)

    @app.task(name="lore.embed_entries", queue=LORE_QUEUE, pass_context=True, retry=3)
    async def embed_entries(context: procrastinate.JobContext, lorebook_id: str) -> None:
        luna = await worker(context)
        await lore_tasks.embed_entries(luna.db, luna.embedder, uuid.UUID(lorebook_id))

    return app


async def enqueue_lore_embedding(
    app: procrastinate.App, session: AsyncSession, lorebook_id: uuid.UUID
) -> None:
    """Inside the caller's transaction, so the job exists iff the change does. Runs for one
    book take turns (the lock); a run that finds nothing left to embed ends at once."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    task = app.tasks["lore.embed_entries"]
    await task.configure(connection=raw.driver_connection, lock=f"lore:{lorebook_id}").defer_async(
        lorebook_id=str(lorebook_id)
    )


async def enqueue_post_turn(
    app: procrastinate.App,
    session: AsyncSession,
    story_id: uuid.UUID,
    turn_id: uuid.UUID,
    arcs: Sequence[uuid.UUID] = (),
    *,
    images: bool = False,
    dreams: bool = False,
    models: Mapping[str, str] | None = None,
) -> list[int]:
    """Defers the post-turn jobs inside the caller's transaction: they exist iff the turn does.
    `arcs` (last turns of arcs whose summary a changed turn made stale) are summed up again
    after the turn is remembered; `images` plans the turn's images too, and `dreams` has the
    Dreamer mark what the turn used and dream on."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    models = models or {}
    # Only the overrides given travel with a job: a job without one uses the settings.
    remember = {role: models[role] for role in ("extractor", "summariser") if role in models}
    deferred: list[tuple[str, uuid.UUID, dict[str, str]]] = [
        ("memory.index_turn", turn_id, {}),
        ("memory.remember_turn", turn_id, remember),
    ]
    deferred += [("memory.summarize_arc", arc_turn, {}) for arc_turn in arcs]
    ids: list[int] = []
    for name, target, overrides in deferred:
        task = app.tasks[name]
        job_id: Any = await task.configure(
            connection=raw.driver_connection, lock=memory_lock(story_id)
        ).defer_async(turn_id=str(target), **overrides)
        ids.append(int(job_id))
    if images:
        job_id = (
            await app.tasks["images.plan_turn"]
            .configure(
                connection=raw.driver_connection, lock=images_lock(story_id), priority=TURN_IMAGES
            )
            .defer_async(turn_id=str(turn_id))
        )
        ids.append(int(job_id))
    if dreams:
        job_id = (
            await app.tasks["dreamer.dream"]
            .configure(connection=raw.driver_connection, lock=dreamer_lock(story_id))
            .defer_async(
                story_id=str(story_id),
                turn_id=str(turn_id),
                **{role: models[role] for role in ("dreamer",) if role in models},
            )
        )
        ids.append(int(job_id))
    return ids
