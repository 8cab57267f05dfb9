"""All SQL of the characters domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.tables import CharacterCard, CharacterPortrait, CharacterSkill, StoryCharacter


async def get(session: AsyncSession, character_id: uuid.UUID) -> CharacterCard | None:
    return await session.get(CharacterCard, character_id)


async def cards(
    session: AsyncSession, character_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CharacterCard]:
    query = select(CharacterCard).where(CharacterCard.id.in_(list(character_ids)))
    return {card.id: card for card in (await session.scalars(query)).all()}


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
) -> tuple[Sequence[CharacterCard], int]:
    query = select(CharacterCard).where(CharacterCard.owner_id == owner_id)
    if library_only:
        query = query.where(CharacterCard.in_library)
    if text:
        needle = text.lower()
        query = query.where(
            or_(
                func.lower(CharacterCard.name).contains(needle, autoescape=True),
                func.lower(
                    func.coalesce(
                        CharacterCard.card["data"]["description"].astext,
                        CharacterCard.card["description"].astext,
                    )
                ).contains(needle, autoescape=True),
                func.lower(func.array_to_string(CharacterCard.tags, " ")).contains(
                    needle, autoescape=True
                ),
            )
        )
    if tag:
        tags = func.unnest(CharacterCard.tags).table_valued("tag").render_derived()
        query = query.where(
            exists(select(1).select_from(tags).where(func.lower(tags.c.tag) == tag.lower()))
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    order = {
        "name": (func.lower(CharacterCard.name), CharacterCard.id),
        "created_at": (CharacterCard.created_at.desc(), CharacterCard.id),
        "updated_at": (CharacterCard.updated_at.desc(), CharacterCard.id),
    }[sort_by]
    rows = await session.scalars(query.order_by(*order).limit(limit).offset(offset))
    return rows.all(), int(total or 0)


async def skills(
    session: AsyncSession, character_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[CharacterSkill]]:
    query = (
        select(CharacterSkill)
        .where(CharacterSkill.character_id.in_(list(character_ids)))
        .order_by(CharacterSkill.category, func.lower(CharacterSkill.name))
    )
    found: dict[uuid.UUID, list[CharacterSkill]] = {i: [] for i in character_ids}
    for skill in (await session.scalars(query)).all():
        found[skill.character_id].append(skill)
    return found


async def replace_skills(
    session: AsyncSession, character_id: uuid.UUID, rows: Sequence[CharacterSkill]
) -> None:
    await session.execute(delete(CharacterSkill).where(CharacterSkill.character_id == character_id))
    session.add_all(rows)
    await session.flush()


async def portrait(session: AsyncSession, character_id: uuid.UUID) -> CharacterPortrait | None:
    return await session.get(CharacterPortrait, character_id)


async def with_portrait(
    session: AsyncSession, character_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    query = select(CharacterPortrait.character_id).where(
        CharacterPortrait.character_id.in_(list(character_ids))
    )
    return set((await session.scalars(query)).all())


async def delete_character(session: AsyncSession, character_id: uuid.UUID) -> bool:
    result = await session.execute(delete(CharacterCard).where(CharacterCard.id == character_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def cast(session: AsyncSession, story_id: uuid.UUID) -> Sequence[StoryCharacter]:
    query = (
        select(StoryCharacter)
        .where(StoryCharacter.story_id == story_id)
        .order_by(StoryCharacter.role.desc(), StoryCharacter.created_at)
    )
    return (await session.scalars(query)).all()


async def cast_member(
    session: AsyncSession, story_id: uuid.UUID, character_id: uuid.UUID
) -> StoryCharacter | None:
    return await session.get(StoryCharacter, (story_id, character_id))


async def protagonist(session: AsyncSession, story_id: uuid.UUID) -> StoryCharacter | None:
    query = select(StoryCharacter).where(
        StoryCharacter.story_id == story_id, StoryCharacter.role == "protagonist"
    )
    return (await session.scalars(query)).first()
