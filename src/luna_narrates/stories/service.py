"""Story logic: creation with its Main branch, listing, reading turns. Never commits."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.tables import Branch, Story, Turn
from luna_narrates.stories import repository
from luna_narrates.stories.errors import StoryNotFound, TurnNotFound
from luna_narrates.stories.schemas import (
    AgentRunDetail,
    BranchOut,
    StoryCreate,
    StoryOut,
    StoryPage,
    TurnOut,
    TurnPage,
    TurnSummary,
)

MAIN_BRANCH_NAME = "Main"


async def create_story(session: AsyncSession, data: StoryCreate) -> StoryOut:
    story = Story(**data.model_dump())
    main = Branch(name=MAIN_BRANCH_NAME, is_main=True, is_active=True)
    await repository.add_story(session, story, main)
    await session.refresh(story)
    return _story_out(story, main, turn_count=0)


async def require_story(session: AsyncSession, story_id: uuid.UUID) -> Story:
    story = await repository.get_story(session, story_id)
    if story is None:
        raise StoryNotFound(story_id)
    return story


async def active_branch(session: AsyncSession, story_id: uuid.UUID) -> Branch:
    branches = await repository.active_branches(session, [story_id])
    if story_id not in branches:
        raise StoryNotFound(story_id)
    return branches[story_id]


async def get_story(session: AsyncSession, story_id: uuid.UUID) -> StoryOut:
    story = await require_story(session, story_id)
    branch = await active_branch(session, story_id)
    counts = await repository.turn_counts(session, [branch.id])
    return _story_out(story, branch, counts.get(branch.id, 0))


async def list_stories(session: AsyncSession, *, limit: int, offset: int) -> StoryPage:
    stories = await repository.list_stories(session, limit=limit, offset=offset)
    branches = await repository.active_branches(session, [s.id for s in stories])
    counts = await repository.turn_counts(session, [b.id for b in branches.values()])
    items = [
        _story_out(s, branches[s.id], counts.get(branches[s.id].id, 0))
        for s in stories
        if s.id in branches
    ]
    total = await repository.count_stories(session)
    return StoryPage(items=items, total=total, limit=limit, offset=offset)


async def delete_story(session: AsyncSession, story_id: uuid.UUID) -> None:
    if not await repository.delete_story(session, story_id):
        raise StoryNotFound(story_id)


async def list_turns(
    session: AsyncSession, story_id: uuid.UUID, *, limit: int, offset: int
) -> TurnPage:
    await require_story(session, story_id)
    branch = await active_branch(session, story_id)
    turns = await repository.list_turns(session, branch.id, limit=limit, offset=offset)
    total = (await repository.turn_counts(session, [branch.id])).get(branch.id, 0)
    return TurnPage(
        items=[TurnSummary.model_validate(t) for t in turns],
        total=total,
        limit=limit,
        offset=offset,
    )


async def get_turn(session: AsyncSession, story_id: uuid.UUID, turn_number: int) -> TurnOut:
    await require_story(session, story_id)
    branch = await active_branch(session, story_id)
    turn = await repository.get_turn(session, branch.id, turn_number)
    if turn is None:
        raise TurnNotFound(story_id, turn_number)
    return turn_out(turn)


def turn_out(turn: Turn) -> TurnOut:
    return TurnOut(
        **TurnSummary.model_validate(turn).model_dump(),
        briefing=turn.briefing,
        plan=turn.plan,
        agents=[AgentRunDetail.model_validate(run) for run in turn.agent_runs],
    )


def _story_out(story: Story, branch: Branch, turn_count: int) -> StoryOut:
    return StoryOut(
        id=story.id,
        title=story.title,
        genre=story.genre,
        setting=story.setting,
        premise=story.premise,
        protagonist=story.protagonist,
        created_at=story.created_at,
        updated_at=story.updated_at,
        turn_count=turn_count,
        active_branch=BranchOut.model_validate(branch),
    )
