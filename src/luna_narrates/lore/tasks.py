"""The lore job: embeds a hot or warm book's entries for semantic activation, in batches,
with no connection held while the model runs."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import update

from luna_narrates.db.engine import Database
from luna_narrates.db.tables import LorebookEntry
from luna_narrates.llm.embeddings import Embedder
from luna_narrates.lore import repository

BATCH = 64
CONTENT_CHARS = 1_500


def entry_text(fields: dict[str, Any]) -> str:
    """What an entry means: its title, its keys and the start of its content."""
    keys = ", ".join(fields.get("key") or [])
    parts = (fields.get("comment") or "", keys, (fields.get("content") or "")[:CONTENT_CHARS])
    return ". ".join(part for part in parts if part)


async def embed_entries(db: Database, embedder: Embedder, lorebook_id: uuid.UUID) -> int:
    """Embeds the entries that have no embedding yet; returns how many. Entries edited or
    deleted meanwhile are simply written or skipped: their embedding was cleared by the edit
    and the edit deferred another run."""
    done = 0
    while True:
        async with db.transaction() as session:
            batch = await repository.unembedded(session, lorebook_id, BATCH)
        if not batch:
            return done
        vectors = await asyncio.to_thread(embedder.embed, [entry_text(row.fields) for row in batch])
        async with db.transaction() as session:
            for row, vector in zip(batch, vectors, strict=True):
                await session.execute(
                    update(LorebookEntry)
                    .where(LorebookEntry.id == row.id, LorebookEntry.embedding.is_(None))
                    .values(embedding=vector)
                )
        done += len(batch)
