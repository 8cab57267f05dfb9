"""All SQL of the stories domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from luna_narrates.db.lineage import Lineage, select_turns
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
    await touch_branch(session, turn.branch_id)


async def get_story(session: AsyncSession, story_id: uuid.UUID) -> Story | None:
    return await session.get(Story, story_id)


async def list_stories(
    session: AsyncSession, owner_id: uuid.UUID, *, limit: int, offset: int
) -> Sequence[Story]:
    query = (
        select(Story)
        .where(Story.owner_id == owner_id)
        .order_by(Story.updated_at.desc(), Story.id)
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(query)).all()


async def count_stories(session: AsyncSession, owner_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(Story).where(Story.owner_id == owner_id)
    return int(await session.scalar(query) or 0)


async def delete_story(session: AsyncSession, story_id: uuid.UUID) -> bool:
    result = await session.execute(delete(Story).where(Story.id == story_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def active_branches(
    session: AsyncSession, story_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Branch]:
    query = select(Branch).where(Branch.story_id.in_(story_ids), Branch.is_active)
    return {b.story_id: b for b in (await session.scalars(query)).all()}


async def last_turn_numbers(
    session: AsyncSession, branch_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The last turn of each branch's lineage, which is also its turn count: a lineage is
    numbered 1…N without gaps, and a branch without turns of its own ends at its fork."""
    own_last = (
        select(func.max(Turn.turn_number))
        .where(Turn.branch_id == Branch.id, Turn.is_selected)
        .scalar_subquery()
    )
    query = select(Branch.id, func.coalesce(own_last, Branch.fork_turn_number, 0)).where(
        Branch.id.in_(branch_ids)
    )
    return {branch_id: int(last) for branch_id, last in (await session.execute(query)).all()}


async def get_branch(session: AsyncSession, branch_id: uuid.UUID) -> Branch | None:
    return await session.get(Branch, branch_id)


async def last_turn_number(session: AsyncSession, branch_id: uuid.UUID) -> int:
    return (await last_turn_numbers(session, [branch_id])).get(branch_id, 0)


async def recent_turns(session: AsyncSession, lineage: Lineage, limit: int) -> list[Turn]:
    if limit <= 0:
        return []
    query = select_turns(lineage).order_by(Turn.turn_number.desc()).limit(limit)
    return list(reversed((await session.scalars(query)).all()))


async def lineage_page(
    session: AsyncSession, lineage: Lineage, *, first: int, limit: int
) -> Sequence[Turn]:
    # Numbered 1…N without gaps: the upper bound lets every segment use its index.
    query = (
        select_turns(lineage)
        .where(Turn.turn_number >= first, Turn.turn_number < first + limit)
        .order_by(Turn.turn_number)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def lineage_turn(
    session: AsyncSession, lineage: Lineage, turn_number: int, *, with_runs: bool = False
) -> Turn | None:
    """Turn N of the lineage; `with_runs` loads its agent runs (prompts and outputs) too."""
    query = select_turns(lineage).where(Turn.turn_number == turn_number)
    if with_runs:
        query = query.options(selectinload(Turn.agent_runs))
    return (await session.scalars(query)).one_or_none()


async def version_counts(
    session: AsyncSession, positions: Sequence[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], int]:
    if not positions:
        return {}
    query = (
        select(Turn.branch_id, Turn.turn_number, func.count())
        .where(tuple_(Turn.branch_id, Turn.turn_number).in_(positions))
        .group_by(Turn.branch_id, Turn.turn_number)
    )
    return {(b, n): count for b, n, count in (await session.execute(query)).all()}


async def forks_at(
    session: AsyncSession, positions: Sequence[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], list[Branch]]:
    """The branches that fork from each (branch, turn number): their lineage continues
    differently after that turn."""
    if not positions:
        return {}
    query = (
        select(Branch)
        .where(tuple_(Branch.parent_branch_id, Branch.fork_turn_number).in_(positions))
        .order_by(Branch.created_at, Branch.id)
    )
    found: dict[tuple[uuid.UUID, int], list[Branch]] = {}
    for branch in (await session.scalars(query)).all():
        assert branch.parent_branch_id is not None and branch.fork_turn_number is not None
        found.setdefault((branch.parent_branch_id, branch.fork_turn_number), []).append(branch)
    return found


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


async def touch_branch(session: AsyncSession, branch_id: uuid.UUID) -> None:
    await session.execute(
        update(Branch).where(Branch.id == branch_id).values(updated_at=func.now())
    )
