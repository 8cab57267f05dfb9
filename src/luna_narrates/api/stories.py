"""/stories: create, list, read, delete; and a story's committed turns."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Query, Response, status

from luna_narrates.api.access import PrincipalDep, check_owned
from luna_narrates.api.deps import NarratorDep, Offset, ServicesDep, SessionDep
from luna_narrates.images import storage
from luna_narrates.narration.schemas import ImportResult, StoryStarted, TurnImport, TurnRequest
from luna_narrates.stories import service
from luna_narrates.stories.schemas import (
    MAX_TURN_NUMBER,
    StoryOut,
    StoryPage,
    TurnOut,
    TurnPage,
)
from luna_narrates.worlds import service as worlds
from luna_narrates.worlds.schemas import StoryStart

router = APIRouter(prefix="/stories", tags=["stories"])

Limit = Annotated[int, Query(ge=1, le=100)]
TurnNumber = Annotated[int, Path(ge=1, le=MAX_TURN_NUMBER)]
BranchQuery = Annotated[
    uuid.UUID | None, Query(description="A branch of the story; the active one by default.")
]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_story(
    data: StoryStart, services: ServicesDep, narrator: NarratorDep, who: PrincipalDep
) -> StoryStarted:
    """A story from scratch (`title`, `premise`), from one of the templates
    (`GET /worlds/templates`: its world's lore attached, its protagonist and NPCs cast), or in a
    world (`world_id`: its setting, lorebook and NPCs). With `generate_opening`, the pipeline
    writes the opening passage as turn 1; if that fails, the story is not kept."""
    async with services.db.transaction() as session:
        if data.world_id is not None:
            await check_owned(session, who, "world_id", data.world_id)
        started = await worlds.start_story(session, data, who.user_id)
    story = started.story
    if not data.generate_opening:
        return StoryStarted(**story.model_dump())
    try:
        turn = await narrator.run(TurnRequest(story_id=story.id, user_action=started.opening))
    except BaseException:
        async with services.db.transaction() as session:
            await worlds.take_back(session, started)
        raise
    async with services.db.sessions() as session:
        created = await service.get_story(session, story.id)
    return StoryStarted(**created.model_dump(), opening=turn)


@router.get("")
async def list_stories(
    session: SessionDep, who: PrincipalDep, limit: Limit = 20, offset: Offset = 0
) -> StoryPage:
    """Your stories."""
    return await service.list_stories(session, who.user_id, limit=limit, offset=offset)


@router.get("/{story_id}")
async def get_story(story_id: uuid.UUID, session: SessionDep) -> StoryOut:
    return await service.get_story(session, story_id)


@router.delete("/{story_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_story(
    story_id: uuid.UUID, session: SessionDep, services: ServicesDep, after: BackgroundTasks
) -> Response:
    """The story and everything it holds; its image files go once the deletion committed."""
    await service.delete_story(session, story_id)
    after.add_task(storage.remove_story, services.settings.luna_data_dir, story_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{story_id}/turns")
async def list_turns(
    story_id: uuid.UUID,
    session: SessionDep,
    branch_id: BranchQuery = None,
    first: Annotated[
        int, Query(alias="from", ge=1, le=MAX_TURN_NUMBER - 100, description="The first turn.")
    ] = 1,
    limit: Limit = 50,
) -> TurnPage:
    """Pages through a branch's lineage in story order: inherited turns included, each with
    how many takes it has and which branches fork from it."""
    return await service.list_turns(
        session, story_id, branch_id=branch_id, first=first, limit=limit
    )


@router.get("/{story_id}/turns/{turn_number}")
async def get_turn(
    story_id: uuid.UUID, turn_number: TurnNumber, session: SessionDep, branch_id: BranchQuery = None
) -> TurnOut:
    return await service.get_turn(session, story_id, turn_number, branch_id)


@router.post("/{story_id}/turns/import", status_code=status.HTTP_201_CREATED)
async def import_turns(
    story_id: uuid.UUID, data: TurnImport, narrator: NarratorDep
) -> ImportResult:
    """Appends existing turns in order without generating them, then builds their memory in
    the background. All or nothing: one bad turn and none is stored."""
    return await narrator.import_turns(story_id, data)
