"""The Dreamer's pool: dreaming (the agent's ideas stored, the pool kept to its size, the likely
ones drawn ahead of need), expiry, realization, and the reports.

An idea is realized when a turn uses it: its name is in the Strategist's plan (`strategist`) or
in the passage (`writer`). Its images then stop being speculative and belong to that turn.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from luna_narrates.agents.preprocessor.memory_schemas import (
    DESCRIPTION_CHARS,
    KEY_CHARS,
    NAME_CHARS,
    TEXT_CHARS,
    EntityKind,
    EntityMention,
    FactChange,
    TurnMemory,
)
from luna_narrates.config import Settings
from luna_narrates.db.tables import DreamerContent, DreamerTally, GeneratedImage, Turn
from luna_narrates.dreamer.schemas import DreamerStatistics, IdeaOut, PoolImage, TypeStatistics
from luna_narrates.images import cleanup, storage
from luna_narrates.images import service as images
from luna_narrates.images.planning import ImageType, Wanted, fill, seed_for
from luna_narrates.memory.text import normalize

PROMPTS = {  # which image prompt template an idea's picture uses
    "character": "image_portrait_prompt",
    "location": "image_background_prompt",
}
LEDGER_KINDS: dict[str, EntityKind] = {
    "character": "character",
    "location": "location",
    "item": "item",
}
IMAGE_TYPES: dict[str, ImageType] = {
    "character": "portrait",
    "location": "background",
    "item": "item",
}


def idea_text(name: str, description: str) -> str:
    """What an idea's embedding is made from."""
    return f"{name}: {description}"


async def pool_names(session: AsyncSession, story_id: uuid.UUID) -> list[str]:
    return list(
        await session.scalars(
            select(DreamerContent.name)
            .where(DreamerContent.story_id == story_id)
            .order_by(DreamerContent.created_at)
        )
    )


async def store_ideas(
    session: AsyncSession,
    story_id: uuid.UUID,
    ideas: Sequence[dict[str, Any]],
    settings: Settings,
    now: datetime | None = None,
) -> list[DreamerContent]:
    """Adds the ideas of one dream (a name the story already has in its pool is skipped), then
    keeps the pool to its size: the least likely unrealized ideas go first, images and all."""
    now = now or datetime.now(UTC)
    session_id = uuid.uuid4()
    expires = now + timedelta(days=settings.dreamer_asset_expiry_days)
    added: list[DreamerContent] = []
    for idea in ideas:
        row_id = await session.scalar(
            insert(DreamerContent)
            .values(
                id=uuid.uuid4(),
                story_id=story_id,
                session_id=session_id,
                content_type=idea["content_type"],
                name=idea["name"],
                description=idea["description"],
                details=idea.get("metadata") or {},
                confidence=idea["confidence"],
                embedding=idea.get("embedding"),
                created_at=now,
                expires_at=expires,
            )
            .on_conflict_do_nothing()
            .returning(DreamerContent.id)
        )
        if row_id is not None:
            added.append(await _get(session, row_id))
    for kind, count in Counter(idea.content_type for idea in added).items():
        tally = insert(DreamerTally).values(story_id=story_id, content_type=kind, dreamed=count)
        await session.execute(
            tally.on_conflict_do_update(
                index_elements=[DreamerTally.story_id, DreamerTally.content_type],
                set_={"dreamed": DreamerTally.dreamed + count},
            )
        )
    await _evict(session, story_id, settings.dreamer_speculative_pool_size, settings.luna_data_dir)
    return [row for row in added if await session.get(DreamerContent, row.id) is not None]


def speculative_images(ideas: Sequence[DreamerContent], settings: Settings) -> list[GeneratedImage]:
    """Image rows for the ideas likely enough to be needed (`dreamer_confidence_threshold`),
    `dreamer_variants_per_concept` each; plot twists have no picture."""
    rows: list[GeneratedImage] = []
    for idea in ideas:
        if idea.confidence < settings.dreamer_confidence_threshold:
            continue
        if idea.content_type == "plot_twist":
            continue
        image_type = IMAGE_TYPES.get(idea.content_type, "scene")
        template = getattr(settings, PROMPTS.get(idea.content_type, "image_action_prompt"))
        prompt = fill(template, subject=idea.name, description=idea.description, genre="story")
        for variant in range(settings.dreamer_variants_per_concept):
            wanted = Wanted(image_type, idea.name, prompt, seed_for(idea.id, variant), variant)
            rows.append(
                images.pending_image(
                    idea.story_id,
                    wanted,
                    settings,
                    dreamer_content_id=idea.id,
                    speculative=True,
                )
            )
    return rows


