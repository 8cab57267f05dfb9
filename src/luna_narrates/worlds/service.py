"""Worlds and story starts: a world from scratch or from a template (its lore as a lorebook,
its NPCs as cards), and a new story written from scratch, from a template or in a world, with
its cast and lorebooks in place. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.characters import service as characters
from luna_narrates.characters.schemas import CharacterCreate
from luna_narrates.db.tables import CharacterCard, World, WorldCharacter
from luna_narrates.db.tables import Lorebook as LorebookRow
from luna_narrates.formats.world_info import Lorebook, checked_entry
from luna_narrates.lore import service as lore
from luna_narrates.stories import service as stories
from luna_narrates.stories.schemas import StoryCreate, StoryOut
from luna_narrates.worlds import repository
from luna_narrates.worlds.errors import StartRefused, WorldNotFound
from luna_narrates.worlds.schemas import (
    StoryStart,
    StoryTemplate,
    TemplateCharacter,
    WorldCharacterRef,
    WorldCreate,
    WorldOut,
    WorldPage,
    WorldUpdate,
)
from luna_narrates.worlds.templates import template

DEFAULT_OPENING = "Open the story: set the scene and the situation the protagonist faces."


async def create(session: AsyncSession, data: WorldCreate, owner_id: uuid.UUID) -> WorldOut:
    """The player's world; a template's lore and cast become the player's too."""
    found = template(data.template_id) if data.template_id else None
    name = data.name or (found.title if found else None)
    if name is None:
        raise StartRefused("A world needs a name, or a template_id to take one from.")
    world = World(
        owner_id=owner_id,
        name=name,
        genre=data.genre or (found.genre if found else None),
        description=data.description or (found.setting if found else ""),
        tone=data.tone or (found.tone if found else None),
        template_id=found.id if found else None,
    )
    if found is not None:
        world.lorebook_id = (await _template_lore(session, found, owner_id)).id
    session.add(world)
    await session.flush()
    if found is not None:
        for character in found.characters:
            card = await _card(session, character, owner_id)
            session.add(WorldCharacter(world_id=world.id, character_id=card.id))
        await session.flush()
    return await get(session, world.id)


async def require(session: AsyncSession, world_id: uuid.UUID) -> World:
    world = await repository.get(session, world_id)
    if world is None:
        raise WorldNotFound(world_id)
    return world


async def get(session: AsyncSession, world_id: uuid.UUID) -> WorldOut:
    return (await _outs(session, [await require(session, world_id)]))[0]


async def listing(
    session: AsyncSession, owner_id: uuid.UUID, *, genre: str | None, limit: int, offset: int
) -> WorldPage:
    """The player's worlds."""
    rows, total = await repository.listing(
        session, owner_id, genre=genre, limit=limit, offset=offset
    )
    return WorldPage(items=await _outs(session, rows), total=total)


async def update(session: AsyncSession, world_id: uuid.UUID, data: WorldUpdate) -> WorldOut:
    world = await require(session, world_id)
    changes = data.model_dump(exclude_unset=True)
    if "lorebook_id" in changes and changes["lorebook_id"] is not None:
        await lore.require(session, changes["lorebook_id"])
    for key, value in changes.items():
        if value is None and key in ("name",):
            raise StartRefused(f"{key} cannot be null.")
        setattr(world, key, "" if value is None and key == "description" else value)
    await session.flush()
    await session.refresh(world)
    return await get(session, world.id)


async def delete(session: AsyncSession, world_id: uuid.UUID) -> None:
    """The world goes; its lorebook and characters stay, as stories may use them."""
    if not await repository.delete_world(session, world_id):
        raise WorldNotFound(world_id)


async def add_character(
    session: AsyncSession, world_id: uuid.UUID, character_id: uuid.UUID
) -> WorldOut:
    await require(session, world_id)
    await characters.require(session, character_id)
    if await repository.link(session, world_id, character_id) is None:
        session.add(WorldCharacter(world_id=world_id, character_id=character_id))
        await session.flush()
    return await get(session, world_id)


async def remove_character(
    session: AsyncSession, world_id: uuid.UUID, character_id: uuid.UUID
) -> None:
    await require(session, world_id)
    link = await repository.link(session, world_id, character_id)
    if link is None:
        await characters.require(session, character_id)
        raise StartRefused("That character is not in this world.")
    await session.delete(link)


@dataclass
class Started:
    """A new story, the situation its opening should set, and what was made for it alone
    (a template's cast and lore), so that a failed opening can take all of it back."""

    story: StoryOut
    opening: str
    characters: list[uuid.UUID] = field(default_factory=list)
    lorebooks: list[uuid.UUID] = field(default_factory=list)


