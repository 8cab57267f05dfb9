"""Timelines: alternate takes of a turn, and what branch listings need to be fast.

A turn is now a position (branch, number) with one or more versions; exactly one is selected,
and only the selected version is part of the story (and has memory).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"


def upgrade() -> None:
    op.add_column(
        "turns",
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        schema=SCHEMA,
    )
    op.add_column(
        "turns",
        sa.Column("is_selected", sa.Boolean(), server_default=sa.true(), nullable=False),
        schema=SCHEMA,
    )
    op.drop_constraint("uq_turns_branch_id_turn_number", "turns", schema=SCHEMA)
    op.create_unique_constraint(
        "uq_turns_branch_id_turn_number_version",
        "turns",
        ["branch_id", "turn_number", "version"],
        schema=SCHEMA,
    )
    op.create_index(
        "uq_turns_one_selected_version",
        "turns",
        ["branch_id", "turn_number"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("is_selected"),
    )
    op.create_index("ix_branches_parent_branch_id", "branches", ["parent_branch_id"], schema=SCHEMA)
    op.add_column(
        "branches",
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    # Alternate takes have no place in the older schema: only the selected version survives.
    op.execute(f"DELETE FROM {SCHEMA}.turns WHERE NOT is_selected")
    op.drop_column("branches", "updated_at", schema=SCHEMA)
    op.drop_index("ix_branches_parent_branch_id", "branches", schema=SCHEMA)
    op.drop_index("uq_turns_one_selected_version", "turns", schema=SCHEMA)
    op.drop_constraint("uq_turns_branch_id_turn_number_version", "turns", schema=SCHEMA)
    op.create_unique_constraint(
        "uq_turns_branch_id_turn_number", "turns", ["branch_id", "turn_number"], schema=SCHEMA
    )
    op.drop_column("turns", "is_selected", schema=SCHEMA)
    op.drop_column("turns", "version", schema=SCHEMA)
