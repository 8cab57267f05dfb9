"""All SQL of timelines."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from luna_narrates.db.tables import Branch, Turn


async def story_branches(session: AsyncSession, story_id: uuid.UUID) -> Sequence[Branch]:
    return (await session.scalars(select(Branch).where(Branch.story_id == story_id))).all()


async def own_turn_stats(
    session: AsyncSession, story_id: uuid.UUID
) -> dict[uuid.UUID, tuple[int, int | None]]:
    """Per branch: how many turns it owns and the last of them."""
    query = (
        select(Turn.branch_id, func.count(), func.max(Turn.turn_number))
        .where(Turn.story_id == story_id, Turn.is_selected)
        .group_by(Turn.branch_id)
    )
    return {b: (count, last) for b, count, last in (await session.execute(query)).all()}


async def set_active(session: AsyncSession, story_id: uuid.UUID, branch_id: uuid.UUID) -> None:
    # Two statements: the one-active-branch index is checked row by row.
    await session.execute(
        update(Branch).where(Branch.story_id == story_id, Branch.is_active).values(is_active=False)
    )
    await session.execute(update(Branch).where(Branch.id == branch_id).values(is_active=True))


async def delete_branch(session: AsyncSession, branch_id: uuid.UUID) -> int:
    """Deletes the branch with its own turns (and, through them, their memory); answers how
    many turns, all versions counted, went with it."""
    turns = await session.scalar(
        select(func.count()).select_from(Turn).where(Turn.branch_id == branch_id)
    )
    await session.execute(delete(Branch).where(Branch.id == branch_id))
    return int(turns or 0)


def turns_of(branch_ids: list[uuid.UUID], after: int = 0) -> Select[uuid.UUID]:
    """The ids of the branches' own turns after turn `after`, every version."""
    return select(Turn.id).where(Turn.branch_id.in_(branch_ids), Turn.turn_number > after)


async def delete_turns_after(session: AsyncSession, branch_id: uuid.UUID, after: int) -> int:
    result = await session.execute(delete(Turn).where(Turn.id.in_(turns_of([branch_id], after))))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def versions(session: AsyncSession, branch_id: uuid.UUID, turn_number: int) -> list[Turn]:
    query = (
        select(Turn)
        .where(Turn.branch_id == branch_id, Turn.turn_number == turn_number)
        .order_by(Turn.version)
    )
    return list((await session.scalars(query)).all())


async def next_version(session: AsyncSession, branch_id: uuid.UUID, turn_number: int) -> int:
    """The number the next take of the turn gets: after the highest, gaps or not."""
    highest = await session.scalar(
        select(func.max(Turn.version)).where(
            Turn.branch_id == branch_id, Turn.turn_number == turn_number
        )
    )
    return int(highest or 0) + 1


async def version(
    session: AsyncSession, branch_id: uuid.UUID, turn_number: int, number: int
) -> Turn | None:
    query = (
        select(Turn)
        .where(Turn.branch_id == branch_id, Turn.turn_number == turn_number, Turn.version == number)
        .options(selectinload(Turn.agent_runs))
    )
    return (await session.scalars(query)).one_or_none()


async def has_turns_after(session: AsyncSession, branch_id: uuid.UUID, turn_number: int) -> bool:
    query = select(
        select(Turn.id).where(Turn.branch_id == branch_id, Turn.turn_number > turn_number).exists()
    )
    return bool(await session.scalar(query))


async def deselect(session: AsyncSession, turn_id: uuid.UUID) -> None:
    await session.execute(update(Turn).where(Turn.id == turn_id).values(is_selected=False))
