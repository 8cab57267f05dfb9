"""Embeddings of committed passages, written by the post-turn job (pgvector, HNSW cosine)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, created_at

EMBEDDING_DIMENSIONS = 384


class TurnEmbedding(Base):
    __tablename__ = "turn_embeddings"
    __table_args__ = (
        Index(
            "ix_turn_embeddings_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
    )

    turn_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("turns.id", ondelete="CASCADE"), primary_key=True
    )
    embedder: Mapped[str] = mapped_column(String(200))
    embedding: Mapped[list[float]] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    created_at: Mapped[datetime] = created_at()
