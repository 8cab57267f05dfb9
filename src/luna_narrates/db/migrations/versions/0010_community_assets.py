"""The community asset library: asset card PNGs a player keeps (one per owner and file), shares,
tags, votes on, reports and finds by meaning, with each import, and collections (themed packs).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"


def upgrade() -> None:
    op.create_table(
        "community_assets",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("attributes", postgresql.JSONB(), nullable=False),
        sa.Column("generation", postgresql.JSONB(), nullable=False),
        sa.Column("license", sa.String(100), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("card", postgresql.JSONB(), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("downloads", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("vote_score", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("report_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("embedding", Vector(384), nullable=False),
        sa.Column(
            "source_image_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.generated_images.id", ondelete="SET NULL"),
        ),
        _now("created_at"),
        _now("updated_at"),
        sa.UniqueConstraint("owner_id", "checksum"),
        sa.CheckConstraint("downloads >= 0 AND report_count >= 0", name="counts"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_community_assets_tags",
        "community_assets",
        ["tags"],
        schema=SCHEMA,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_community_assets_hnsw",
        "community_assets",
        ["embedding"],
        schema=SCHEMA,
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_table(
        "asset_imports",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _asset_id(index=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("filename", sa.String(255)),
        _now("imported_at"),
        sa.CheckConstraint("source IN ('upload', 'generated')", name="source"),
        schema=SCHEMA,
    )
    op.create_table(
        "asset_votes",
        _asset_id(primary_key=True),
        sa.Column("voter_id", sa.Uuid(), primary_key=True),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("value IN (-1, 1)", name="value"),
        schema=SCHEMA,
    )
    op.create_table(
        "asset_reports",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _asset_id(),
        sa.Column("reporter_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _now("created_at"),
        sa.UniqueConstraint("asset_id", "reporter_id"),
        schema=SCHEMA,
    )
    op.create_table(
        "asset_collections",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("is_public", sa.Boolean(), nullable=False, server_default=sa.false()),
        _now("created_at"),
        _now("updated_at"),
        schema=SCHEMA,
    )
    op.create_table(
        "collection_assets",
        sa.Column(
            "collection_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.asset_collections.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _asset_id(primary_key=True, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        _now("added_at"),
        schema=SCHEMA,
    )


def _asset_id(*, primary_key: bool = False, index: bool = False) -> sa.Column[Any]:
    """The asset the row belongs to: part of its key, or else required."""
    foreign = sa.ForeignKey(f"{SCHEMA}.community_assets.id", ondelete="CASCADE")
    if primary_key:
        return sa.Column("asset_id", sa.Uuid(), foreign, primary_key=True, index=index)
    return sa.Column("asset_id", sa.Uuid(), foreign, nullable=False, index=index)


def _now(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def downgrade() -> None:
    for table in (
        "collection_assets",
        "asset_collections",
        "asset_reports",
        "asset_votes",
        "asset_imports",
        "community_assets",
    ):
        op.drop_table(table, schema=SCHEMA)
