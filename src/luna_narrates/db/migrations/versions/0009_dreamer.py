"""The Dreamer's pool: ideas invented ahead of the story (characters, locations, items, scenes,
plot twists), one per story, type and name, each with its dream session, its expiry and, once
the story uses it, the turn that did; speculative images point at their idea.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"


def upgrade() -> None:
    op.create_table(
        "dreamer_content",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "story_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.stories.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("metadata", postgresql.JSONB(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("embedding", Vector(384)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "realized_in_turn",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.turns.id", ondelete="SET NULL"),
        ),
        sa.Column("realized_by", sa.String(20)),
        sa.Column("realized_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence"),
        schema=SCHEMA,
    )
    op.create_index(
        "uq_dreamer_content_story_id_content_type_name",
        "dreamer_content",
        ["story_id", "content_type", sa.text("lower(name)")],
        unique=True,
        schema=SCHEMA,
    )
    op.add_column(
        "generated_images",
        sa.Column(
            "dreamer_content_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.dreamer_content.id", ondelete="CASCADE"),
            index=True,
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("generated_images", "dreamer_content_id", schema=SCHEMA)
    op.drop_table("dreamer_content", schema=SCHEMA)
