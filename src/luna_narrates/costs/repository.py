"""The SQL of `model_pricing`. Statements run in the order written (not the ORM's flush order),
so a price is ended or removed before the one replacing it is added: the table allows one open
row per model and source."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.tables import ModelPricing

LOCK_KEY = 0x4C554E41_5052  # "LUNAPR": held while genai-prices' rows are synced
TABLE = ModelPricing.__table__


async def price_rows(session: AsyncSession) -> Sequence[Row[Any]]:
    return (await session.execute(select(TABLE))).all()


async def lock_for_sync(session: AsyncSession) -> None:
    """Processes that start together sync one after the other; the later finds nothing to do."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


async def rows_of(session: AsyncSession, source: str) -> Sequence[ModelPricing]:
    query = select(ModelPricing).where(ModelPricing.source == source)
    return (await session.scalars(query.order_by(ModelPricing.valid_from))).all()


async def listed(
    session: AsyncSession,
    at: datetime,
    *,
    provider: str | None,
    models: Sequence[str],
    history: bool,
) -> Sequence[ModelPricing]:
    """Rows in force at `at` (every row with `history`), optionally of one provider and of
    some model names."""
    query = select(ModelPricing)
    if not history:
        query = query.where(
            ModelPricing.valid_from <= at,
            or_(ModelPricing.valid_to.is_(None), ModelPricing.valid_to > at),
        )
    if provider is not None:
        query = query.where(ModelPricing.provider == provider)
    if models:
        query = query.where(ModelPricing.model.in_(models))
    order = (ModelPricing.provider, ModelPricing.model, ModelPricing.source)
    return (await session.scalars(query.order_by(*order, ModelPricing.valid_from))).all()


async def open_row(
    session: AsyncSession, provider: str, model: str, source: str
) -> ModelPricing | None:
    return await session.scalar(
        select(ModelPricing).where(
            ModelPricing.provider == provider,
            ModelPricing.model == model,
            ModelPricing.source == source,
            ModelPricing.valid_to.is_(None),
        )
    )


async def end(session: AsyncSession, ids: Sequence[uuid.UUID], at: datetime) -> None:
    """Ends rows at `at`; a row that would not yet have started by then is removed instead."""
    if not ids:
        return
    await session.execute(
        delete(ModelPricing).where(ModelPricing.id.in_(ids), ModelPricing.valid_from >= at)
    )
    await session.execute(
        update(ModelPricing)
        .where(ModelPricing.id.in_(ids), ModelPricing.valid_from < at)
        .values(valid_to=at)
    )


async def retime(session: AsyncSession, ends: dict[uuid.UUID, datetime | None]) -> None:
    """Moves the end of rows in force (None: until further notice)."""
    for row_id, valid_to in ends.items():
        await session.execute(
            update(ModelPricing).where(ModelPricing.id == row_id).values(valid_to=valid_to)
        )


async def add(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
    if not rows:
        return []
    rows = [{"id": uuid.uuid4(), **row} for row in rows]
    await session.execute(insert(ModelPricing), rows)
    return [row["id"] for row in rows]
