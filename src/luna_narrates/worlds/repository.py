"""All SQL of the worlds domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.tables import CharacterCard, LorebookEntry, World, WorldCharacter


async def get(session: AsyncSession, world_id: uuid.UUID) -> World | None:
    return await session.get(World, world_id)


async def listing(
    session: AsyncSession, owner_id: uuid.UUID, *, genre: str | None, limit: int, offset: int
) -> tuple[Sequence[World], int]:
    query = select(World).where(World.owner_id == owner_id)
    if genre:
        query = query.where(func.lower(World.genre) == genre.lower())
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    page = query.order_by(World.updated_at.desc(), World.id).limit(limit).offset(offset)
    return (await session.scalars(page)).all(), int(total or 0)


async def characters(
    session: AsyncSession, world_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[CharacterCard]]:
    query = (
        select(WorldCharacter.world_id, CharacterCard)
        .join(CharacterCard, CharacterCard.id == WorldCharacter.character_id)
        .where(WorldCharacter.world_id.in_(list(world_ids)))
        .order_by(WorldCharacter.created_at, CharacterCard.name)
    )
    found: dict[uuid.UUID, list[CharacterCard]] = {i: [] for i in world_ids}
    for world_id, card in (await session.execute(query)).all():
        found[world_id].append(card)
    return found


async def kind_counts(
    session: AsyncSession, lorebook_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], int]:
    query = (
        select(LorebookEntry.lorebook_id, LorebookEntry.kind, func.count())
        .where(LorebookEntry.lorebook_id.in_(list(lorebook_ids)))
        .group_by(LorebookEntry.lorebook_id, LorebookEntry.kind)
    )
    return {(book, kind): int(n) for book, kind, n in (await session.execute(query)).all()}


async def link(
    session: AsyncSession, world_id: uuid.UUID, character_id: uuid.UUID
) -> WorldCharacter | None:
    return await session.get(WorldCharacter, (world_id, character_id))


async def delete_world(session: AsyncSession, world_id: uuid.UUID) -> bool:
    result = await session.execute(delete(World).where(World.id == world_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
