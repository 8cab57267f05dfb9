"""The Dreamer's job: after a turn (and then now and then while the player thinks), mark the
ideas the turn used, and dream new ones on the Dreamer's model, grounded in what the story
remembers; the likely ones get speculative images. Every call leaves its agent-run and cost
rows on the turn that prompted it (stage `dream`)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from luna_narrates.agents.dreamer import agent as dreamer
from luna_narrates.agents.dreamer.schemas import DreamerInput, KnownThing
from luna_narrates.agents.schemas import PastTurn, StoryFrame
from luna_narrates.db.lineage import lineage_of
from luna_narrates.db.tables import Story, Turn
from luna_narrates.dreamer import service as dreams
from luna_narrates.jobs.memory import WorkerContext, run_row
from luna_narrates.memory import service as memory
from luna_narrates.memory.ledger import TurnRef
from luna_narrates.stories import repository as stories_repository
from luna_narrates.stories import service as stories

DREAM_POSITION = 20
RECENT_TURNS = 3
KNOWN_THINGS = 20


async def dream(
    worker: WorkerContext,
    story_id: uuid.UUID,
    turn_id: uuid.UUID | None,
    model_override: str | None = None,
) -> list[uuid.UUID]:
    """Answers the speculative images to render. Does nothing for a story that is gone, has
    no turn yet, or while continuous generation is off."""
    settings = worker.settings
    async with worker.db.transaction() as session:
        await dreams.expire(session, settings.luna_data_dir)
        if turn_id is not None and (turn := await session.get(Turn, turn_id)) is not None:
            await dreams.realize(session, turn)
    if not settings.dreamer_continuous_generation:
        return []
    found = await _context(worker, story_id, settings.dreamer_ideas_per_dream)
    if found is None:
        return []
    data, ref = found
    model = worker.memory_model("dreamer", model_override)
    answer, record = await dreamer.dream(data, model)
    run = await run_row(worker, "dream", DREAM_POSITION, record, data, ref)
    texts = [dreams.idea_text(idea.name, idea.description) for idea in answer.ideas]
    vectors = await asyncio.to_thread(worker.embedder.embed, texts) if texts else []
    async with worker.db.transaction() as session:
        if await session.get(Turn, ref.turn_id) is None:
            return []  # the story, or the turn, went while the Dreamer dreamed
        ideas = [
            {
                **idea.model_dump(exclude={"metadata"}),
                "metadata": {detail.key: detail.value for detail in idea.metadata},
                "embedding": vector,
            }
            for idea, vector in zip(answer.ideas, vectors, strict=True)
        ]
        added = await dreams.store_ideas(session, story_id, ideas, settings)
        images = dreams.speculative_images(added, settings) if settings.images_enabled else []
        session.add_all([run, *images])
    return [image.id for image in images]


async def still_active(worker: WorkerContext, story_id: uuid.UUID) -> bool:
    """Whether the story was played within `dreamer_idle_stop_seconds`."""
    async with worker.db.sessions() as session:
        story = await session.get(Story, story_id)
    if story is None:
        return False
    idle = datetime.now(UTC) - story.updated_at
    return idle <= timedelta(seconds=worker.settings.dreamer_idle_stop_seconds)


async def _context(
    worker: WorkerContext, story_id: uuid.UUID, wanted: int
) -> tuple[DreamerInput, TurnRef] | None:
    async with worker.db.sessions() as session:
        story = await session.get(Story, story_id)
        if story is None:
            return None
        branch = await stories.active_branch(session, story_id)
        lineage = await lineage_of(session, branch.id)
        recent = await stories_repository.recent_turns(session, lineage, RECENT_TURNS)
        if not recent:
            return None
        world = await memory.world(session, lineage, latest=KNOWN_THINGS)
        already = await dreams.pool_names(session, story_id)
    last = recent[-1]
    things = [
        KnownThing(
            name=entity.name[:80],
            kind=entity.kind,
            summary="; ".join([entity.description, *(f"{f.key}: {f.value}" for f in entity.facts)])[
                :200
            ],
        )
        for entity in world
    ]
    threads = [str(t) for t in (last.briefing or {}).get("open_threads", [])][:5]
    data = DreamerInput(
        story=StoryFrame.model_validate(story, from_attributes=True),
        recent_turns=[PastTurn.model_validate(t, from_attributes=True) for t in recent],
        world=things,
        open_threads=threads,
        already_dreamed=already[-50:],
        wanted=wanted,
    )
    ref = TurnRef(story_id, last.branch_id, last.id, last.turn_number)
    return data, ref
