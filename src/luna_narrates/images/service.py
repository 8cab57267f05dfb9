"""A turn's images: planned after the turn is committed, rendered on the GPU pool (or by the
labelled placeholder renderer when no worker is configured), stored as PNG asset cards.

Every image row goes pending → generating → complete or failed. A background reused from the
cache gets a row of its own that names its source and completes with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.config import Settings
from luna_narrates.db.engine import Database
from luna_narrates.db.tables import GeneratedImage, Story, Turn
from luna_narrates.errors import LunaError
from luna_narrates.formats.asset_card import AssetCard, AssetGeneration, ContentType, embed
from luna_narrates.formats.png_chunks import chunks, image_size
from luna_narrates.images import cleanup, storage
from luna_narrates.images.planning import TurnFacts, Wanted, wanted_images
from luna_narrates.images.pool import ImagePool
from luna_narrates.images.schemas import ImageRequest
from luna_narrates.kit.images import placeholder_image

log = logging.getLogger("luna_narrates")

CREATOR = "LUNA-Narrates"
CONTENT_TYPES: dict[str, ContentType] = {
    "background": "background",
    "action": "action",
    "portrait": "character",
    "item": "item",
    "scene": "scene",
}
LIVE = ("pending", "generating", "complete")
# What a reused background takes from the render it reuses (now, and when that completes).
SHARED_WITH_REUSE = (
    "status",
    "error",
    "seed",
    "model",
    "placeholder",
    "worker_id",
    "worker_name",
    "path",
    "checksum",
    "size_bytes",
    "width",
    "height",
    "completed_at",
)


async def plan_turn(db: Database, settings: Settings, turn_id: uuid.UUID) -> list[uuid.UUID]:
    """Adds the rows of the images the turn asks for; answers the ones to render now, at the
    turn's priority. None is needed for a background drawn lately (the cache), nor for a place
    or a character the Dreamer drew ahead of need: the turn's row shows that picture (one the
    Dreamer's render has not begun yet is answered, to be drawn now; whichever job comes second
    finds it drawn). Running it twice for a turn adds nothing the second time."""
    async with db.transaction() as session:
        story_id = await session.scalar(select(Turn.story_id).where(Turn.id == turn_id))
        if story_id is None:
            return []  # the turn was deleted before its images were planned
        await cleanup.lock_story_images(session, story_id)
        found = (
            await session.execute(
                select(Turn, Story.genre)
                .join(Story, Story.id == Turn.story_id)
                .where(Turn.id == turn_id)
            )
        ).one_or_none()
        if found is None:
            return []  # the turn was deleted before its images were planned
        turn, genre = found
        if await session.scalar(select(GeneratedImage.id).where(GeneratedImage.turn_id == turn_id)):
            return []
        facts = TurnFacts(
            str(turn.id),
            turn.turn_number,
            genre or "story",
            turn.user_action,
            turn.narrative_text,
            turn.plan or {},
        )
        drawn = await _portraits_drawn(session, turn.story_id)
        to_render: list[uuid.UUID] = []
        for wanted in wanted_images(facts, settings, portraits_drawn=drawn):
            source = None
            if wanted.image_type == "background":
                source = await _cached(session, turn, wanted, settings.image_cache_duration_turns)
            if source is None and _first_sight(wanted, drawn):
                source = await _dreamed(session, turn.story_id, wanted)
                if source is not None and source.turn_id == turn.id:
                    continue  # the Dreamer's picture is this turn's already (its idea realized)
                if source is not None and source.status == "pending":
                    to_render.append(source.id)  # not begun: drawn now, as the turn's
            row = _row(turn, wanted, settings, source)
            session.add(row)
            if source is None:
                to_render.append(row.id)
        await session.flush()
    return to_render


async def render(
    db: Database, pool: ImagePool, settings: Settings, data_dir: Path, image_id: uuid.UUID
) -> None:
    """Draws a pending image and stores it; a failure is recorded on the row (and on the rows
    that reuse it), never raised, so the job is not retried into the same failure."""
    async with db.transaction() as session:
        row = await session.get(GeneratedImage, image_id, with_for_update=True)
        if row is None or row.status != "pending":
            return
        row.status = "generating"
        request = ImageRequest(
            prompt=row.prompt,
            negative_prompt=row.negative_prompt,
            width=row.settings["width"],
            height=row.settings["height"],
            steps=row.settings["steps"],
            cfg=row.settings["cfg"],
            seed=row.seed if row.seed is not None else -1,
            checkpoint=row.settings.get("checkpoint"),
        )
        story_id, image_type, subject = row.story_id, row.image_type, row.subject
    started = time.perf_counter()
    try:
        if pool.configured:
            result = await pool.render(request)
            png, seed, model = result.image.png, result.image.seed, result.image.model
            worker: tuple[uuid.UUID | None, str | None] = (result.worker_id, result.worker_name)
        else:
            png = await asyncio.to_thread(
                placeholder_image,
                subject,
                request.prompt,
                width=request.width,
                height=request.height,
                kind=image_type,
            )
            seed, model, worker = request.seed, None, (None, None)
        card = _card(image_type, subject, request, seed, model)
        png = await asyncio.to_thread(embed, png, card)
        stored = await asyncio.to_thread(
            storage.write, data_dir, story_id, image_type, image_id, png
        )
        width, height = image_size(chunks(png))  # checked when it arrived, and by embed
    except (LunaError, ValueError, OSError) as error:
        await finish(db, image_id, {"status": "failed", "error": str(error)[:2000]})
        log.warning("image %s failed: %s", image_id, error)
        return
    await finish(
        db,
        image_id,
        {
            "status": "complete",
            "seed": seed,
            "model": model,
            "placeholder": not pool.configured,
            "worker_id": worker[0],
            "worker_name": worker[1],
            "path": stored.path,
            "checksum": stored.checksum,
            "size_bytes": stored.size_bytes,
            "width": width,
            "height": height,
            "seconds": time.perf_counter() - started,
            "completed_at": datetime.now(UTC),
        },
        data_dir,
    )


async def finish(
    db: Database, image_id: uuid.UUID, values: dict[str, Any], data_dir: Path | None = None
) -> None:
    """The image and every row that reuses it take the outcome together. A file drawn for a
    row that went meanwhile (its turn deleted) goes too."""
    shared = {k: v for k, v in values.items() if k in SHARED_WITH_REUSE}
    async with db.transaction() as session:
        found = await session.execute(
            update(GeneratedImage)
            .where(GeneratedImage.id == image_id)
            .values(**values)
            .returning(GeneratedImage.id)
        )
        if found.first() is None:
            if data_dir is not None and values.get("path"):
                storage.locate(data_dir, values["path"]).unlink(missing_ok=True)
            return
        await session.execute(
            update(GeneratedImage)
            .where(GeneratedImage.source_image_id == image_id)
            .values(**shared)
        )


async def watch_turn(
    db: Database, turn_id: uuid.UUID, *, limit: float, settle: float = 10.0, every: float = 0.5
) -> AsyncIterator[tuple[GeneratedImage, int | None]]:
    """The turn's images as each is drawn, until none is left to draw, `settle` seconds pass
    with none planned (the turn asked for none), or `limit` seconds pass."""
    seen: set[uuid.UUID] = set()
    started = time.monotonic()
    while (waited := time.monotonic() - started) < limit:
        async with db.sessions() as session:
            rows = (
                await session.execute(
                    select(GeneratedImage, Turn.turn_number)
                    .join(Turn, Turn.id == GeneratedImage.turn_id)
                    .where(GeneratedImage.turn_id == turn_id)
                    .order_by(GeneratedImage.created_at, GeneratedImage.variant)
                )
            ).all()
        for image, number in rows:
            if image.status == "complete" and image.id not in seen:
                seen.add(image.id)
                yield image, number
        if rows and all(image.status in ("complete", "failed") for image, _ in rows):
            return
        if not rows and waited >= settle:
            return
        await asyncio.sleep(every)


async def images_of(
    session: AsyncSession,
    story_id: uuid.UUID,
    turn_ids: Sequence[uuid.UUID] | None = None,
    image_type: str | None = None,
) -> list[tuple[GeneratedImage, int | None]]:
    """A story's images with the number of the turn that asked for each, newest first."""
    query = (
        select(GeneratedImage, Turn.turn_number)
        .outerjoin(Turn, Turn.id == GeneratedImage.turn_id)
        .where(GeneratedImage.story_id == story_id)
        .order_by(GeneratedImage.created_at.desc(), GeneratedImage.variant)
    )
    if turn_ids is not None:
        query = query.where(GeneratedImage.turn_id.in_(turn_ids))
    if image_type is not None:
        query = query.where(GeneratedImage.image_type == image_type)
    return [(image, number) for image, number in (await session.execute(query)).all()]


