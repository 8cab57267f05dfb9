"""The Dreamer's pool of ideas a story may need next."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, created_at, uuid_pk
from luna_narrates.db.tables.memory_chunks import EMBEDDING_DIMENSIONS


class DreamerContent(Base):
    """An idea the Dreamer invented for a story: unrealized until a turn uses it, and deleted
    (with its images) when it expires unused or the pool is full and it is the least likely."""

    __tablename__ = "dreamer_content"
    __table_args__ = (
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence"),
        Index(
            "uq_dreamer_content_story_id_content_type_name",
            "story_id",
            "content_type",
            func.lower("name"),
            unique=True,
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    story_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    session_id: Mapped[uuid.UUID] = mapped_column(doc="The dream that invented it.")
    content_type: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB)
    confidence: Mapped[float]
    embedding: Mapped[list[float] | None] = mapped_column(
        Vector(EMBEDDING_DIMENSIONS), doc="Of its name and description: found by meaning."
    )
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    realized_in_turn: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("turns.id", ondelete="SET NULL")
    )
    realized_by: Mapped[str | None] = mapped_column(String(20), doc="strategist or writer")
    realized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DreamerTally(Base):
    """How many ideas of a kind the Dreamer invented for a story, kept apart from the pool
    (which forgets the ideas it evicts or lets expire), so the realization rate is of all."""

    __tablename__ = "dreamer_tallies"

    story_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    dreamed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