async def used_by(session: AsyncSession, turn: Turn) -> list[tuple[DreamerContent, str]]:
    """The pool's ideas this turn uses, each with who used it: named in the Strategist's plan
    (`strategist`) or in the passage (`writer`). Ideas already realized count only for the
    turn that realized them."""
    plan_text = " ".join(_strings(turn.plan or {})).lower()
    passage = turn.narrative_text.lower()
    found = await session.scalars(
        select(DreamerContent)
        .where(
            DreamerContent.story_id == turn.story_id,
            (DreamerContent.realized_in_turn.is_(None))
            | (DreamerContent.realized_in_turn == turn.id),
        )
        .order_by(DreamerContent.created_at)
    )
    used = []
    for idea in found:
        name = idea.name.lower()
        by = "strategist" if name in plan_text else "writer" if name in passage else None
        if by is not None:
            used.append((idea, by))
    return used


async def realize(session: AsyncSession, turn: Turn) -> list[DreamerContent]:
    """Marks the pool's ideas this turn used; their images stop being speculative and become
    the turn's, unless a row of the turn shows them already (planning its images found them)."""
    realized = []
    for idea, by in await used_by(session, turn):
        if idea.realized_in_turn is None:
            idea.realized_in_turn, idea.realized_by = turn.id, by
            idea.realized_at = datetime.now(UTC)
        realized.append(idea)
    if realized:
        await cleanup.lock_story_images(session, turn.story_id)  # planning the turn's images waits
        pictures = GeneratedImage.dreamer_content_id.in_([i.id for i in realized])
        await session.execute(update(GeneratedImage).where(pictures).values(speculative=False))
        shown = aliased(GeneratedImage)  # a row of the turn that shows the picture already
        await session.execute(
            update(GeneratedImage)
            .where(
                pictures,
                GeneratedImage.turn_id.is_(None),
                ~select(shown.id)
                .where(shown.source_image_id == GeneratedImage.id, shown.turn_id == turn.id)
                .exists(),
            )
            .values(turn_id=turn.id)
        )
    return realized


def into_memory(memory: TurnMemory, ideas: Sequence[DreamerContent]) -> TurnMemory:
    """The turn's memory with the ideas it used entered into the world-state ledger: each
    character, location or item the extractor did not name itself comes in with the Dreamer's
    description, and the idea's details become its facts from this turn on. Scenes and plot
    twists are not things the ledger tracks."""
    named = {
        normalize(name) for mention in memory.entities for name in (mention.name, *mention.aliases)
    }
    entities, facts = list(memory.entities), list(memory.facts)
    for idea in ideas:
        if idea.content_type not in LEDGER_KINDS:
            continue
        name = idea.name[:NAME_CHARS]
        if normalize(name) not in named:
            named.add(normalize(name))
            entities.append(
                EntityMention(
                    name=name,
                    kind=LEDGER_KINDS[idea.content_type],
                    description=idea.description[:DESCRIPTION_CHARS],
                )
            )
        facts.extend(
            FactChange(subject=name, key=str(key)[:KEY_CHARS], value=str(value)[:TEXT_CHARS])
            for key, value in idea.details.items()
            if str(key).strip() and str(value).strip()
        )
    return memory.model_copy(update={"entities": entities, "facts": facts})


async def expire(session: AsyncSession, data_dir: Path, now: datetime | None = None) -> int:
    """Deletes expired unrealized ideas, their image rows and their files."""
    now = now or datetime.now(UTC)
    stale = list(
        await session.scalars(
            select(DreamerContent.id).where(
                DreamerContent.expires_at <= now, DreamerContent.realized_in_turn.is_(None)
            )
        )
    )
    await _delete(session, stale, data_dir)
    return len(stale)