async def start_story(session: AsyncSession, data: StoryStart, owner_id: uuid.UUID) -> Started:
    """The owner's story; a template's cast and lore made for it are the owner's too. A
    `world_id` is taken as it is: the caller checks that the world is the owner's."""
    found = template(data.template_id) if data.template_id else None
    world = await require(session, data.world_id) if data.world_id else None
    title = data.title or (found.title if found else None)
    premise = data.premise or (found.premise if found else None)
    if title is None or premise is None:
        raise StartRefused("A story needs a title and a premise, or a template_id.")
    protagonist = data.protagonist
    if protagonist is None and found is not None:
        protagonist = f"{found.protagonist.name}, {found.protagonist.description}"
    setting = data.setting or (world.description if world else None)
    setting = setting or (found.setting if found else None)
    story = await stories.create_story(
        session,
        StoryCreate(
            title=title,
            genre=data.genre
            or (world.genre if world else None)
            or (found.genre if found else None),
            setting=setting[:1_000] if setting else None,
            premise=premise,
            protagonist=protagonist,
        ),
        owner_id,
    )
    started = Started(story, found.opening if found else DEFAULT_OPENING)
    if found is not None:
        book = await _template_lore(session, found, owner_id)
        await lore.attach(session, story.id, book.id)
        started.lorebooks.append(book.id)
        hero = await _card(session, found.protagonist, owner_id)
        await characters.add_to_story(session, story.id, hero.id, "protagonist")
        started.characters.append(hero.id)
        for character in found.characters:
            card = await _card(session, character, owner_id)
            await characters.add_to_story(session, story.id, card.id, "npc")
            started.characters.append(card.id)
    if world is not None:
        if world.lorebook_id is not None:
            await lore.attach(session, story.id, world.lorebook_id)
        cast = {m.character.id for m in await characters.cast(session, story.id)}
        for card in (await repository.characters(session, [world.id]))[world.id]:
            if card.id not in cast:
                await characters.add_to_story(session, story.id, card.id, "npc")
    if world is not None and found is None:
        started.opening = (
            f"Open the story in {world.name}: set the scene and the protagonist's situation."
        )
    return started


async def take_back(session: AsyncSession, started: Started) -> None:
    """Deletes a story whose start failed, with the cast and lore made for it alone."""
    await stories.delete_story(session, started.story.id)
    for character_id in started.characters:
        await characters.delete(session, character_id)
    for lorebook_id in started.lorebooks:
        await lore.delete(session, lorebook_id)


async def _template_lore(
    session: AsyncSession, found: StoryTemplate, owner_id: uuid.UUID
) -> LorebookRow:
    entries = [
        checked_entry(
            {
                "uid": index,
                "key": [place.name],
                "comment": place.name,
                "content": f"{place.name}: {place.description}",
                "extensions": {"luna": {"kind": kind}},
            },
            "template",
        )
        for index, (kind, place) in enumerate(
            [*(("location", p) for p in found.locations), *(("item", p) for p in found.items)]
        )
    ]
    book = Lorebook(entries, name=found.title, description=found.setting, source="sillytavern")
    return await lore.store(
        session, book, owner_id, name=found.title, universe_name=found.title, tier="hot"
    )


async def _card(
    session: AsyncSession, character: TemplateCharacter, owner_id: uuid.UUID
) -> CharacterCard:
    return await characters.create(
        session,
        CharacterCreate(
            name=character.name,
            description=character.description,
            personality=character.personality,
            in_library=False,
        ),
        owner_id,
        origin="template",
    )


async def _outs(session: AsyncSession, worlds: Sequence[World]) -> list[WorldOut]:
    cast = await repository.characters(session, [w.id for w in worlds])
    books = [w.lorebook_id for w in worlds if w.lorebook_id is not None]
    counts = await repository.kind_counts(session, books)
    return [
        WorldOut(
            id=w.id,
            name=w.name,
            genre=w.genre,
            description=w.description,
            tone=w.tone,
            template_id=w.template_id,
            lorebook_id=w.lorebook_id,
            characters=[WorldCharacterRef(id=c.id, name=c.name) for c in cast[w.id]],
            location_count=counts.get((w.lorebook_id, "location"), 0) if w.lorebook_id else 0,
            item_count=counts.get((w.lorebook_id, "item"), 0) if w.lorebook_id else 0,
            created_at=w.created_at,
            updated_at=w.updated_at,
        )
        for w in worlds
    ]
