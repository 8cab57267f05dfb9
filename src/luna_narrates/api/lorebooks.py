"""/lorebooks: upload world info and lorebooks in any format we read, create, list, read,
edit, export, and edit entries one by one."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from luna_narrates.api.access import PrincipalDep, check_owned, check_story
from luna_narrates.api.deps import Offset, ServicesDep, SessionDep
from luna_narrates.api.uploads import multipart_body, read_upload
from luna_narrates.jobs.queue import enqueue_lore_embedding
from luna_narrates.kit.names import slug
from luna_narrates.lore import extraction, service
from luna_narrates.lore.errors import LorebookRefused
from luna_narrates.lore.schemas import (
    TIER_HELP,
    EntryKind,
    EntryOut,
    EntryPage,
    EntryWrite,
    ExtractRequest,
    LorebookCreate,
    LorebookDetail,
    LorebookFormat,
    LorebookOut,
    LorebookPage,
    LorebookSort,
    LorebookUpdate,
    StoryLorebookLink,
    Tier,
)

router = APIRouter(prefix="/lorebooks", tags=["lorebooks"])
stories_router = APIRouter(prefix="/stories", tags=["lorebooks"])

Limit = Annotated[int, Query(ge=1, le=500)]
UPLOAD_FIELDS = ("storage_tier", "universe_name", "name")
NAME_CHARS = 200


@router.post(
    "/upload", status_code=status.HTTP_201_CREATED, openapi_extra=multipart_body(*UPLOAD_FIELDS)
)
async def upload_lorebook(
    request: Request, session: SessionDep, services: ServicesDep, who: PrincipalDep
) -> LorebookDetail:
    """SillyTavern World Info, a character_book or lorebook_v3, NovelAI (`.lorebook` JSON or
    a PNG with `naidata`), KoboldAI, Agnai or RisuAI; recognised by content, not by name.
    Form fields: `storage_tier` (hot, warm, cold), `universe_name`, `name`. The whole file is
    checked first: a bad one is refused naming the field, and nothing is stored."""
    upload = await read_upload(request, services.settings.upload_max_bytes, "lorebook")
    form = {**dict(request.query_params), **upload.form}
    tier = _tier(form.get("storage_tier") or "warm")
    for field in ("universe_name", "name"):
        if len(form.get(field) or "") > NAME_CHARS:
            raise LorebookRefused(f"{field} is longer than {NAME_CHARS} characters.")
    book = service.parse_file(upload.data)
    name = form.get("name") or book.name or _stem(upload.filename)
    row = await service.store(
        session,
        book,
        who.user_id,
        name=name,
        universe_name=form.get("universe_name") or None,
        tier=tier,
    )
    await _embed(services, session, row.id, tier)
    return await service.detail(session, row.id)


@router.post("/extract", status_code=status.HTTP_201_CREATED)
async def extract_lorebook(
    data: ExtractRequest, session: SessionDep, services: ServicesDep, who: PrincipalDep
) -> LorebookDetail:
    """A new lorebook from what a story remembers (on `branch_id`, or its active branch):
    its characters, locations, items and factions with their current facts and relationships,
    and its arcs as events. Memory was written by the Preprocessor's model after each turn, so
    this makes no new model call; turns whose memory is still being built are not in it yet."""
    await check_story(session, who, data.story_id)
    row = await extraction.extract(session, data, who.user_id)
    await _embed(services, session, row.id, data.storage_tier)
    return await service.detail(session, row.id)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_lorebook(
    data: LorebookCreate, session: SessionDep, services: ServicesDep, who: PrincipalDep
) -> LorebookDetail:
    created = await service.create(session, data, who.user_id)
    await _embed(services, session, created.id, data.storage_tier)
    return created


@router.get("")
async def list_lorebooks(
    session: SessionDep,
    who: PrincipalDep,
    tier: Annotated[Tier | None, Query(description=TIER_HELP)] = None,
    universe: Annotated[str | None, Query(max_length=200)] = None,
    sort_by: LorebookSort = "updated_at",
    limit: Limit = 50,
    offset: Offset = 0,
) -> LorebookPage:
    return await service.listing(
        session,
        who.user_id,
        tier=tier,
        universe=universe,
        sort_by=sort_by,
        limit=limit,
        offset=offset,
    )


@router.get("/{lorebook_id}")
async def get_lorebook(
    lorebook_id: uuid.UUID,
    session: SessionDep,
    entries_from: Offset = 0,
    entries_limit: Limit = 100,
) -> LorebookDetail:
    return await service.detail(session, lorebook_id, entries_from, entries_limit)


@router.patch("/{lorebook_id}")
async def update_lorebook(
    lorebook_id: uuid.UUID, data: LorebookUpdate, session: SessionDep, services: ServicesDep
) -> LorebookOut:
    """Changing `storage_tier` moves every entry into the new tier (ids stay)."""
    updated = await service.update(session, lorebook_id, data)
    await _embed(services, session, lorebook_id, updated.storage_tier)
    return updated


@router.delete("/{lorebook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_lorebook(lorebook_id: uuid.UUID, session: SessionDep) -> Response:
    await service.delete(session, lorebook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{lorebook_id}/export",
    response_class=JSONResponse,
    responses={200: {"content": {"application/json": {}}, "description": "The file."}},
)
async def export_lorebook(
    lorebook_id: uuid.UUID, session: SessionDep, format: LorebookFormat = "world_info"
) -> JSONResponse:
    """`world_info` is SillyTavern's World Info file (every field of every entry);
    `character_book` is what a card embeds; `lorebook_v3` wraps it as a standalone V3 book."""
    row = await service.require(session, lorebook_id)
    body = await service.export(session, lorebook_id, format)
    name = f"{slug(row.name, 'lorebook')}.json"
    return JSONResponse(body, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/{lorebook_id}/entries")
async def list_entries(
    lorebook_id: uuid.UUID,
    session: SessionDep,
    kind: EntryKind | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> EntryPage:
    return await service.entries_page(session, lorebook_id, kind=kind, limit=limit, offset=offset)


@router.get("/{lorebook_id}/characters")
async def list_characters(
    lorebook_id: uuid.UUID, session: SessionDep, limit: Limit = 50
) -> EntryPage:
    """Entries that describe characters (`kind: character`)."""
    return await service.entries_page(session, lorebook_id, kind="character", limit=limit)


@router.get("/{lorebook_id}/locations")
async def list_locations(
    lorebook_id: uuid.UUID, session: SessionDep, limit: Limit = 50
) -> EntryPage:
    """Entries that describe places (`kind: location`)."""
    return await service.entries_page(session, lorebook_id, kind="location", limit=limit)


@router.post("/{lorebook_id}/entries", status_code=status.HTTP_201_CREATED)
async def add_entry(
    lorebook_id: uuid.UUID, data: EntryWrite, session: SessionDep, services: ServicesDep
) -> EntryOut:
    added = await service.add_entry(session, lorebook_id, data)
    await _embed(services, session, lorebook_id)
    return added


@router.get("/{lorebook_id}/entries/{entry_id}")
async def get_entry(lorebook_id: uuid.UUID, entry_id: uuid.UUID, session: SessionDep) -> EntryOut:
    return await service.get_entry(session, lorebook_id, entry_id)


@router.patch("/{lorebook_id}/entries/{entry_id}")
async def update_entry(
    lorebook_id: uuid.UUID,
    entry_id: uuid.UUID,
    data: EntryWrite,
    session: SessionDep,
    services: ServicesDep,
) -> EntryOut:
    """Fields given replace the entry's; fields not given stay."""
    updated = await service.update_entry(session, lorebook_id, entry_id, data)
    await _embed(services, session, lorebook_id)
    return updated