async def _portraits_drawn(session: AsyncSession, story_id: uuid.UUID) -> set[str]:
    """The characters a turn has shown a portrait of (the Dreamer's speculative ones are not
    the story's until a turn shows them)."""
    names = await session.scalars(
        select(GeneratedImage.subject).where(
            GeneratedImage.story_id == story_id,
            GeneratedImage.image_type == "portrait",
            GeneratedImage.dreamer_content_id.is_(None),
            GeneratedImage.status.in_(LIVE),
        )
    )
    return {name.lower() for name in names}


def _first_sight(wanted: Wanted, drawn: set[str]) -> bool:
    """A place's background, or a character's first portrait: what the Dreamer may have drawn
    (a portrait asked for because an appearance changed is not)."""
    if wanted.image_type == "portrait":
        return wanted.subject.lower() not in drawn
    return wanted.image_type == "background"


async def _dreamed(
    session: AsyncSession, story_id: uuid.UUID, wanted: Wanted
) -> GeneratedImage | None:
    """The Dreamer's picture of the same subject, drawn or being drawn."""
    return await session.scalar(
        select(GeneratedImage)
        .where(
            GeneratedImage.story_id == story_id,
            GeneratedImage.dreamer_content_id.is_not(None),
            GeneratedImage.image_type == wanted.image_type,
            func.lower(GeneratedImage.subject) == wanted.subject.lower(),
            GeneratedImage.status.in_(LIVE),
        )
        .order_by(GeneratedImage.variant, GeneratedImage.created_at.desc())
        .limit(1)
    )


