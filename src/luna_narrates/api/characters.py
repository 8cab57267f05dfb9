"""/character-cards: import cards from SillyTavern, TavernAI, RisuAI and others (JSON, PNG,
CHARX), write them by hand, list, read, edit, export back (TavernAI V1, V2, V3 JSON or PNG),
their portraits; and a story's cast (/stories/{id}/characters)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from luna_narrates.api.access import PrincipalDep, check_owned
from luna_narrates.api.deps import Offset, ServicesDep, SessionDep
from luna_narrates.api.uploads import BadUpload, multipart_body, read_upload
from luna_narrates.characters import service
from luna_narrates.characters.schemas import (
    CardEdit,
    CardFormat,
    CastMember,
    CastOut,
    CharacterCreate,
    CharacterOut,
    CharacterPage,
    CharacterSort,
)
from luna_narrates.jobs.queue import enqueue_lore_embedding
from luna_narrates.narration import card_writing
from luna_narrates.narration.schemas import CharacterGenerate, CharacterWritten, SectionRewrite

router = APIRouter(tags=["characters"])

Limit = Annotated[int, Query(ge=1, le=200)]
IMAGE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "The image."}
}


@router.post(
    "/character-cards/import",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=multipart_body("save_to_library"),
)
async def import_card(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    who: PrincipalDep,
    save_to_library: Annotated[
        bool | None, Query(description="List it in the library (default true).")
    ] = None,
) -> CharacterOut:
    """A card as JSON (TavernAI V1, Character Card V2 or V3, the old Pygmalion shape), PNG
    (`ccv3` read before `chara`) or CHARX, as the body or a multipart `file`. Unknown fields
    and extensions are kept for export; an embedded `character_book` becomes a lorebook
    linked to the character. A PNG's image becomes the portrait."""
    upload = await read_upload(request, services.settings.upload_max_bytes, "card")
    flag = upload.form.get("save_to_library")
    library = save_to_library if save_to_library is not None else _flag(flag)
    imported = await service.import_card(session, upload.data, who.user_id, save_to_library=library)
    if imported.row.lorebook_id is not None:
        await enqueue_lore_embedding(services.jobs, session, imported.row.lorebook_id)
    found = await service.get(session, imported.row.id)
    found.warnings = imported.warnings
    return found


@router.post("/character-cards", status_code=status.HTTP_201_CREATED)
async def generate_card(
    data: CharacterGenerate, services: ServicesDep, who: PrincipalDep
) -> CharacterWritten:
    """A character written by the model (the Writer's) from a name and an idea, as a Character
    Card V3: description, personality, scenario, first message, example dialogue, tags. The
    answer reports the model call (tokens, time, cost), which is also stored."""
    model = card_writing.writer_model(services.registry)
    return await card_writing.generate(services.db, model, data, who.user_id)


@router.post("/character-cards/{character_id}/regenerate-section")
async def regenerate_section(
    character_id: uuid.UUID, data: SectionRewrite, services: ServicesDep
) -> CharacterWritten:
    """The model rewrites one section (description, personality, scenario, first_mes or
    mes_example), seeing the rest of the card and your `instruction`; the rest stays."""
    model = card_writing.writer_model(services.registry)
    return await card_writing.rewrite(
        services.db, model, character_id, data.section, data.instruction
    )


@router.post("/character-cards/manual", status_code=status.HTTP_201_CREATED)
async def create_card(
    data: CharacterCreate, session: SessionDep, who: PrincipalDep
) -> CharacterOut:
    """A character written by hand, stored as a Character Card V3."""
    row = await service.create(session, data, who.user_id)
    return await service.get(session, row.id)


@router.get("/character-cards")
async def list_cards(
    session: SessionDep,
    who: PrincipalDep,
    filter: Annotated[
        str | None, Query(max_length=200, description="Text in the name, description or tags.")
    ] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    library: Annotated[
        bool, Query(description="Only cards saved to the library; false lists every card.")
    ] = True,
    sort_by: CharacterSort = "updated_at",
    limit: Limit = 50,
    offset: Offset = 0,
) -> CharacterPage:
    return await service.listing(
        session,
        who.user_id,
        text=filter,
        tag=tag,
        library_only=library,
        sort_by=sort_by,
        limit=limit,
        offset=offset,
    )


@router.get("/character-cards/{character_id}")
async def get_card(character_id: uuid.UUID, session: SessionDep) -> CharacterOut:
    return await service.get(session, character_id)


@router.patch("/character-cards/{character_id}")
async def update_card(character_id: uuid.UUID, data: CardEdit, session: SessionDep) -> CharacterOut:
    return await service.update(session, character_id, data)


@router.delete("/character-cards/{character_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_card(character_id: uuid.UUID, session: SessionDep) -> Response:
    """The character goes, with its portrait and skills, and leaves the stories it was in;
    its lorebook stays (other stories may use it)."""
    await service.delete(session, character_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/character-cards/{character_id}/export",
    response_class=Response,
    responses={
        200: {
            "content": {"application/json": {}, "image/png": {}},
            "description": "The card file.",
        }
    },
)
async def export_card(
    character_id: uuid.UUID, session: SessionDep, format: CardFormat = "v3"
) -> Response:
    """`tavernai` (V1), `v2` and `v3` are JSON; `png` is the portrait (or a placeholder image
    saying so) with the card in `ccv3` and a V2 backfill in `chara`, as SillyTavern writes it."""
    found = await service.export(session, character_id, format)
    return Response(
        found.data,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@router.get(
    "/character-cards/{character_id}/portrait", response_class=Response, responses=IMAGE_RESPONSE
)
async def get_portrait(character_id: uuid.UUID, session: SessionDep) -> Response:
    """The portrait; a generated placeholder (header `X-Luna-Placeholder: true`) until the
    character has one."""
    image, media_type, placeholder = await service.portrait(session, character_id)
    headers = {"X-Luna-Placeholder": "true"} if placeholder else {}
    return Response(image, media_type=media_type, headers=headers)


@router.put(
    "/character-cards/{character_id}/portrait",
    status_code=status.HTTP_204_NO_CONTENT,
    openapi_extra=multipart_body(),
)
async def put_portrait(
    character_id: uuid.UUID, request: Request, session: SessionDep, services: ServicesDep
) -> Response:
    """A PNG, JPEG or WebP, as a multipart `file` or the raw body."""
    upload = await read_upload(request, services.settings.upload_max_bytes, "portrait")
    await service.set_portrait(session, character_id, upload.data)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/stories/{story_id}/characters")
async def list_cast(story_id: uuid.UUID, session: SessionDep) -> list[CastOut]:
    return await service.cast(session, story_id)


@router.post("/stories/{story_id}/characters", status_code=status.HTTP_201_CREATED)
async def add_to_cast(
    story_id: uuid.UUID, data: CastMember, session: SessionDep, who: PrincipalDep
) -> CastOut:
    """Puts a character into the story, as its protagonist (one at most) or an NPC; the
    Preprocessor reads the card from the next turn on."""
    await check_owned(session, who, "character_id", data.character_id)
    return await service.add_to_story(session, story_id, data.character_id, data.role)


@router.delete(
    "/stories/{story_id}/characters/{character_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def remove_from_cast(
    story_id: uuid.UUID, character_id: uuid.UUID, session: SessionDep
) -> Response:
    await service.remove_from_story(session, story_id, character_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _flag(value: str | None) -> bool:
    if value is None or value.strip().lower() in ("", "true", "1", "yes", "on"):
        return True
    if value.strip().lower() in ("false", "0", "no", "off"):
        return False
    raise BadUpload(f"save_to_library must be true or false, not {value!r}.")