@router.delete("/{lorebook_id}/entries/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_entry(
    lorebook_id: uuid.UUID, entry_id: uuid.UUID, session: SessionDep
) -> Response:
    await service.delete_entry(session, lorebook_id, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _embed(
    services: ServicesDep, session: SessionDep, lorebook_id: uuid.UUID, tier: str | None = None
) -> None:
    if tier is None:
        tier = (await service.require(session, lorebook_id)).storage_tier
    if tier != "cold":
        await enqueue_lore_embedding(services.jobs, session, lorebook_id)


def _tier(value: Any) -> Tier:
    try:
        return TypeAdapter(Tier).validate_python(value)
    except ValidationError:
        raise LorebookRefused(f"storage_tier must be hot, warm or cold, not {value!r}.") from None


def _stem(filename: str | None) -> str | None:
    if not filename:
        return None
    return filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0] or None


@stories_router.get("/{story_id}/lorebooks")
async def story_lorebooks(story_id: uuid.UUID, session: SessionDep) -> list[LorebookOut]:
    """The books the story uses besides its characters' own."""
    return await service.attached(session, story_id)


@stories_router.post("/{story_id}/lorebooks", status_code=status.HTTP_201_CREATED)
async def attach_lorebook(
    story_id: uuid.UUID, data: StoryLorebookLink, session: SessionDep, who: PrincipalDep
) -> LorebookOut:
    """Its entries are activated in the story's briefings from the next turn on."""
    await check_owned(session, who, "lorebook_id", data.lorebook_id)
    return await service.attach(session, story_id, data.lorebook_id)


@stories_router.delete(
    "/{story_id}/lorebooks/{lorebook_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def detach_lorebook(
    story_id: uuid.UUID, lorebook_id: uuid.UUID, session: SessionDep
) -> Response:
    await service.detach(session, story_id, lorebook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
