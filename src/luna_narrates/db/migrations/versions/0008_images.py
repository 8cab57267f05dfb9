"""Images: the pool of GPU workers (mirrored from settings, with health, load and statistics)
and every image a story asked for, from pending to complete or failed, with where its file is.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"


def upgrade() -> None:
    op.create_table(
        "image_workers",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("api_type", sa.String(20), nullable=False),
        sa.Column("api_url", sa.String(500), nullable=False),
        sa.Column("max_concurrent", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("configured", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("online", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("in_flight", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("images_done", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("images_failed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("seconds_total", sa.Float(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_heartbeat_at", sa.DateTime(timezone=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("in_flight >= 0", name="in_flight_not_negative"),
        sa.CheckConstraint("api_type IN ('comfyui', 'automatic1111')", name="api_type"),
        schema=SCHEMA,
    )
    op.create_table(
        "generated_images",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "story_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.stories.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("turn_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.turns.id", ondelete="CASCADE")),
        sa.Column("image_type", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("negative_prompt", sa.Text(), nullable=False, server_default=""),
        sa.Column("settings", postgresql.JSONB(), nullable=False),
        sa.Column("seed", sa.BigInteger()),
        sa.Column("variant", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cache_key", sa.String(64), nullable=False),
        sa.Column(
            "source_image_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.generated_images.id", ondelete="SET NULL"),
        ),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("error", sa.Text()),
        sa.Column("speculative", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("placeholder", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column(
            "worker_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.image_workers.id", ondelete="SET NULL"),
        ),
        sa.Column("worker_name", sa.String(80)),
        sa.Column("model", sa.String(200)),
        sa.Column("path", sa.String(500)),
        sa.Column("checksum", sa.String(64)),
        sa.Column("size_bytes", sa.Integer()),
        sa.Column("width", sa.Integer()),
        sa.Column("height", sa.Integer()),
        sa.Column("seconds", sa.Float()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('pending', 'generating', 'complete', 'failed')", name="status"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_generated_images_story_id_cache_key",
        "generated_images",
        ["story_id", "cache_key"],
        schema=SCHEMA,
    )
    op.create_index("ix_generated_images_turn_id", "generated_images", ["turn_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("generated_images", schema=SCHEMA)
    op.drop_table("image_workers", schema=SCHEMA)
