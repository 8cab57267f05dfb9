"""All SQL of the stories domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from luna_narrates.db.tables import Branch, Story, Turn


async def add_story(session: AsyncSession, story: Story, main: Branch) -> None:
    session.add(story)
    await session.flush()
    main.story_id = story.id
    session.add(main)
    await session.flush()


async def add_turn(session: AsyncSession, turn: Turn) -> None:
    """Inserts the turn with its agent runs and cost rows, and marks the story as played."""
    session.add(turn)
    await session.flush()
    await touch_story(session, turn.story_id)


async def get_story(session: AsyncSession, story_id: uuid.UUID) -> Story | None:
    return await session.get(Story, story_id)


async def list_stories(session: AsyncSession, *, limit: int, offset: int) -> Sequence[Story]:
    query = select(Story).order_by(Story.updated_at.desc(), Story.id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def count_stories(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Story)) or 0)


async def delete_story(session: AsyncSession, story_id: uuid.UUID) -> bool:
    result = await session.execute(delete(Story).where(Story.id == story_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def active_branches(
    session: AsyncSession, story_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Branch]:
    query = select(Branch).where(Branch.story_id.in_(story_ids), Branch.is_active)
    return {b.story_id: b for b in (await session.scalars(query)).all()}


async def turn_counts(
    session: AsyncSession, branch_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    query = (
        select(Turn.branch_id, func.count())
        .where(Turn.branch_id.in_(branch_ids))
        .group_by(Turn.branch_id)
    )
    return {branch_id: count for branch_id, count in (await session.execute(query)).all()}


async def get_branch(session: AsyncSession, branch_id: uuid.UUID) -> Branch | None:
    return await session.get(Branch, branch_id)


async def last_turn_number(session: AsyncSession, branch_id: uuid.UUID) -> int:
    query = select(func.max(Turn.turn_number)).where(Turn.branch_id == branch_id)
    return int(await session.scalar(query) or 0)


async def recent_turns(session: AsyncSession, branch_id: uuid.UUID, limit: int) -> list[Turn]:
    if limit <= 0:
        return []
    query = (
        select(Turn)
        .where(Turn.branch_id == branch_id)
        .order_by(Turn.turn_number.desc())
        .limit(limit)
    )
    return list(reversed((await session.scalars(query)).all()))


async def list_turns(
    session: AsyncSession, branch_id: uuid.UUID, *, limit: int, offset: int
) -> Sequence[Turn]:
    query = (
        select(Turn)
        .where(Turn.branch_id == branch_id)
        .order_by(Turn.turn_number)
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(query)).all()


async def get_turn(session: AsyncSession, branch_id: uuid.UUID, turn_number: int) -> Turn | None:
    query = (
        select(Turn)
        .where(Turn.branch_id == branch_id, Turn.turn_number == turn_number)
        .options(selectinload(Turn.agent_runs))
    )
    return (await session.scalars(query)).one_or_none()


async def try_take_turn_lease(
    session: AsyncSession, story_id: uuid.UUID, lease_id: uuid.UUID, duration: timedelta
) -> bool:
    """Claims the story for one turn; False while another unexpired lease holds it."""
    now = func.now()
    result = await session.execute(
        update(Story)
        .where(
            Story.id == story_id,
            or_(Story.turn_lease_id.is_(None), Story.turn_lease_until < now),
        )
        .values(turn_lease_id=lease_id, turn_lease_until=now + duration)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_turn_lease(
    session: AsyncSession, story_id: uuid.UUID, lease_id: uuid.UUID
) -> None:
    await session.execute(
        update(Story)
        .where(Story.id == story_id, Story.turn_lease_id == lease_id)
        .values(turn_lease_id=None, turn_lease_until=None)
    )


async def touch_story(session: AsyncSession, story_id: uuid.UUID) -> None:
    await session.execute(update(Story).where(Story.id == story_id).values(updated_at=func.now()))
