"""What the AI sees: memory search, the briefing an action would get, the world's state."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from luna_narrates.api.deps import NarratorDep, ServicesDep, SessionDep
from luna_narrates.db.lineage import Lineage, lineage_of
from luna_narrates.memory import service
from luna_narrates.memory.schemas import EntityHistory, MemoryBriefing, SearchResults, WorldOut
from luna_narrates.stories import service as stories

router = APIRouter(prefix="/stories/{story_id}", tags=["memory"])


async def branch_lineage(
    story_id: uuid.UUID,
    session: SessionDep,
    branch_id: Annotated[
        uuid.UUID | None, Query(description="A branch of the story; the active one by default.")
    ] = None,
) -> Lineage:
    """The branch (the active one by default) and its ancestry: 404 for an unknown story."""
    branch = await stories.resolve_branch(session, story_id, branch_id)
    return await lineage_of(session, branch.id)


LineageDep = Annotated[Lineage, Depends(branch_lineage)]
Text = Annotated[str, Query(min_length=1, max_length=1_000)]


async def embed(services: ServicesDep, text: str) -> list[float]:
    [vector] = await asyncio.to_thread(services.embedder.embed, [text])
    return vector


@router.get("/memory/search")
async def search_memory(
    session: SessionDep,
    lineage: LineageDep,
    services: ServicesDep,
    q: Text,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SearchResults:
    """Hybrid search (vector + full text, fused by reciprocal rank) over the active branch's
    passages, summaries, facts, entities and arcs. A fact shows when it was superseded."""
    return await service.search(session, lineage, q, await embed(services, q), k)


@router.get("/briefing")
async def preview_briefing(
    story_id: uuid.UUID,
    narrator: NarratorDep,
    action: Text,
    budget: Annotated[int | None, Query(ge=50, le=32_000)] = None,
    branch_id: Annotated[
        uuid.UUID | None, Query(description="A branch of the story; the active one by default.")
    ] = None,
) -> MemoryBriefing:
    """The memory part of the briefing this action would get now, packed and cited, counted
    with the Strategist model's tokenizer; nothing is generated or stored."""
    return await narrator.preview_briefing(story_id, action, budget, branch_id)


@router.get("/world")
async def world(story_id: uuid.UUID, session: SessionDep, lineage: LineageDep) -> WorldOut:
    """Every character, location, item and faction with its current facts and relationships."""
    entities = await service.world(session, lineage)
    return WorldOut(story_id=story_id, branch_id=lineage.branch_id, entities=entities)


@router.get("/world/{entity}")
async def entity_history(
    entity: Annotated[str, Path(min_length=1, max_length=200)],
    session: SessionDep,
    lineage: LineageDep,
) -> EntityHistory:
    """One entity, by id or by any name it has had, with its whole history across turns."""
    return await service.entity_history(session, lineage, entity)
