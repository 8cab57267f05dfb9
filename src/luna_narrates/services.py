"""The composition root: builds what the entry points need, once, and tears it down."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import procrastinate

from luna_narrates.config import Settings
from luna_narrates.costs import seeding
from luna_narrates.db import migrate
from luna_narrates.db.engine import Database, resolve_database_url
from luna_narrates.jobs.queue import WorkerContext, build_app, enqueue_post_turn
from luna_narrates.llm.embeddings import Embedder
from luna_narrates.llm.registry import ModelRegistry
from luna_narrates.narration.pipeline import Narrator
from luna_narrates.settings.service import SettingsStore

log = logging.getLogger("luna_narrates")


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
    jobs = build_app(url)
    embedder = Embedder()
    narrator = Narrator(
        db, registry, settings, embedder, functools.partial(enqueue_post_turn, jobs), store
    )
    services = Services(settings, db, registry, jobs, narrator, embedder, store)
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
            await db.dispose()


async def warm(embedder: Embedder) -> None:
    """A failure here is reported by the first turn that needs the embedder, and by doctor."""
    try:
        await asyncio.to_thread(embedder.warm)
    except Exception as error:  # logged; the turn that needs the embedder raises it
        log.warning("the embedder could not be loaded yet: %s", error)


async def run_job_worker(services: Services, *, wait: bool = True) -> None:
    await services.jobs.run_worker_async(
        install_signal_handlers=False,
        wait=wait,
        additional_context={
            "luna": WorkerContext(
                services.db, services.embedder, services.registry, services.settings, services.store
            )
        },
    )
