"""The search index: every remembered text (passage chunk, summary, fact, entity, arc) with its
embedding (pgvector, HNSW cosine) and its full-text vector (tsvector, GIN)."""

from __future__ import annotations

import uuid

from pgvector.sqlalchemy import Vector
from sqlalchemy import Computed, Index, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, FromTurn, uuid_pk

EMBEDDING_DIMENSIONS = 384


class MemoryChunk(FromTurn, Base):
    __tablename__ = "memory_chunks"
    __table_args__ = (
        Index(None, "story_id", "branch_id", "turn_number"),
        Index(
            "ix_memory_chunks_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        Index("ix_memory_chunks_search", "search", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[uuid.UUID | None] = mapped_column(
        index=True, doc="The fact, entity or arc it indexes."
    )
    text: Mapped[str] = mapped_column(Text)
    embedder: Mapped[str] = mapped_column(String(200))
    embedding: Mapped[list[float]] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    search: Mapped[str] = mapped_column(
        TSVECTOR, Computed("to_tsvector('english', text)", persisted=True)
    )
