"""Story logic: creation with its Main branch, listing, reading turns. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.lineage import lineage_of
from luna_narrates.db.tables import Branch, Story, Turn
from luna_narrates.stories import repository
from luna_narrates.stories.errors import BranchNotFound, StoryNotFound, TurnNotFound
from luna_narrates.stories.schemas import (
    AgentRunDetail,
    BranchOut,
    BranchRef,
    StoryCreate,
    StoryOut,
    StoryPage,
    TurnOut,
    TurnPage,
    TurnSummary,
)

MAIN_BRANCH_NAME = "Main"


async def create_story(session: AsyncSession, data: StoryCreate, owner_id: uuid.UUID) -> StoryOut:
    story = Story(**data.model_dump(), owner_id=owner_id)
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


async def resolve_branch(
    session: AsyncSession, story_id: uuid.UUID, branch_id: uuid.UUID | None
) -> Branch:
    """The named branch of this story, or the story's active branch; StoryNotFound for an
    unknown story either way, so callers need not read the story first."""
    if branch_id is None:
        return await active_branch(session, story_id)
    branch = await repository.get_branch(session, branch_id)
    if branch is None or branch.story_id != story_id:
        await require_story(session, story_id)
        raise BranchNotFound(story_id, branch_id)
    return branch


async def get_story(session: AsyncSession, story_id: uuid.UUID) -> StoryOut:
    story = await require_story(session, story_id)
    branch = await active_branch(session, story_id)
    counts = await repository.last_turn_numbers(session, [branch.id])
    return _story_out(story, branch, counts.get(branch.id, 0))


async def list_stories(
    session: AsyncSession, owner_id: uuid.UUID, *, limit: int, offset: int
) -> StoryPage:
    """The player's stories, the last played first."""
    stories = await repository.list_stories(session, owner_id, limit=limit, offset=offset)
    branches = await repository.active_branches(session, [s.id for s in stories])
    counts = await repository.last_turn_numbers(session, [b.id for b in branches.values()])
    items = [
        _story_out(s, branches[s.id], counts.get(branches[s.id].id, 0))
        for s in stories
        if s.id in branches
    ]
    total = await repository.count_stories(session, owner_id)
    return StoryPage(items=items, total=total, limit=limit, offset=offset)


async def delete_story(session: AsyncSession, story_id: uuid.UUID) -> None:
    if not await repository.delete_story(session, story_id):
        raise StoryNotFound(story_id)


async def list_turns(
    session: AsyncSession,
    story_id: uuid.UUID,
    *,
    branch_id: uuid.UUID | None = None,
    first: int = 1,
    limit: int,
) -> TurnPage:
    """A page of the branch's lineage from turn `first`, each turn with its takes and forks."""
    branch = await resolve_branch(session, story_id, branch_id)
    lineage = await lineage_of(session, branch.id)
    turns = await repository.lineage_page(session, lineage, first=first, limit=limit)
    total = await repository.last_turn_number(session, branch.id)
    items = await summaries(session, turns)
    last_from = max(1, total - limit + 1) if total else None
    return TurnPage(
        branch_id=branch.id,
        items=items,
        total=total,
        limit=limit,
        from_turn=first,
        prev_from=max(1, first - limit) if first > 1 and total else None,
        next_from=first + limit if first + limit <= total else None,
        last_from=last_from,
    )


async def summaries(session: AsyncSession, turns: Sequence[Turn]) -> list[TurnSummary]:
    positions = [(t.branch_id, t.turn_number) for t in turns]
    versions = await repository.version_counts(session, positions)
    forks = await repository.forks_at(session, positions)
    return [
        TurnSummary.model_validate(t).model_copy(
            update={
                "versions": versions.get((t.branch_id, t.turn_number), 1),
                "forks": [
                    BranchRef.model_validate(b) for b in forks.get((t.branch_id, t.turn_number), [])
                ],
            }
        )
        for t in turns
    ]


async def get_turn(
    session: AsyncSession,
    story_id: uuid.UUID,
    turn_number: int,
    branch_id: uuid.UUID | None = None,
) -> TurnOut:
    """Turn N as the branch tells it (it may have been written on an ancestor)."""
    branch = await resolve_branch(session, story_id, branch_id)
    lineage = await lineage_of(session, branch.id)
    turn = await repository.lineage_turn(session, lineage, turn_number, with_runs=True)
    if turn is None:
        raise TurnNotFound(story_id, turn_number, branch.name)
    [summary] = await summaries(session, [turn])
    return turn_out(turn, summary)


def turn_out(turn: Turn, summary: TurnSummary | None = None) -> TurnOut:
    return TurnOut(
        **(summary or TurnSummary.model_validate(turn)).model_dump(),
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
