"""Exports a story: the lossless JSON archive, streamed row by row from one consistent
snapshot, and readable books of one branch (Markdown, HTML, EPUB)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from luna_narrates.archive import pictures
from luna_narrates.archive.books import read_book
from luna_narrates.archive.schemas import ExportFormat
from luna_narrates.archive.tables import EXPORTED, STORY
from luna_narrates.db.engine import Database
from luna_narrates.errors import InvalidInput
from luna_narrates.formats.story_archive import FORMAT, VERSION
from luna_narrates.formats.story_book import epub_bytes, html_chunks, markdown_chunks
from luna_narrates.kit.names import slug
from luna_narrates.stories import service as stories
from luna_narrates.stories.errors import StoryNotFound

STREAM_ROWS = 500


def encode(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def dumps(value: Any) -> str:
    return json.dumps(value, default=encode, ensure_ascii=False, separators=(",", ":"))


async def json_chunks(db: Database, data_dir: Path, story_id: uuid.UUID) -> AsyncIterator[str]:
    """The archive as text pieces, one row (or picture) per line. Raises StoryNotFound before
    the first."""
    async with db.engine.connect() as connection:
        await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            story = (await connection.execute(STORY.rows_of(story_id))).mappings().first()
            if story is None:
                raise StoryNotFound(story_id)
            head = {
                "format": FORMAT,
                "version": VERSION,
                "exported_at": datetime.now(UTC),
                "application": f"luna-narrates {version('luna-narrates')}",
                "story": dict(story),
            }
            yield dumps(head)[:-1] + ',\n"tables":{'
            for position, spec in enumerate(EXPORTED):
                yield ("," if position else "") + f"\n{json.dumps(spec.name)}:["
                first = True
                async for row in _rows(connection, spec.rows_of(story_id)):
                    yield ("\n" if first else ",\n") + dumps(row)
                    first = False
                yield "]"
            yield '\n},\n"files":{'
            async for piece in pictures.file_chunks(connection, data_dir, story_id):
                yield piece
            yield "\n}}\n"


async def _rows(connection: AsyncConnection, query: Any) -> AsyncIterator[dict[str, Any]]:
    result = await connection.stream(query.execution_options(yield_per=STREAM_ROWS))
    async for row in result.mappings():
        yield dict(row)


@dataclass
class Export:
    media_type: str
    filename: str
    chunks: AsyncIterator[bytes]


MEDIA_TYPES: dict[ExportFormat, tuple[str, str]] = {
    "json": ("application/json", "luna.json"),
    "markdown": ("text/markdown; charset=utf-8", "md"),
    "html": ("text/html; charset=utf-8", "html"),
    "epub": ("application/epub+zip", "epub"),
}


async def open_export(
    db: Database,
    data_dir: Path,
    story_id: uuid.UUID,
    kind: ExportFormat,
    branch_id: uuid.UUID | None,
    arc_length: int,
) -> Export:
    """Checks what can fail (no story, no branch) before the first byte goes out."""
    media_type, extension = MEDIA_TYPES[kind]
    if kind == "json":
        if branch_id is not None:
            raise InvalidInput(
                "A JSON export carries every branch; branch_id is for markdown, html and epub.",
                field="branch_id",
            )
        async with db.sessions() as session:
            story = await stories.require_story(session, story_id)
        name = f"{slug(story.title, 'story')}.{extension}"
        return Export(media_type, name, _encoded(json_chunks(db, data_dir, story_id)))
    async with db.sessions() as session:
        book = await read_book(session, story_id, branch_id, arc_length)
    name = f"{slug(book.title, 'story')}.{extension}"
    if kind == "epub":
        data = await asyncio.to_thread(epub_bytes, book)
        return Export(media_type, name, _encoded([data]))
    pieces = markdown_chunks(book) if kind == "markdown" else html_chunks(book)
    return Export(media_type, name, _encoded(pieces))


async def _encoded(
    pieces: AsyncIterator[str] | Iterable[str] | Iterable[bytes],
) -> AsyncIterator[bytes]:
    """Any export's pieces, streamed as bytes."""
    if isinstance(pieces, AsyncIterator):
        async for piece in pieces:
            yield piece.encode()
    else:
        for item in pieces:
            yield item.encode() if isinstance(item, str) else item
