"""Imports a story archive as a new story: checked whole, written whole, or not at all.

Every id in the file is replaced by a new one, in the same order (so an export of the import
lists rows as the original did), and every reference, JSON documents included, follows it.
Memory's search vectors are computed again from the exported texts before anything is written.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.archive import cast_and_lore, pictures, structure
from luna_narrates.archive.schemas import StoryImported
from luna_narrates.archive.tables import BY_NAME, EXPORTED, MEMORY, STORY, Exported, row_model
from luna_narrates.db.engine import Database
from luna_narrates.db.tables import (
    CharacterCard,
    DreamerContent,
    GeneratedImage,
    Lorebook,
    MemoryChunk,
    Turn,
    TurnSummary,
)
from luna_narrates.dreamer import service as dreams
from luna_narrates.errors import InvalidInput
from luna_narrates.formats.story_archive import ArchiveError, describe, location, parse
from luna_narrates.images import storage
from luna_narrates.llm.embeddings import Embedder
from luna_narrates.stories.jobs import PostTurnHook

Row = dict[str, Any]


class ImportRefused(InvalidInput):
    code = "invalid_story_archive"

    def __init__(self, problem: str) -> None:
        super().__init__(f"The story archive cannot be imported; nothing was saved. {problem}")


async def import_story(
    db: Database,
    owner_id: uuid.UUID,
    data_dir: Path,
    embedder: Embedder,
    jobs: PostTurnHook,
    data: bytes | str | dict[str, Any],
    embed_lorebook: Callable[[AsyncSession, uuid.UUID], Awaitable[None]],
) -> StoryImported:
    """The story, and copies of its cards and lorebooks, are `owner_id`'s. `embed_lorebook`
    defers the embedding of an imported hot or warm lorebook's entries (embeddings are made
    again, like memory's search vectors)."""
    try:
        envelope = parse(data)
    except ArchiveError as error:
        raise ImportRefused(str(error)) from None
    story = _validate(STORY, [envelope.story], ("story",))[0]
    if unknown := sorted(set(envelope.tables) - set(BY_NAME)):
        raise ImportRefused(f"tables.{unknown[0]}: not a table of a story export.")
    tables = {
        spec.name: _validate(spec, envelope.tables.get(spec.name, []), ("tables", spec.name))
        for spec in EXPORTED
    }
    ids = _new_ids(story, tables)
    _check_references(story["id"], tables, ids)
    files, wrong = pictures.checked(
        envelope.files, story["id"], tables[GeneratedImage.__tablename__]
    )
    if found := structure.problems(tables) + cast_and_lore.problems(tables) + wrong:
        raise ImportRefused(" ".join(found[:5]))
    text_ids = {str(old): str(new) for old, new in ids.items()}
    rows = {
        name: [_remap(BY_NAME[name], row, ids, text_ids) for row in found]
        for name, found in tables.items()
    }
    placed = pictures.moved(rows[GeneratedImage.__tablename__], files, ids)
    await _embed(embedder, rows[MemoryChunk.__tablename__], rows[DreamerContent.__tablename__])
    new_story = _remap(STORY, story, ids, text_ids) | {"owner_id": owner_id}
    for owned in (CharacterCard.__tablename__, Lorebook.__tablename__):
        rows[owned] = [row | {"owner_id": owner_id} for row in rows[owned]]
    try:
        await asyncio.to_thread(pictures.write, data_dir, placed)
        return await _write(db, jobs, embed_lorebook, envelope.version, new_story, rows)
    except BaseException:
        storage.remove_story(data_dir, new_story["id"])  # nothing half-written
        raise


async def _embed(embedder: Embedder, chunks: list[Row], ideas: list[Row]) -> None:
    """Memory's search vectors and the Dreamer's idea vectors, made again from their texts."""
    texts = [c["text"] for c in chunks] + [
        dreams.idea_text(i["name"], i["description"]) for i in ideas
    ]
    vectors = await asyncio.to_thread(embedder.embed_array, texts)
    for chunk, vector in zip(chunks, vectors[: len(chunks)], strict=True):
        chunk.update(embedding=vector, embedder=embedder.name)
    for idea, vector in zip(ideas, vectors[len(chunks) :], strict=True):
        idea.update(embedding=vector)


