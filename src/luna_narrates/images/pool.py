"""The GPU worker pool: which worker draws each render, failover, and every worker's health, load
and statistics, kept in `image_workers` so that every process (the API, the job workers) shares
them.

    pool = ImagePool(db, settings)
    await pool.sync()  # at start-up: the settings' workers, mirrored
    result = await pool.render(ImageRequest(prompt="a lighthouse at dusk"))
    result.image.png, result.worker_name

A render takes a slot on the least-loaded online worker (`repository.take_slot`, atomic across
processes) and commits it, calls the worker with no database connection held, then gives the
slot back with the outcome. A failure the worker is to blame for (`retryable`) moves the render
to a worker it has not tried yet; one the request is to blame for is raised at once, since every
worker would refuse it alike. `OFFLINE_AFTER` worker failures in a row take a worker offline;
only a heartbeat that finds it well brings it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, Self, cast

from pydantic import BaseModel, Field

from luna_narrates.config import Settings
from luna_narrates.db.engine import Database
from luna_narrates.db.health import mask_database_url
from luna_narrates.db.tables import ImageWorker
from luna_narrates.images import repository, workers
from luna_narrates.images.errors import ImageWorkerError, NoImageWorker
from luna_narrates.images.repository import Slot
from luna_narrates.images.schemas import ImageRequest, RenderedImage
from luna_narrates.images.workers import ApiType, ImageWorkerClient

log = logging.getLogger("luna_narrates")

OFFLINE_AFTER = 3
"""Worker failures in a row (retryable ones: the worker's fault) that take a worker offline."""
FIRST_WAIT_SECONDS = 0.05
LONGEST_WAIT_SECONDS = 1.0
"""While every worker is busy, a render looks again after this long at the most (a slot freed
in this process wakes it at once; one freed by another process is seen at the next look)."""
LEASE_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class PoolResult:
    image: RenderedImage
    worker_id: uuid.UUID
    worker_name: str


@dataclass(frozen=True)
class Heartbeat:
    worker_name: str
    ok: bool
    detail: str


class ImageWorkerOut(BaseModel):
    """A worker as the API lists it: its settings, health, load and statistics."""

    name: str
    api_type: str
    api_url: str = Field(description="With a password in it masked.")
    max_concurrent: int
    priority: int
    online: bool
    configured: bool = Field(description="False once the worker has left LUNA_IMAGE_WORKERS.")
    in_flight: int
    images_done: int
    images_failed: int
    average_seconds: float | None = Field(description="Per image done; none before the first.")
    last_error: str | None
    last_heartbeat_at: datetime | None

    @classmethod
    def of(cls, row: ImageWorker) -> Self:
        return cls(
            name=row.name,
            api_type=row.api_type,
            api_url=mask_database_url(row.api_url),
            max_concurrent=row.max_concurrent,
            priority=row.priority,
            online=row.online,
            configured=row.configured,
            in_flight=row.in_flight,
            images_done=row.images_done,
            images_failed=row.images_failed,
            average_seconds=row.seconds_total / row.images_done if row.images_done else None,
            last_error=row.last_error,
            last_heartbeat_at=row.last_heartbeat_at,
        )


class ClientFactory(Protocol):
    def __call__(self, api_type: ApiType, api_url: str, *, timeout: float) -> ImageWorkerClient: ...


class ImagePool:
    """The workers of `settings.luna_image_workers`, shared through the database with every other
    process's pool. Clients are made once per worker and closed by `aclose`."""

    def __init__(
        self, db: Database, settings: Settings, *, client_for: ClientFactory = workers.client_for
    ) -> None:
        self.db = db
        self.settings = settings
        self._client_for = client_for
        self._clients: dict[tuple[str, str, str], ImageWorkerClient] = {}
        self._slot_freed = asyncio.Event()

    @property
    def configured(self) -> bool:
        """Whether the settings list any worker; without one, images come from elsewhere."""
        return bool(self.settings.luna_image_workers)

    async def sync(self) -> None:
        """Mirrors the settings' workers into `image_workers`; workers that left the settings stay
        (their images keep their history) but are never picked again. Slots are left alone:
        another process's renders may hold some; those a crashed process left expire
        (`lease_seconds`)."""
        async with self.db.transaction() as session:
            await repository.sync_configured(session, self.settings.luna_image_workers)

    async def render(self, request: ImageRequest) -> PoolResult:
        """Draws `request` on the least-loaded worker, failing over to the others; raises the
        worker's `ImageWorkerError` when the request is at fault, `NoImageWorker` when no worker
        is left to try or all stayed busy for `image_timeout_seconds`."""
        tried: dict[uuid.UUID, str] = {}
        while True:
            slot = await self._take_slot(tried)
            try:
                image = await self._draw(slot, request)
            except ImageWorkerError as error:
                if not error.retryable:
                    raise
                tried[slot.id] = _masked(error.message, slot.api_url)
                log.warning("image worker %s failed, trying another: %s", slot.name, error)
                continue
            return PoolResult(image, slot.id, slot.name)

    async def heartbeat(self) -> list[Heartbeat]:
        """Asks every configured worker how it is, all at once, and records the answers: a worker
        that answers well is online with its failures forgotten; one that does not is offline."""
        async with self.db.sessions() as session:
            rows = await repository.configured_workers(session)
        healths = await asyncio.gather(
            *(self._client(row.name, row.api_type, row.api_url).health() for row in rows)
        )
        now = datetime.now(UTC)
        beats = [
            Heartbeat(row.name, health.ok, _masked(health.detail, row.api_url))
            for row, health in zip(rows, healths, strict=True)
        ]
        async with self.db.transaction() as session:
            for row, beat in zip(rows, beats, strict=True):
                await repository.record_health(
                    session, row.id, ok=beat.ok, detail=beat.detail, at=now
                )
        return beats

    async def workers(self) -> list[ImageWorkerOut]:
        async with self.db.sessions() as session:
            rows = await repository.all_workers(session)
        return [ImageWorkerOut.of(row) for row in rows]

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    # Slots.

    async def _take_slot(self, tried: Mapping[uuid.UUID, str]) -> Slot:
        """A slot on a worker not tried yet, waiting while every such worker is busy."""
        loop = asyncio.get_running_loop()
        patience = self.settings.image_timeout_seconds
        waited_enough = loop.time() + patience
        delay = FIRST_WAIT_SECONDS
        while (slot := await self._try_slot(tried)) is None:
            async with self.db.sessions() as session:
                rows = await repository.configured_workers(session)
            if not rows:
                raise NoImageWorker("no image worker is configured: set LUNA_IMAGE_WORKERS", {})
            if not any(row.online and row.id not in tried for row in rows):
                problem = "no image worker left: each is offline or has failed this render"
                raise NoImageWorker(problem, _why_not(rows, tried))
            if (left := waited_enough - loop.time()) <= 0:
                problem = f"every image worker stayed busy for {patience:g} s"
                raise NoImageWorker(problem, _why_not(rows, tried))
            await self._wait_for_a_slot(min(delay, left))
            delay = min(delay * 2, LONGEST_WAIT_SECONDS)
        return slot

    async def _try_slot(self, tried: Mapping[uuid.UUID, str]) -> Slot | None:
        """Takes a slot if one is free. The taking is shielded: a render cancelled meanwhile gives
        the slot back rather than leaking it (nothing else would free it)."""
        taking = asyncio.create_task(self._take(list(tried)))
        try:
            return await asyncio.shield(taking)
        except asyncio.CancelledError:
            if (slot := await taking) is not None:
                await self._give_back(slot)
            raise

    async def _take(self, tried: Sequence[uuid.UUID]) -> Slot | None:
        async with self.db.transaction() as session:
            return await repository.take_slot(session, tried, self.lease_seconds)

    @property
    def lease_seconds(self) -> float:
        """How long a slot is held at the most: a render ends (drawn, failed or timed out)
        within `image_timeout_seconds`; twice that and a minute more, its process is gone."""
        return 2 * self.settings.image_timeout_seconds + LEASE_MARGIN_SECONDS

    async def _wait_for_a_slot(self, seconds: float) -> None:
        """Until a render of this process gives its slot back, or `seconds` (another process's
        may have)."""
        freed = self._slot_freed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await freed.wait()

    def _slot_given_back(self) -> None:
        self._slot_freed.set()
        self._slot_freed = asyncio.Event()

    # Rendering.

    async def _draw(self, slot: Slot, request: ImageRequest) -> RenderedImage:
        """Renders in the slot, then gives it back with the outcome (without one when the render
        was cancelled)."""
        client = self._client(slot.name, slot.api_type, slot.api_url)
        try:
            image = await client.render(request)
        except ImageWorkerError as error:
            await asyncio.shield(self._record_failure(slot, error))
            raise
        except BaseException:
            await asyncio.shield(self._give_back(slot))
            raise
        await asyncio.shield(self._record_success(slot, image.seconds))
        return image

    async def _record_success(self, slot: Slot, seconds: float) -> None:
        async with self.db.transaction() as session:
            await repository.record_success(session, slot, seconds)
        self._slot_given_back()

    async def _record_failure(self, slot: Slot, error: ImageWorkerError) -> None:
        """A retryable failure is the worker's fault (unreachable, overloaded, lacking a model)
        and counts towards taking it offline; another is the request's, and does not."""
        async with self.db.transaction() as session:
            online = await repository.record_failure(
                session,
                slot,
                _masked(error.message, slot.api_url),
                worker_fault=error.retryable,
                offline_after=OFFLINE_AFTER,
            )
        self._slot_given_back()
        if not online:
            log.warning("image worker %s is offline until a heartbeat finds it well", slot.name)

    async def _give_back(self, slot: Slot) -> None:
        async with self.db.transaction() as session:
            await repository.give_back(session, slot)
        self._slot_given_back()

    def _client(self, name: str, api_type: str, api_url: str) -> ImageWorkerClient:
        key = (name, api_type, api_url)
        if (client := self._clients.get(key)) is None:
            timeout = self.settings.image_timeout_seconds
            client = self._client_for(cast(ApiType, api_type), api_url, timeout=timeout)
            self._clients[key] = client
        return client


def _why_not(rows: Sequence[ImageWorker], tried: Mapping[uuid.UUID, str]) -> dict[str, str]:
    """Each configured worker's name → why it cannot take the render."""
    return {row.name: _reason(row, tried.get(row.id)) for row in rows}


def _reason(row: ImageWorker, failed: str | None) -> str:
    if failed is not None:
        return f"failed this render: {failed}"
    if not row.online:
        return f"offline: {row.last_error or 'no reason recorded'}"
    return f"busy, {row.in_flight} of {row.max_concurrent} renders"


def _masked(text: str, api_url: str) -> str:
    """The clients name a worker by its URL, which may carry a password: masked, as the API
    shows the URL."""
    url = api_url.rstrip("/")
    return text.replace(url, mask_database_url(url))
