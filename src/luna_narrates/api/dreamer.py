"""/stories/{id}/dreamer: the Dreamer's pool of ideas (with their images) and how often the
story ends up using them."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from luna_narrates.api.deps import SessionDep
from luna_narrates.dreamer import service
from luna_narrates.dreamer.schemas import DreamerStatistics, IdeaOut
from luna_narrates.stories import service as stories

router = APIRouter(prefix="/stories/{story_id}/dreamer", tags=["dreamer"])
ContentType = Literal["character", "location", "item", "scene", "plot_twist"]


@router.get("/pool")
async def dreamer_pool(
    story_id: uuid.UUID,
    session: SessionDep,
    content_type: Annotated[ContentType | None, Query()] = None,
) -> list[IdeaOut]:
    """The ideas dreamed for this story, most likely first, each with its images' status and
    whether (and by which turn) the story used it."""
    await stories.require_story(session, story_id)
    return await service.pool(session, story_id, content_type)


@router.get("/stats")
async def dreamer_statistics(story_id: uuid.UUID, session: SessionDep) -> DreamerStatistics:
    """Per type: ideas dreamed, realized, the realization rate and the hours to realize."""
    await stories.require_story(session, story_id)
    return await service.statistics(session, story_id)
