"""The composition root: builds what the entry points need, once, and tears it down."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import procrastinate

from luna_narrates.config import Settings
from luna_narrates.costs import seeding
from luna_narrates.db import migrate
from luna_narrates.db.engine import Database, resolve_database_url
from luna_narrates.images.pool import ImagePool
from luna_narrates.jobs.queue import (
    IMAGES_QUEUE,
    QUEUES,
    WorkerContext,
    build_app,
    enqueue_post_turn,
)
from luna_narrates.llm.embeddings import Embedder
from luna_narrates.llm.registry import ModelRegistry
from luna_narrates.narration.pipeline import Narrator
from luna_narrates.settings.service import SettingsStore

log = logging.getLogger("luna_narrates")
IMAGE_RENDERS_AT_ONCE = 4
HEARTBEAT_SECONDS = 60.0


@dataclass
class Services:
    """What the routes need, built once at start-up and passed in through dependencies."""

    settings: Settings
    db: Database
    registry: ModelRegistry
    jobs: procrastinate.App
    narrator: Narrator
    embedder: Embedder
    store: SettingsStore
    pool: ImagePool


@asynccontextmanager
async def open_services(settings: Settings, *, run_worker: bool) -> AsyncIterator[Services]:
    url = await asyncio.to_thread(resolve_database_url, settings)
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database.connect(url)
    async with db.transaction() as session:
        synced = await seeding.sync(session)
    if synced.added or synced.ended:
        log.info("model prices from genai-prices: %d added, %d ended", synced.added, synced.ended)
    registry = ModelRegistry(settings)
    store = SettingsStore(settings, db, registry)
    await store.refresh()
    pool = ImagePool(db, settings)
    await pool.sync()
    jobs = build_app(url)
    embedder = Embedder()
    narrator = Narrator(
        db, registry, settings, embedder, functools.partial(enqueue_post_turn, jobs)
    )
    services = Services(settings, db, registry, jobs, narrator, embedder, store, pool)
    worker: asyncio.Task[None] | None = None
    # Every turn embeds its action; load the embedder while the server waits for the first.
    warming = asyncio.create_task(warm(embedder), name="luna-embedder")
    async with jobs.open_async():
        if run_worker:
            worker = asyncio.create_task(run_job_worker(services), name="luna-worker")
        try:
            yield services
        finally:
            await warming
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            await pool.aclose()
            await db.dispose()


async def warm(embedder: Embedder) -> None:
    """A failure here is reported by the first turn that needs the embedder, and by doctor."""
    try:
        await asyncio.to_thread(embedder.warm)
    except Exception as error:  # logged; the turn that needs the embedder raises it
        log.warning("the embedder could not be loaded yet: %s", error)


async def run_job_worker(services: Services, *, wait: bool = True) -> None:
    """Memory and lore jobs one at a time (they share the embedded model); image renders, which
    wait on GPUs elsewhere, several at once on a worker of their own."""
    context = {
        "luna": WorkerContext(
            services.db,
            services.embedder,
            services.registry,
            services.settings,
            services.store,
            services.pool,
        )
    }
    heartbeat = asyncio.create_task(beat(services.pool)) if wait else None
    try:
        await asyncio.gather(*workers(services, context, wait))
    finally:
        if heartbeat is not None:
            heartbeat.cancel()


def workers(services: Services, context: dict[str, Any], wait: bool) -> list[Awaitable[None]]:
    return [
        services.jobs.run_worker_async(
            queues=list(QUEUES),
            install_signal_handlers=False,
            wait=wait,
            additional_context=context,
        ),
        services.jobs.run_worker_async(
            queues=[IMAGES_QUEUE],
            name="images",
            concurrency=IMAGE_RENDERS_AT_ONCE,
            install_signal_handlers=False,
            wait=wait,
            additional_context=context,
        ),
    ]


async def beat(pool: ImagePool) -> None:
    """Every minute, asks each GPU worker how it is: brings back one taken offline after
    failures, and takes away one that went down."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        if pool.configured:
            try:
                await pool.heartbeat()
            except Exception as error:  # logged; the next beat tries again
                log.warning("image worker heartbeat failed: %s", error)
