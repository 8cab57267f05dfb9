"""Image worker slots that name their render and expire, so that a slot a crashed process left
taken is taken back (`image_worker_slots`); `in_flight` counts the live ones.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"


def upgrade() -> None:
    op.create_table(
        "image_worker_slots",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "worker_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.image_workers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "taken_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_image_worker_slots_expires_at", "image_worker_slots", ["expires_at"], schema=SCHEMA
    )
    # Slots taken before this version name no render and could never be taken back; upgrades
    # run with the workers stopped, so none is live.
    op.execute(f"UPDATE {SCHEMA}.image_workers SET in_flight = 0")


def downgrade() -> None:
    op.drop_table("image_worker_slots", schema=SCHEMA)
