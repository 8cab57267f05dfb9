"""Character logic: cards imported from any format we read (their book becoming a lorebook),
written by hand, edited, exported back into the formats other tools read, with a portrait,
skills, and a place in stories. Never commits."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.characters import repository
from luna_narrates.characters.errors import CardRefused, CastConflict, CharacterNotFound
from luna_narrates.characters.schemas import (
    TEXT_FIELDS,
    CardEdit,
    CardFormat,
    CastOut,
    CharacterCreate,
    CharacterOut,
    CharacterPage,
    Role,
    Skill,
)
from luna_narrates.db.tables import CharacterCard, CharacterPortrait, CharacterSkill, StoryCharacter
from luna_narrates.formats import character_card
from luna_narrates.formats.character_card import V3, Card, CardError
from luna_narrates.formats.lorebooks import card_lorebook
from luna_narrates.formats.png_chunks import PNG_SIGNATURE
from luna_narrates.formats.world_info import LorebookError, character_book_json
from luna_narrates.kit import images
from luna_narrates.kit.json_text import find_unstorable
from luna_narrates.kit.names import slug
from luna_narrates.lore import service as lore
from luna_narrates.stories.service import require_story

SPECS = {1: "tavernai", 2: "chara_card_v2", 3: "chara_card_v3"}


@dataclass
class Imported:
    row: CharacterCard
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CardFile:
    data: bytes
    media_type: str
    filename: str


async def import_card(
    session: AsyncSession, payload: bytes, owner_id: uuid.UUID, *, save_to_library: bool
) -> Imported:
    """A card from JSON, PNG or CHARX bytes, the player's (its book too); checked whole
    before anything is written."""
    try:
        card = character_card.read_card(payload)
        book = card_lorebook(card)
    except (CardError, LorebookError) as error:
        raise CardRefused(str(error)) from None
    warnings: list[str] = []
    portrait = _portrait_of(payload, warnings)
    if card.newer_than_known:
        warnings.append(
            f"The card says spec_version {card.spec_version}, newer than 3.0; it was read as 3.0."
        )
    raw = copy.deepcopy(card.raw)
    _data(raw, card.version).pop("character_book", None)
    origin = "png" if payload.startswith(PNG_SIGNATURE) else "json"
    if payload.startswith(character_card.ZIP_SIGNATURE):
        origin = "charx"
    _check_text(raw)
    row = _row(Card(card.version, raw), origin, save_to_library, owner_id)
    if book is not None:
        stored = await lore.store(  # hot: a card's book is small, and always in play
            session,
            book,
            owner_id,
            name=book.name or f"{row.name}'s lorebook",
            universe_name=row.name,
            tier="hot",
        )
        row.lorebook_id = stored.id
    session.add(row)
    await session.flush()
    if portrait is not None:
        await _set_portrait(session, row.id, portrait)
    return Imported(row, warnings)


async def create(
    session: AsyncSession, data: CharacterCreate, owner_id: uuid.UUID, origin: str = "manual"
) -> CharacterCard:
    """A new V3 card of the player's from the fields given."""
    now = int(time.time())
    fields = data.model_dump(exclude_none=True, exclude={"in_library", "skills"})
    raw = {
        "spec": V3,
        "spec_version": "3.0",
        "data": {
            **{name: "" for name in ("name", *TEXT_FIELDS)},
            "alternate_greetings": [],
            "tags": [],
            "extensions": {},
            "group_only_greetings": [],
            "creation_date": now,
            "modification_date": now,
            **fields,
        },
    }
    _check_text(raw)
    row = _row(Card(3, raw), origin, data.in_library is not False, owner_id)
    session.add(row)
    await session.flush()
    if data.skills:
        await _replace_skills(session, row.id, data.skills)
    return row


async def require(session: AsyncSession, character_id: uuid.UUID) -> CharacterCard:
    row = await repository.get(session, character_id)
    if row is None:
        raise CharacterNotFound(character_id)
    return row


async def get(session: AsyncSession, character_id: uuid.UUID) -> CharacterOut:
    return (await outs(session, [await require(session, character_id)]))[0]


