"""The SQL of the image pool's workers.

A render takes a slot with one UPDATE whose subquery locks the chosen row `FOR UPDATE SKIP
LOCKED`: two processes choosing at once never wait on each other, and the row each one locks is
re-read after the lock, so `in_flight < max_concurrent` holds for the row it increments. The slot
is a row of `image_worker_slots` that expires; it is committed before the worker is called and
given back afterwards; no connection is held while the worker draws.

A process that crashes mid-render cannot give its slots back; each take first takes back the
expired ones. A slot is given back once: a render that outlived its slot (taken back meanwhile)
frees nothing more when it ends.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Float, cast, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from luna_narrates.config import ImageWorkerConfig
from luna_narrates.db.tables import ImageWorker, ImageWorkerSlot

log = logging.getLogger("luna_narrates")

LOCK_KEY = 0x4C554E41_494D  # "LUNAIM": held while the settings' workers are mirrored


@dataclass(frozen=True)
class Slot:
    """A slot taken on a worker: what the pool needs to call it and to give the slot back."""

    id: uuid.UUID  # the worker's
    name: str
    api_type: str
    api_url: str
    lease: uuid.UUID  # the slot's row


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


async def take_slot(
    session: AsyncSession, tried: Collection[uuid.UUID], lease_seconds: float
) -> Slot | None:
    """Takes a slot for `lease_seconds` on the least-loaded online, configured worker not in
    `tried` that has one free (ties by priority, then name); `None` when none has one free or
    all are being taken."""
    await take_back_expired(session)
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
    if row is None:
        return None
    lease = uuid.uuid4()
    expires = func.now() + timedelta(seconds=lease_seconds)
    await session.execute(
        insert(ImageWorkerSlot).values(id=lease, worker_id=row.id, expires_at=expires)
    )
    return Slot(*row, lease=lease)


async def take_back_expired(session: AsyncSession) -> int:
    """Frees the slots whose time is up: renders of a process that crashed."""
    ended = (
        await session.scalars(
            delete(ImageWorkerSlot)
            .where(ImageWorkerSlot.expires_at <= func.now())
            .returning(ImageWorkerSlot.worker_id)
        )
    ).all()
    for worker_id, count in Counter(ended).items():
        await session.execute(
            update(ImageWorker)
            .where(ImageWorker.id == worker_id)
            .values(in_flight=func.greatest(ImageWorker.in_flight - count, 0))
        )
    if ended:
        log.warning("took back %d image worker slot(s) left taken past their time", len(ended))
    return len(ended)


async def give_back(session: AsyncSession, slot: Slot) -> None:
    """Frees a slot without a verdict on the worker (the render was cancelled)."""
    if freed := await _freed(session, slot):
        await session.execute(update(ImageWorker).where(ImageWorker.id == slot.id).values(freed))


async def record_success(session: AsyncSession, slot: Slot, seconds: float) -> None:
    await session.execute(
        update(ImageWorker)
        .where(ImageWorker.id == slot.id)
        .values(
            **await _freed(session, slot),
            images_done=ImageWorker.images_done + 1,
            seconds_total=ImageWorker.seconds_total + seconds,
            consecutive_failures=0,
            last_error=None,
        )
    )


async def record_failure(
    session: AsyncSession,
    slot: Slot,
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
        .where(ImageWorker.id == slot.id)
        .values(
            **await _freed(session, slot),
            images_failed=ImageWorker.images_failed + 1,
            consecutive_failures=failures,
            last_error=error,
            online=ImageWorker.online & (failures < offline_after),
        )
        .returning(ImageWorker.online)
    )
    return bool(online)


async def _freed(session: AsyncSession, slot: Slot) -> dict[str, object]:
    """Ends the slot; the load goes down only if it had not been taken back already. Never
    below 0, so that a slot given back after an operator reset cannot break the CHECK."""
    ended = await session.scalar(
        delete(ImageWorkerSlot)
        .where(ImageWorkerSlot.id == slot.lease)
        .returning(ImageWorkerSlot.id)
    )
    if ended is None:
        return {}
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
