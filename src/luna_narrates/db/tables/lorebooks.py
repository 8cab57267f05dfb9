"""Lorebooks (universes) and their entries, stored in one of three tiers.

hot: always considered, in ordinary rows. warm: the same rows, plus an embedding for semantic
activation and a full-text vector. cold: the entry itself is packed (zstd, with a dictionary
trained on the book) and only unpacked when one of its keys hits; its keys stay readable.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, created_at, uuid_pk
from luna_narrates.db.tables.memory_chunks import EMBEDDING_DIMENSIONS

TIERS = ("hot", "warm", "cold")
ENTRY_KINDS = ("lore", "character", "location", "item", "faction", "event")


class Lorebook(Base):
    __tablename__ = "lorebooks"
    __table_args__ = (CheckConstraint(f"storage_tier IN {TIERS}", name="storage_tier"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    universe_name: Mapped[str | None] = mapped_column(String(200), index=True)
    storage_tier: Mapped[str] = mapped_column(String(10), default="warm")
    source_format: Mapped[str] = mapped_column(String(20))
    settings: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, doc="scan_depth, token_budget, recursive_scanning, extensions, extra."
    )
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    dictionary: Mapped[bytes | None] = mapped_column(
        LargeBinary, doc="The zstd dictionary a cold book's entries are packed with."
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class LorebookEntry(Base):
    __tablename__ = "lorebook_entries"
    __table_args__ = (
        UniqueConstraint("lorebook_id", "uid"),
        Index(None, "lorebook_id", "position"),
        Index(
            "ix_lorebook_entries_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        Index("ix_lorebook_entries_search", "search", postgresql_using="gin"),
        CheckConstraint(f"kind IN {ENTRY_KINDS}", name="kind"),
        CheckConstraint("(fields IS NULL) <> (packed IS NULL)", name="fields_or_packed"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    lorebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lorebooks.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(100), doc="The entry's uid in its file, as text.")
    position: Mapped[int] = mapped_column(Integer, doc="Its place in the file.")
    kind: Mapped[str] = mapped_column(String(20), default="lore")
    comment: Mapped[str] = mapped_column(Text, default="")
    match_keys: Mapped[list[str]] = mapped_column(
        ARRAY(Text),
        doc="Primary keys as lower-cased words; a trigger copies them into lorebook_keys.",
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    constant: Mapped[bool] = mapped_column(Boolean, default=False)
    fields: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB(none_as_null=True), doc="The whole World Info entry (hot and warm)."
    )
    packed: Mapped[bytes | None] = mapped_column(LargeBinary, doc="The entry, zstd (cold).")
    embedding: Mapped[list[float] | None] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    search: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector('english', coalesce(fields->>'comment', '') || ' ' || "
            "coalesce(fields->>'content', ''))",
            persisted=True,
        ),
    )


class LorebookKey(Base):
    """One indexed key of one entry, kept by a trigger from `lorebook_entries.match_keys`
    (migration 0005): a B-tree lookup of a turn's hundreds of word runs stays a few index
    probes, where an array overlap would compare every entry's keys."""

    __tablename__ = "lorebook_keys"

    lorebook_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lorebooks.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lorebook_entries.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class StoryLorebook(Base):
    """A lorebook a story uses; a character's own book applies through the character."""

    __tablename__ = "story_lorebooks"

    story_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    lorebook_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lorebooks.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = created_at()
