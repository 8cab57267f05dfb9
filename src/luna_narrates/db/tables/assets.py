"""The community asset library: asset card PNGs a player keeps, shares and finds, with their
imports, votes and reports, and the collections (themed packs) that gather them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, created_at, uuid_pk
from luna_narrates.db.tables.memory_chunks import EMBEDDING_DIMENSIONS

IMPORT_SOURCES = ("upload", "generated")


def updated_at() -> Mapped[datetime]:
    """Set by the player's edits, not by votes, reports or downloads."""
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class CommunityAsset(Base):
    """An asset card in someone's library. The card's fields are copied into columns to be
    searched; `card` keeps the whole card as read, and the file keeps it byte for byte. `name`,
    `description` and `tags` are the library's and may be edited; the file never is."""

    __tablename__ = "community_assets"
    __table_args__ = (
        UniqueConstraint("owner_id", "checksum"),
        Index("ix_community_assets_tags", "tags", postgresql_using="gin"),
        Index(
            "ix_community_assets_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        CheckConstraint("downloads >= 0 AND report_count >= 0", name="counts"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID]
    content_type: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    generation: Mapped[dict[str, Any]] = mapped_column(JSONB)
    license: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(200))
    card: Mapped[dict[str, Any]] = mapped_column(JSONB, doc="The whole card, as read.")
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), doc="Lower-case, trimmed, unique.")
    is_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    downloads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    vote_score: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    report_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    path: Mapped[str] = mapped_column(String(500), doc="`assets/<id>.png`, made from the id.")
    checksum: Mapped[str] = mapped_column(String(64), doc="SHA-256 of the file.")
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[list[float]] = mapped_column(
        Vector(EMBEDDING_DIMENSIONS), doc="Of `name: description, tags`: found by meaning."
    )
    source_image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("generated_images.id", ondelete="SET NULL"),
        doc="The story's image it was taken from, while that image exists.",
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class AssetImport(Base):
    """Each time a file became an asset: an upload (with the name it was sent under, kept as
    text only) or a generated image."""

    __tablename__ = "asset_imports"
    __table_args__ = (CheckConstraint(f"source IN {IMPORT_SOURCES}", name="source"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("community_assets.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[uuid.UUID]
    source: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str | None] = mapped_column(String(255))
    imported_at: Mapped[datetime] = created_at()


class AssetVote(Base):
    """One vote per voter and asset; the asset's `vote_score` is their sum."""

    __tablename__ = "asset_votes"
    __table_args__ = (CheckConstraint("value IN (-1, 1)", name="value"),)

    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("community_assets.id", ondelete="CASCADE"), primary_key=True
    )
    voter_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger)


class AssetReport(Base):
    """A report that an asset breaks the rules, one per reporter and asset; the asset's
    `report_count` counts them."""

    __tablename__ = "asset_reports"
    __table_args__ = (UniqueConstraint("asset_id", "reporter_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("community_assets.id", ondelete="CASCADE")
    )
    reporter_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()


class AssetCollection(Base):
    """A themed pack of assets, downloaded whole as a zip."""

    __tablename__ = "asset_collections"

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    is_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class CollectionAsset(Base):
    __tablename__ = "collection_assets"

    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asset_collections.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("community_assets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = created_at()
