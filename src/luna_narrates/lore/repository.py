"""All SQL of the lore domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, any_, cast, delete, func, select, true, union, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.tables import Lorebook, LorebookEntry, LorebookKey, StoryLorebook


async def get_book(session: AsyncSession, lorebook_id: uuid.UUID) -> Lorebook | None:
    return await session.get(Lorebook, lorebook_id)


async def list_books(
    session: AsyncSession,
    owner_id: uuid.UUID,
    *,
    tier: str | None,
    universe: str | None,
    sort_by: str,
    limit: int,
    offset: int,
) -> tuple[Sequence[Lorebook], int]:
    query = select(Lorebook).where(Lorebook.owner_id == owner_id)
    if tier is not None:
        query = query.where(Lorebook.storage_tier == tier)
    if universe is not None:
        query = query.where(func.lower(Lorebook.universe_name) == universe.lower())
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    order = {
        "name": (func.lower(Lorebook.name), Lorebook.id),
        "entry_count": (Lorebook.entry_count.desc(), Lorebook.id),
        "created_at": (Lorebook.created_at.desc(), Lorebook.id),
        "updated_at": (Lorebook.updated_at.desc(), Lorebook.id),
    }[sort_by]
    rows = await session.scalars(query.order_by(*order).limit(limit).offset(offset))
    return rows.all(), int(total or 0)


async def entries(
    session: AsyncSession,
    lorebook_id: uuid.UUID,
    *,
    kind: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[Sequence[LorebookEntry], int]:
    query = select(LorebookEntry).where(LorebookEntry.lorebook_id == lorebook_id)
    if kind is not None:
        query = query.where(LorebookEntry.kind == kind)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    page = query.order_by(LorebookEntry.position).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return (await session.scalars(page)).all(), int(total or 0)


async def get_entry(
    session: AsyncSession, lorebook_id: uuid.UUID, entry_id: uuid.UUID
) -> LorebookEntry | None:
    entry = await session.get(LorebookEntry, entry_id)
    return entry if entry is not None and entry.lorebook_id == lorebook_id else None


async def uid_taken(session: AsyncSession, lorebook_id: uuid.UUID, uid: str) -> bool:
    query = select(LorebookEntry.id).where(
        LorebookEntry.lorebook_id == lorebook_id, LorebookEntry.uid == uid
    )
    return (await session.scalar(query)) is not None


async def next_position(session: AsyncSession, lorebook_id: uuid.UUID) -> int:
    query = select(func.max(LorebookEntry.position)).where(LorebookEntry.lorebook_id == lorebook_id)
    return int((await session.scalar(query)) or -1) + 1


async def uids(session: AsyncSession, lorebook_id: uuid.UUID) -> list[str]:
    query = select(LorebookEntry.uid).where(LorebookEntry.lorebook_id == lorebook_id)
    return list((await session.scalars(query)).all())


async def recount(session: AsyncSession, lorebook_id: uuid.UUID) -> None:
    count = select(func.count()).where(LorebookEntry.lorebook_id == lorebook_id).scalar_subquery()
    await session.execute(
        update(Lorebook)
        .where(Lorebook.id == lorebook_id)
        .values(entry_count=count, updated_at=func.now())
    )


async def delete_book(session: AsyncSession, lorebook_id: uuid.UUID) -> bool:
    result = await session.execute(delete(Lorebook).where(Lorebook.id == lorebook_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def story_books(
    session: AsyncSession, story_id: uuid.UUID, character_books: Sequence[uuid.UUID]
) -> Sequence[Lorebook]:
    """The books a story uses: attached to it, or belonging to a character in it."""
    attached = select(StoryLorebook.lorebook_id).where(StoryLorebook.story_id == story_id)
    query = select(Lorebook).where(
        Lorebook.id.in_(attached) | Lorebook.id.in_(list(character_books))
    )
    return (await session.scalars(query.order_by(Lorebook.created_at, Lorebook.id))).all()


async def candidate_entries(
    session: AsyncSession,
    hot: Sequence[uuid.UUID],
    indexed: Sequence[uuid.UUID],
    text_keys: Sequence[str],
) -> Sequence[Any]:
    """Every enabled entry of the hot books; of warm and cold books, the constant ones and
    those one of whose keys the scanned text holds (looked up in lorebook_keys)."""
    chosen = union(
        select(LorebookEntry.id).where(LorebookEntry.lorebook_id.in_(list(hot))),
        select(LorebookEntry.id).where(
            LorebookEntry.lorebook_id.in_(list(indexed)), LorebookEntry.constant
        ),
        select(LorebookKey.entry_id).where(
            LorebookKey.lorebook_id.in_(list(indexed)),
            LorebookKey.key == any_(cast(list(text_keys), ARRAY(Text))),
        ),
    ).subquery()
    # Rows, not ORM objects: a hot book hands over all its entries on every turn.
    query = select(
        LorebookEntry.id, LorebookEntry.lorebook_id, LorebookEntry.fields, LorebookEntry.packed
    ).where(LorebookEntry.id.in_(select(chosen.c[0])), LorebookEntry.enabled)
    return (await session.execute(query.order_by(LorebookEntry.position))).all()


async def similar_entries(
    session: AsyncSession,
    books: Sequence[uuid.UUID],
    vector: Sequence[float],
    k: int,
    exclude: Sequence[uuid.UUID],
) -> list[tuple[LorebookEntry, float]]:
    """The enabled entries nearest the action in meaning, with their cosine similarity."""
    distance = LorebookEntry.embedding.cosine_distance(list(vector))
    query = (
        select(LorebookEntry, (1 - distance).label("similarity"))
        .where(
            LorebookEntry.lorebook_id.in_(list(books)),
            LorebookEntry.enabled,
            LorebookEntry.embedding.is_not(None),
            LorebookEntry.id.not_in(list(exclude)) if exclude else true(),
        )
        .order_by(distance)
        .limit(k)
    )
    return [(row[0], float(row[1])) for row in (await session.execute(query)).all()]


async def unembedded(session: AsyncSession, lorebook_id: uuid.UUID, limit: int) -> list[Any]:
    query = (
        select(LorebookEntry.id, LorebookEntry.fields)
        .join(Lorebook, Lorebook.id == LorebookEntry.lorebook_id)
        .where(
            LorebookEntry.lorebook_id == lorebook_id,
            LorebookEntry.embedding.is_(None),
            LorebookEntry.fields.is_not(None),
            Lorebook.storage_tier.in_(("hot", "warm")),
        )
        .order_by(LorebookEntry.position)
        .limit(limit)
    )
    return list((await session.execute(query)).all())


async def story_link(
    session: AsyncSession, story_id: uuid.UUID, lorebook_id: uuid.UUID
) -> StoryLorebook | None:
    return await session.get(StoryLorebook, (story_id, lorebook_id))


async def attached(session: AsyncSession, story_id: uuid.UUID) -> Sequence[Lorebook]:
    query = (
        select(Lorebook)
        .join(StoryLorebook, StoryLorebook.lorebook_id == Lorebook.id)
        .where(StoryLorebook.story_id == story_id)
        .order_by(StoryLorebook.created_at, Lorebook.id)
    )
    return (await session.scalars(query)).all()