async def pool(
    session: AsyncSession, story_id: uuid.UUID, content_type: str | None = None
) -> list[IdeaOut]:
    query = (
        select(DreamerContent, Turn.turn_number)
        .outerjoin(Turn, Turn.id == DreamerContent.realized_in_turn)
        .where(DreamerContent.story_id == story_id)
        .order_by(DreamerContent.confidence.desc(), DreamerContent.created_at)
    )
    if content_type is not None:
        query = query.where(DreamerContent.content_type == content_type)
    rows = (await session.execute(query)).all()
    images = await _images(session, [idea.id for idea, _ in rows])
    return [
        IdeaOut(
            id=idea.id,
            session_id=idea.session_id,
            content_type=idea.content_type,
            name=idea.name,
            description=idea.description,
            metadata=idea.details,
            confidence=idea.confidence,
            created_at=idea.created_at,
            expires_at=idea.expires_at,
            realized=idea.realized_in_turn is not None,
            realized_in_turn=number,
            realized_by=idea.realized_by,
            realized_at=idea.realized_at,
            images=images.get(idea.id, []),
        )
        for idea, number in rows
    ]


async def statistics(session: AsyncSession, story_id: uuid.UUID) -> DreamerStatistics:
    """Per type: dreamed (every idea ever, evicted and expired ones too), realized, the rate,
    and the hours from dream to use (the seed's reports)."""
    hours = func.extract("epoch", DreamerContent.realized_at - DreamerContent.created_at) / 3600
    used = (
        select(
            DreamerContent.content_type.label("content_type"),
            func.count(DreamerContent.realized_in_turn).label("realized"),
            func.avg(hours).label("hours"),
        )
        .where(DreamerContent.story_id == story_id)
        .group_by(DreamerContent.content_type)
        .subquery()
    )
    rows = (
        await session.execute(
            select(DreamerTally.content_type, DreamerTally.dreamed, used.c.realized, used.c.hours)
            .outerjoin(used, used.c.content_type == DreamerTally.content_type)
            .where(DreamerTally.story_id == story_id)
            .order_by(DreamerTally.content_type)
        )
    ).all()
    unrealized = await session.scalar(
        select(func.count()).where(
            DreamerContent.story_id == story_id, DreamerContent.realized_in_turn.is_(None)
        )
    )
    return DreamerStatistics(
        by_type=[
            TypeStatistics(
                content_type=kind,
                dreamed=dreamed,
                realized=realized or 0,
                realization_rate=(realized or 0) / dreamed if dreamed else None,
                average_hours_to_realize=float(avg) if avg is not None else None,
            )
            for kind, dreamed, realized, avg in rows
        ],
        pool_size=int(unrealized or 0),
    )


async def _evict(session: AsyncSession, story_id: uuid.UUID, size: int, data_dir: Path) -> None:
    surplus = list(
        await session.scalars(
            select(DreamerContent.id)
            .where(DreamerContent.story_id == story_id, DreamerContent.realized_in_turn.is_(None))
            .order_by(DreamerContent.confidence.desc(), DreamerContent.created_at.desc())
            .offset(size)
        )
    )
    await _delete(session, surplus, data_dir)


async def _delete(session: AsyncSession, ids: list[uuid.UUID], data_dir: Path) -> None:
    """The ideas and their image rows (by cascade) and files (once the rows are gone)."""
    if not ids:
        return
    paths = [
        path
        for path in await session.scalars(
            select(GeneratedImage.path).where(GeneratedImage.dreamer_content_id.in_(ids))
        )
        if path is not None
    ]
    await session.execute(delete(DreamerContent).where(DreamerContent.id.in_(ids)))
    await session.flush()
    for path in paths:
        storage.locate(data_dir, path).unlink(missing_ok=True)


async def _get(session: AsyncSession, row_id: uuid.UUID) -> DreamerContent:
    row = await session.get(DreamerContent, row_id)
    assert row is not None  # inserted in this transaction
    return row


async def _images(
    session: AsyncSession, idea_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[PoolImage]]:
    found: dict[uuid.UUID, list[PoolImage]] = {}
    if not idea_ids:
        return found
    rows = await session.scalars(
        select(GeneratedImage)
        .where(GeneratedImage.dreamer_content_id.in_(idea_ids))
        .order_by(GeneratedImage.variant)
    )
    for image in rows:
        assert image.dreamer_content_id is not None
        ready = image.status == "complete" and image.path is not None
        found.setdefault(image.dreamer_content_id, []).append(
            PoolImage(
                id=image.id,
                status=image.status,
                speculative=image.speculative,
                placeholder=image.placeholder,
                url=f"/images/{image.id}" if ready else None,
            )
        )
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
