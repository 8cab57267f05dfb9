"""Branches of a story, redo, and the takes of a turn: thin routes over timelines' service.

Changes run while the story is held as for a turn (`Narrator.held`), so a branch never changes
under a turn being written on it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from luna_narrates.api.access import PrincipalDep, check_models
from luna_narrates.api.deps import NarratorDep, SessionDep
from luna_narrates.api.stories import BranchQuery, TurnNumber
from luna_narrates.narration.schemas import RegenerateRequest, TurnResponse
from luna_narrates.stories.schemas import MAX_TURN_NUMBER, BranchOut, TurnOut
from luna_narrates.timelines import service
from luna_narrates.timelines.schemas import (
    BranchCreate,
    BranchDeleted,
    BranchList,
    BranchStats,
    BranchSwitch,
    BranchTree,
    BranchUpdate,
    TurnEdit,
    TurnsDeleted,
    TurnVersions,
    VersionSelect,
)

router = APIRouter(prefix="/stories/{story_id}", tags=["timelines"])


@router.post("/branches", status_code=201)
async def create_branch(
    story_id: uuid.UUID, data: BranchCreate, narrator: NarratorDep
) -> BranchStats:
    """A new branch whose past is the source branch's turns up to `from_turn_number`."""
    return await narrator.held(story_id, lambda s: service.create_branch(s, story_id, data))


@router.get("/branches")
async def list_branches(story_id: uuid.UUID, session: SessionDep) -> BranchList:
    return await service.list_branches(session, story_id)


@router.get("/branches/tree")
async def branch_tree(story_id: uuid.UUID, session: SessionDep) -> BranchTree:
    return await service.branch_tree(session, story_id)


@router.post("/branches/switch")
async def switch_branch(
    story_id: uuid.UUID, data: BranchSwitch, narrator: NarratorDep
) -> BranchOut:
    """Makes the branch the story's one active branch: new turns go there by default."""
    return await narrator.held(
        story_id, lambda s: service.switch_branch(s, story_id, data.branch_id)
    )


@router.patch("/branches/{branch_id}")
async def update_branch(
    story_id: uuid.UUID, branch_id: uuid.UUID, data: BranchUpdate, narrator: NarratorDep
) -> BranchOut:
    return await narrator.held(
        story_id, lambda s: service.update_branch(s, story_id, branch_id, data)
    )


@router.delete("/branches/{branch_id}")
async def delete_branch(
    story_id: uuid.UUID,
    branch_id: uuid.UUID,
    narrator: NarratorDep,
    cascade: Annotated[bool, Query(description="Delete the branches growing from it too.")] = False,
) -> BranchDeleted:
    """Deletes the branch's own turns; refuses Main, the active branch, and (unless cascade)
    a branch others grow from."""
    return await narrator.held(
        story_id, lambda s: service.delete_branch(s, story_id, branch_id, cascade=cascade)
    )


@router.delete("/turns/after/{turn_number}")
async def delete_turns_after(
    story_id: uuid.UUID,
    turn_number: Annotated[int, Path(ge=0, le=MAX_TURN_NUMBER)],
    narrator: NarratorDep,
    branch_id: BranchQuery = None,
) -> TurnsDeleted:
    """Redo from turn N: the branch's turns after N are deleted, unless another branch
    inherits them (409 says which)."""
    return await narrator.held(
        story_id, lambda s: service.delete_turns_after(s, story_id, turn_number, branch_id)
    )


@router.get("/turns/{turn_number}/versions")
async def list_versions(
    story_id: uuid.UUID, turn_number: TurnNumber, session: SessionDep, branch_id: BranchQuery = None
) -> TurnVersions:
    return await service.list_versions(session, story_id, turn_number, branch_id)


@router.post("/turns/{turn_number}/select")
async def select_version(
    story_id: uuid.UUID,
    turn_number: TurnNumber,
    data: VersionSelect,
    narrator: NarratorDep,
    branch_id: BranchQuery = None,
) -> TurnVersions:
    """Makes another take the one the story tells; its memory is rebuilt in the background."""
    return await narrator.held(
        story_id,
        lambda s: service.select_version(
            s, story_id, turn_number, data.version, branch_id, narrator.enqueue_post_turn
        ),
    )


@router.patch("/turns/{turn_number}")
async def edit_turn(
    story_id: uuid.UUID,
    turn_number: TurnNumber,
    data: TurnEdit,
    narrator: NarratorDep,
    branch_id: BranchQuery = None,
) -> TurnOut:
    """The player's own wording of a turn, kept as a new take; memory is rebuilt for it."""
    return await narrator.held(
        story_id,
        lambda s: service.edit_turn(
            s, story_id, turn_number, data, branch_id, narrator.enqueue_post_turn
        ),
    )


@router.post("/turns/{turn_number}/regenerate")
async def regenerate_turn(
    story_id: uuid.UUID,
    turn_number: TurnNumber,
    data: RegenerateRequest,
    narrator: NarratorDep,
    who: PrincipalDep,
) -> TurnResponse:
    """Generates another take of turn N. When later turns or branches build on it, the take
    starts a new branch from turn N-1 instead (`branch_created` names it)."""
    check_models(who, data)
    return await narrator.run_prepared(
        await narrator.prepare_regeneration(story_id, turn_number, data)
    )