async def _cached(
    session: AsyncSession, turn: Turn, wanted: Wanted, duration: int
) -> GeneratedImage | None:
    """The latest render of the same background shown within `duration` turns (a row that
    reused one stands for the render it reused)."""
    if duration <= 0:
        return None
    found = await session.scalar(
        select(GeneratedImage)
        .join(Turn, Turn.id == GeneratedImage.turn_id)
        .where(
            GeneratedImage.story_id == turn.story_id,
            GeneratedImage.cache_key == wanted.cache_key,
            GeneratedImage.status.in_(LIVE),
            Turn.turn_number >= turn.turn_number - duration,
            Turn.turn_number <= turn.turn_number,
        )
        .order_by(Turn.turn_number.desc())
        .limit(1)
    )
    if found is not None and found.source_image_id is not None:
        return await session.get(GeneratedImage, found.source_image_id) or found
    return found


def pending_image(
    story_id: uuid.UUID, wanted: Wanted, settings: Settings, **links: Any
) -> GeneratedImage:
    """A row for an image to draw, with the settings it is drawn with; `links` tie it to the
    turn (`turn_id`) or the Dreamer's idea (`dreamer_content_id`, `speculative`)."""
    return GeneratedImage(
        id=uuid.uuid4(),
        story_id=story_id,
        image_type=wanted.image_type,
        subject=wanted.subject,
        prompt=wanted.prompt,
        negative_prompt=settings.image_negative_prompt,
        settings={
            "width": settings.image_width,
            "height": settings.image_height,
            "steps": settings.image_steps,
            "cfg": settings.image_cfg,
            "checkpoint": settings.image_checkpoint,
        },
        seed=wanted.seed,
        variant=wanted.variant,
        cache_key=wanted.cache_key,
        status="pending",
        **links,
    )


def _row(
    turn: Turn, wanted: Wanted, settings: Settings, source: GeneratedImage | None
) -> GeneratedImage:
    row = pending_image(turn.story_id, wanted, settings, turn_id=turn.id)
    if source is not None:
        row.source_image_id = source.id
        for name in SHARED_WITH_REUSE:
            setattr(row, name, getattr(source, name))
        row.seconds = 0.0
    return row


def _card(
    image_type: str, subject: str, request: ImageRequest, seed: int, model: str | None
) -> AssetCard:
    return AssetCard(
        content_type=CONTENT_TYPES.get(image_type, "scene"),
        name=subject,
        description=request.prompt[:4000],
        generation=AssetGeneration(
            prompt=request.prompt,
            model=model or "placeholder",
            steps=request.steps,
            cfg=request.cfg,
            seed=seed if seed >= 0 else None,
        ),
        created_by=CREATOR,
        created_at=datetime.now(UTC),
    )
