"""Post-turn memory work, run by the job worker after the turn commits."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from luna_narrates.db.engine import Database
from luna_narrates.db.tables import Turn, TurnEmbedding
from luna_narrates.llm.embeddings import Embedder


def turn_document(turn: Turn) -> str:
    """What gets embedded: who acted and when, not the bare passage."""
    return f"Turn {turn.turn_number}. Player: {turn.user_action}\n{turn.narrative_text}"


async def embed_turn(db: Database, embedder: Embedder, turn_id: uuid.UUID) -> bool:
    """Idempotent: running it twice leaves one row. False when the turn no longer exists."""
    async with db.sessions() as session:
        turn = await session.scalar(select(Turn).where(Turn.id == turn_id))
    if turn is None:
        return False
    [vector] = await asyncio.to_thread(embedder.embed, [turn_document(turn)])
    async with db.transaction() as session:
        statement = insert(TurnEmbedding).values(
            turn_id=turn_id, embedder=embedder.name, embedding=vector
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[TurnEmbedding.turn_id],
                set_={"embedding": statement.excluded.embedding, "embedder": embedder.name},
            )
        )
    return True