async def _write(
    db: Database,
    jobs: PostTurnHook,
    embed_lorebook: Callable[[AsyncSession, uuid.UUID], Awaitable[None]],
    version: int,
    new_story: Row,
    rows: dict[str, list[Row]],
) -> StoryImported:
    try:
        async with db.transaction() as session:
            await session.execute(insert(STORY.table), [new_story])
            for spec in EXPORTED:
                for group in _by_columns(rows[spec.name]):
                    await session.execute(insert(spec.table), group)
            pending = await session.scalars(
                select(Turn.id)
                .where(Turn.story_id == new_story["id"], Turn.is_selected)
                .where(~select(TurnSummary.turn_id).where(TurnSummary.turn_id == Turn.id).exists())
                .order_by(Turn.turn_number)
            )
            memory_jobs = 0
            for turn_id in pending.all():
                memory_jobs += len(await jobs(session, new_story["id"], turn_id))
            for book in rows[Lorebook.__tablename__]:
                if book["storage_tier"] != "cold":
                    await embed_lorebook(session, book["id"])
    except IntegrityError as error:
        raise ImportRefused(f"It breaks a rule of a story's structure: {_reason(error)}.") from None
    except DataError as error:
        raise ImportRefused(f"A value does not fit its column: {_reason(error)}.") from None
    return StoryImported(
        story_id=new_story["id"],
        title=new_story["title"],
        format_version=version,
        branches=len(rows["branches"]),
        turns=len(rows["turns"]),
        agent_runs=len(rows["agent_runs"]),
        memory_rows=sum(len(rows[name]) for name in MEMORY),
        memory_jobs=memory_jobs,
        characters=len(rows[CharacterCard.__tablename__]),
        lorebooks=len(rows[Lorebook.__tablename__]),
        images=len(rows[GeneratedImage.__tablename__]),
        dreamer_ideas=len(rows[DreamerContent.__tablename__]),
    )


def _reason(error: DBAPIError) -> str:
    detail = getattr(error.orig, "diag", None)
    return str(getattr(detail, "message_primary", None) or error.orig)


def _validate(spec: Exported, rows: list[Row], where: tuple[str | int, ...]) -> list[Row]:
    model = row_model(spec)
    try:
        checked: list[BaseModel] = TypeAdapter(list[model]).validate_python(rows)  # type: ignore[valid-type]
    except ValidationError as error:
        raise ImportRefused(describe(error, where)) from None
    return [item.model_dump(exclude_unset=True) for item in checked]


def _new_ids(story: Row, tables: dict[str, list[Row]]) -> dict[uuid.UUID, uuid.UUID]:
    """New ids, handed out in the order of the old ones within each table."""
    ids = {story["id"]: uuid.uuid4()}
    for name, rows in tables.items():
        if "id" not in BY_NAME[name].table.c:
            continue
        old = sorted(row["id"] for row in rows)
        if len(set(old)) != len(old):
            raise ImportRefused(f"tables.{name}: two rows share one id.")
        ids.update(zip(old, sorted(uuid.uuid4() for _ in old), strict=True))
    return ids


def _check_references(
    story_id: uuid.UUID, tables: dict[str, list[Row]], ids: dict[uuid.UUID, uuid.UUID]
) -> None:
    present = {name: {row["id"] for row in rows if "id" in row} for name, rows in tables.items()}
    present["stories"] = {story_id}
    for name, rows in tables.items():
        for column in (c for c in BY_NAME[name].columns() if c.foreign_keys):
            target = next(iter(column.foreign_keys)).column.table.name
            for index, row in enumerate(rows):
                value = row.get(column.name)
                if value is not None and value not in present[target]:
                    where = location(("tables", name, index, column.name))
                    raise ImportRefused(
                        f"{where}: refers to {target} row {value}, which is not in the file."
                    )
        if name == MemoryChunk.__tablename__:
            for index, row in enumerate(rows):
                if row.get("source_id") is not None and row["source_id"] not in ids:
                    where = location(("tables", name, index, "source_id"))
                    raise ImportRefused(f"{where}: refers to a row that is not in the file.")


def _remap(
    spec: Exported, row: Row, ids: dict[uuid.UUID, uuid.UUID], text_ids: dict[str, str]
) -> Row:
    moved = dict(row)
    for column in spec.columns():
        value = moved.get(column.name)
        if value is None:
            continue
        if column.primary_key or column.foreign_keys or column.name == "source_id":
            moved[column.name] = ids.get(value, value)
        elif isinstance(column.type, JSONB):
            moved[column.name] = _remap_json(value, text_ids)
    return moved


def _remap_json(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [_remap_json(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _remap_json(v, ids) for k, v in value.items()}
    return value


def _by_columns(rows: list[Row]) -> list[list[Row]]:
    """One insert per set of columns: a file may leave out columns the database defaults."""
    groups: dict[tuple[str, ...], list[Row]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(row))].append(row)
    return list(groups.values())