async def listing(
    session: AsyncSession,
    owner_id: uuid.UUID,
    *,
    text: str | None,
    tag: str | None,
    library_only: bool,
    sort_by: str,
    limit: int,
    offset: int,
) -> CharacterPage:
    """The player's cards."""
    rows, total = await repository.listing(
        session,
        owner_id,
        text=text,
        tag=tag,
        library_only=library_only,
        sort_by=sort_by,
        limit=limit,
        offset=offset,
    )
    return CharacterPage(items=await outs(session, rows), total=total)


async def update(session: AsyncSession, character_id: uuid.UUID, data: CardEdit) -> CharacterOut:
    row = await require(session, character_id)
    changes = data.model_dump(exclude_unset=True, exclude={"in_library", "skills"})
    for key, value in changes.items():
        if value is None:
            raise CardRefused(f"{key} cannot be null.")
    raw = copy.deepcopy(row.card)
    fields = _data(raw, row.version)
    fields.update(changes)
    if row.version == 3:
        fields["modification_date"] = int(time.time())
    _check_text(raw)
    row.card = raw
    row.name = str(fields.get("name") or "")
    row.tags = _tags(fields)
    if data.in_library is not None:
        row.in_library = data.in_library
    if data.skills is not None:
        await _replace_skills(session, row.id, data.skills)
    await session.flush()
    await session.refresh(row)
    return await get(session, row.id)


async def delete(session: AsyncSession, character_id: uuid.UUID) -> None:
    if not await repository.delete_character(session, character_id):
        raise CharacterNotFound(character_id)


async def export(session: AsyncSession, character_id: uuid.UUID, format: CardFormat) -> CardFile:
    """The card in the format asked for, with its lorebook as `character_book` and, as PNG,
    inside its portrait (or the labelled placeholder)."""
    row = await require(session, character_id)
    raw = copy.deepcopy(row.card)
    if row.lorebook_id is not None:
        book = await lore.whole(session, row.lorebook_id)
        shape: Literal[2, 3] = 3 if format in ("v3", "png") else 2
        _data(raw, row.version)["character_book"] = character_book_json(book, shape)
    card = Card(row.version, raw)  # type: ignore[arg-type]
    name = slug(row.name, "character")
    if format == "png":
        portrait = await repository.portrait(session, row.id)
        image = images.placeholder_portrait(row.name) if portrait is None else portrait.image
        if portrait is not None and portrait.media_type != "image/png":
            image = images.as_png(image)
        return CardFile(character_card.card_png(card, image, 3), "image/png", f"{name}.png")
    version = {"tavernai": 1, "v2": 2, "v3": 3}[format]
    body = character_card.card_json(card, version)  # type: ignore[arg-type]
    if version == 3:
        body["data"]["modification_date"] = int(time.time())
    data = json.dumps(body, ensure_ascii=False, indent=2).encode()
    return CardFile(data, "application/json", f"{name}.{format}.json")


async def portrait(session: AsyncSession, character_id: uuid.UUID) -> tuple[bytes, str, bool]:
    """(image, media type, is_placeholder)."""
    row = await require(session, character_id)
    found = await repository.portrait(session, row.id)
    if found is None:
        return images.placeholder_portrait(row.name), "image/png", True
    return found.image, found.media_type, False


async def set_portrait(session: AsyncSession, character_id: uuid.UUID, data: bytes) -> None:
    row = await require(session, character_id)
    if data.startswith(PNG_SIGNATURE):
        try:
            data = character_card.without_card(data)
        except CardError as error:
            raise CardRefused(str(error)) from None
    await _set_portrait(session, row.id, data)


async def outs(session: AsyncSession, rows: Sequence[CharacterCard]) -> list[CharacterOut]:
    ids = [row.id for row in rows]
    skills = await repository.skills(session, ids)
    pictured = await repository.with_portrait(session, ids)
    return [_out(row, skills[row.id], row.id in pictured) for row in rows]


async def add_to_story(
    session: AsyncSession, story_id: uuid.UUID, character_id: uuid.UUID, role: Role
) -> CastOut:
    await require_story(session, story_id)
    row = await require(session, character_id)
    if await repository.cast_member(session, story_id, character_id) is not None:
        raise CastConflict(f"{row.name} is already in this story.")
    if role == "protagonist":
        current = await repository.protagonist(session, story_id)
        if current is not None:
            raise CastConflict(
                "The story already has a protagonist; remove it first or add this one as an NPC."
            )
    session.add(StoryCharacter(story_id=story_id, character_id=character_id, role=role))
    await session.flush()
    return CastOut(character=await get(session, character_id), role=role)


