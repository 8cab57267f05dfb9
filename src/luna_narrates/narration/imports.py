"""Appends existing turns to a story without generating them, then lets memory build on them:
for story import, and for evaluating memory on transcripts from elsewhere."""

from __future__ import annotations

import uuid
from decimal import Decimal

from luna_narrates.db.engine import Database
from luna_narrates.db.tables import Turn
from luna_narrates.narration.locks import StoryLocks
from luna_narrates.narration.schemas import ImportResult, TurnImport
from luna_narrates.stories import repository
from luna_narrates.stories import service as stories
from luna_narrates.stories.jobs import PostTurnHook


async def import_turns(
    db: Database,
    locks: StoryLocks,
    enqueue_post_turn: PostTurnHook,
    story_id: uuid.UUID,
    data: TurnImport,
) -> ImportResult:
    """All or nothing: the turns, numbered after the branch's last, and their memory jobs are
    committed in one transaction, while the story is held as for a generated turn."""
    async with db.sessions() as session:
        await stories.require_story(session, story_id)  # 404 now, not after waiting for a lock
    async with locks.hold(story_id), db.transaction() as session:
        await stories.require_story(session, story_id)
        branch = await stories.resolve_branch(session, story_id, data.branch_id)
        last = await repository.last_turn_number(session, branch.id)
        rows = [
            Turn(
                id=uuid.uuid4(),
                story_id=story_id,
                branch_id=branch.id,
                turn_number=last + position,
                user_action=turn.user_action,
                narrative_text=turn.narrative_text,
                briefing={},
                plan={},
                total_cost_usd=Decimal(0),
                total_execution_time_seconds=0.0,
                origin="imported",
            )
            for position, turn in enumerate(data.turns, start=1)
        ]
        session.add_all(rows)
        await session.flush()
        await repository.touch_story(session, story_id)
        await repository.touch_branch(session, branch.id)
        jobs = 0
        for row in rows:
            jobs += len(await enqueue_post_turn(session, story_id, row.id))
    return ImportResult(
        story_id=story_id,
        branch_id=branch.id,
        first_turn_number=rows[0].turn_number,
        last_turn_number=rows[-1].turn_number,
        memory_jobs=jobs,
    )
