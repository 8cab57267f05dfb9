"""The SQL of the image pool's workers.

A render takes a slot with one UPDATE whose subquery locks the chosen row `FOR UPDATE SKIP
LOCKED`: two processes choosing at once never wait on each other, and the row each one locks is
re-read after the lock, so `in_flight < max_concurrent` holds for the row it increments. The slot
is committed before the worker is called and given back by another UPDATE afterwards; no
connection is held while the worker draws.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, cast, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from luna_narrates.config import ImageWorkerConfig
from luna_narrates.db.tables import ImageWorker

LOCK_KEY = 0x4C554E41_494D  # "LUNAIM": held while the settings' workers are mirrored


@dataclass(frozen=True)
class Slot:
    """A slot taken on a worker: what the pool needs to call it and to give the slot back."""

    id: uuid.UUID
    name: str
    api_type: str
    api_url: str


async def sync_configured(session: AsyncSession, workers: Sequence[ImageWorkerConfig]) -> None:
    """Upserts `workers` by name as configured; every other row becomes unconfigured. Health,
    load and statistics are left as they are (see `ImagePool.sync` on `in_flight`)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    for worker in workers:
        values = worker.model_dump(include={"api_type", "api_url", "max_concurrent", "priority"})
        statement = insert(ImageWorker).values(
            id=uuid.uuid4(), name=worker.name, configured=True, **values
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[ImageWorker.name], set_={**values, "configured": True}
            )
        )
    names = [worker.name for worker in workers]
    await session.execute(
        update(ImageWorker)
        .where(ImageWorker.configured, ImageWorker.name.not_in(names))
        .values(configured=False)
    )


async def take_slot(session: AsyncSession, tried: Collection[uuid.UUID]) -> Slot | None:
    """Takes a slot on the least-loaded online, configured worker not in `tried` that has one
    free (ties by priority, then name); `None` when none has one free or all are being taken."""
    free = aliased(ImageWorker, name="free")
    load = cast(free.in_flight, Float) / free.max_concurrent
    chosen = (
        select(free.id)
        .where(
            free.online,
            free.configured,
            free.in_flight < free.max_concurrent,
            free.id.not_in(tried),
        )
        .order_by(load, free.in_flight, free.priority, free.name)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    taken = await session.execute(
        update(ImageWorker)
        .where(ImageWorker.id == chosen)
        .values(in_flight=ImageWorker.in_flight + 1)
        .returning(ImageWorker.id, ImageWorker.name, ImageWorker.api_type, ImageWorker.api_url)
    )
    row = taken.one_or_none()
    return None if row is None else Slot(*row)


async def give_back(session: AsyncSession, worker_id: uuid.UUID) -> None:
    """Frees a slot without a verdict on the worker (the render was cancelled)."""
    await session.execute(update(ImageWorker).where(ImageWorker.id == worker_id).values(**_freed()))


async def record_success(session: AsyncSession, worker_id: uuid.UUID, seconds: float) -> None:
    await session.execute(
        update(ImageWorker)
        .where(ImageWorker.id == worker_id)
        .values(
            **_freed(),
            images_done=ImageWorker.images_done + 1,
            seconds_total=ImageWorker.seconds_total + seconds,
            consecutive_failures=0,
            last_error=None,
        )
    )


async def record_failure(
    session: AsyncSession,
    worker_id: uuid.UUID,
    error: str,
    *,
    worker_fault: bool,
    offline_after: int,
) -> bool:
    """Frees the slot and counts a failed image; a failure that is the worker's fault also counts
    towards `offline_after` in a row, which takes the worker offline. Whether it is still online."""
    failures = ImageWorker.consecutive_failures + (1 if worker_fault else 0)
    online = await session.scalar(
        update(ImageWorker)
        .where(ImageWorker.id == worker_id)
        .values(
            **_freed(),
            images_failed=ImageWorker.images_failed + 1,
            consecutive_failures=failures,
            last_error=error,
            online=ImageWorker.online & (failures < offline_after),
        )
        .returning(ImageWorker.online)
    )
    return bool(online)


def _freed() -> dict[str, object]:
    # Never below 0, so that a slot given back after an operator reset cannot break the CHECK.
    return {"in_flight": func.greatest(ImageWorker.in_flight - 1, 0)}


async def record_health(
    session: AsyncSession, worker_id: uuid.UUID, *, ok: bool, detail: str, at: datetime
) -> None:
    """A good heartbeat brings the worker (back) online with a clean slate; a bad one takes it
    offline until a good one."""
    values: dict[str, object] = (
        {"online": True, "consecutive_failures": 0, "last_heartbeat_at": at}
        if ok
        else {"online": False, "last_error": detail}
    )
    await session.execute(update(ImageWorker).where(ImageWorker.id == worker_id).values(values))


async def configured_workers(session: AsyncSession) -> Sequence[ImageWorker]:
    query = select(ImageWorker).where(ImageWorker.configured)
    return (await session.scalars(query.order_by(ImageWorker.priority, ImageWorker.name))).all()


async def all_workers(session: AsyncSession) -> Sequence[ImageWorker]:
    """Configured workers first (by priority, then name), then those no longer configured."""
    order = (ImageWorker.configured.desc(), ImageWorker.priority, ImageWorker.name)
    return (await session.scalars(select(ImageWorker).order_by(*order))).all()