async def cast(session: AsyncSession, story_id: uuid.UUID) -> list[CastOut]:
    await require_story(session, story_id)
    members = await repository.cast(session, story_id)
    found = await repository.cards(session, [m.character_id for m in members])
    rows = [found[m.character_id] for m in members]
    return [
        CastOut(character=found, role=member.role)
        for member, found in zip(members, await outs(session, rows), strict=True)
    ]


async def remove_from_story(
    session: AsyncSession, story_id: uuid.UUID, character_id: uuid.UUID
) -> None:
    member = await repository.cast_member(session, story_id, character_id)
    if member is None:
        await require_story(session, story_id)
        raise CharacterNotFound(character_id)
    await session.delete(member)


def _row(card: Card, origin: str, in_library: bool, owner_id: uuid.UUID) -> CharacterCard:
    fields = card.data
    name = str(fields.get("name") or "").strip()
    if not name:
        raise CardRefused("The card has no name.")
    if len(name) > 200:
        raise CardRefused("The card's name is longer than 200 characters.")
    return CharacterCard(
        owner_id=owner_id,
        name=name,
        tags=_tags(fields),
        version=card.version,
        card=card.raw,
        origin=origin,
        in_library=in_library,
    )


def _out(row: CharacterCard, skills: list[CharacterSkill], pictured: bool) -> CharacterOut:
    fields = _data(row.card, row.version)
    text = {name: _str(fields.get(name)) for name in TEXT_FIELDS}
    greetings = fields.get("alternate_greetings")
    extensions = fields.get("extensions")
    return CharacterOut(
        id=row.id,
        name=row.name,
        spec=SPECS[row.version],
        origin=row.origin,
        in_library=row.in_library,
        tags=row.tags,
        alternate_greetings=[str(g) for g in greetings] if isinstance(greetings, list) else [],
        extensions=extensions if isinstance(extensions, dict) else {},
        lorebook_id=row.lorebook_id,
        portrait="image" if pictured else "placeholder",
        skills=[Skill.model_validate(s) for s in skills],
        created_at=row.created_at,
        updated_at=row.updated_at,
        **text,
    )


def _data(raw: dict[str, Any], version: int) -> dict[str, Any]:
    """The card's fields inside `raw`, to read or edit in place."""
    if version == 1:
        return raw
    inner = raw.get("data")
    if not isinstance(inner, dict):
        inner = raw["data"] = {}
    return inner


def _tags(fields: dict[str, Any]) -> list[str]:
    tags = fields.get("tags")
    return [str(t)[:100] for t in tags][:100] if isinstance(tags, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _check_text(raw: dict[str, Any]) -> None:
    where = find_unstorable(raw)
    if where is not None:
        raise CardRefused(
            f"The card's {where} holds a NUL character or a non-finite number: it cannot be stored."
        )


def _portrait_of(payload: bytes, warnings: list[str]) -> bytes | None:
    try:
        if payload.startswith(PNG_SIGNATURE):
            return character_card.without_card(payload)
        if payload.startswith(character_card.ZIP_SIGNATURE):
            icon = character_card.charx_icon(payload)
            if icon is None:
                warnings.append("The CHARX has no icon asset; the card uses a placeholder.")
            warnings.append(
                "Only the CHARX's portrait is kept; its other assets are not stored, and an "
                "export will not carry them."
            )
            return icon
    except CardError as error:
        raise CardRefused(str(error)) from None
    return None


async def _set_portrait(session: AsyncSession, character_id: uuid.UUID, data: bytes) -> None:
    try:
        info = images.inspect(data)
    except images.ImageRefused as error:
        raise CardRefused(f"The portrait: {error}") from None
    found = await repository.portrait(session, character_id)
    if found is None:
        found = CharacterPortrait(character_id=character_id)
        session.add(found)
    found.image, found.media_type, found.sha256 = data, info.media_type, info.sha256
    found.width, found.height = info.width, info.height
    await session.flush()


async def _replace_skills(
    session: AsyncSession, character_id: uuid.UUID, skills: list[Skill]
) -> None:
    names = [s.name.lower() for s in skills]
    if len(set(names)) != len(names):
        raise CardRefused("Two skills share a name.")
    rows = [CharacterSkill(character_id=character_id, **s.model_dump()) for s in skills]
    await repository.replace_skills(session, character_id, rows)
