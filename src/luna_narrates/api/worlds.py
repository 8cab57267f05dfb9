"""/worlds: reusable settings with their lore and NPCs, and the story templates."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from luna_narrates.api.access import PrincipalDep, check_owned
from luna_narrates.api.deps import Offset, SessionDep
from luna_narrates.worlds import service
from luna_narrates.worlds.schemas import (
    StoryTemplate,
    WorldCharacterLink,
    WorldCreate,
    WorldOut,
    WorldPage,
    WorldUpdate,
)
from luna_narrates.worlds.templates import templates

router = APIRouter(prefix="/worlds", tags=["worlds"])


@router.get("/templates")
async def list_templates() -> list[StoryTemplate]:
    """Ready-made starts (genre, premise, world, cast, opening situation); use one with
    `POST /stories {template_id}` or `POST /worlds {template_id}`."""
    return list(templates())


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_world(data: WorldCreate, session: SessionDep, who: PrincipalDep) -> WorldOut:
    """From scratch, or from a template: its locations and items become the world's lorebook,
    its NPCs the world's characters."""
    return await service.create(session, data, who.user_id)


@router.get("")
async def list_worlds(
    session: SessionDep,
    who: PrincipalDep,
    genre: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> WorldPage:
    return await service.listing(session, who.user_id, genre=genre, limit=limit, offset=offset)


@router.get("/{world_id}")
async def get_world(world_id: uuid.UUID, session: SessionDep) -> WorldOut:
    return await service.get(session, world_id)


@router.patch("/{world_id}")
async def update_world(
    world_id: uuid.UUID, data: WorldUpdate, session: SessionDep, who: PrincipalDep
) -> WorldOut:
    if data.lorebook_id is not None:
        await check_owned(session, who, "lorebook_id", data.lorebook_id)
    return await service.update(session, world_id, data)


@router.delete("/{world_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_world(world_id: uuid.UUID, session: SessionDep) -> Response:
    """The world goes; its lorebook and characters stay (stories may use them)."""
    await service.delete(session, world_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{world_id}/characters", status_code=status.HTTP_201_CREATED)
async def add_character(
    world_id: uuid.UUID, data: WorldCharacterLink, session: SessionDep, who: PrincipalDep
) -> WorldOut:
    """A character every story started in this world gets as an NPC."""
    await check_owned(session, who, "character_id", data.character_id)
    return await service.add_character(session, world_id, data.character_id)


@router.delete("/{world_id}/characters/{character_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_character(
    world_id: uuid.UUID, character_id: uuid.UUID, session: SessionDep
) -> Response:
    await service.remove_character(session, world_id, character_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
