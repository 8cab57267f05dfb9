"""Indexes that timelines need: deleting a branch finds its memory rows by branch, retiring a
take finds an arc's search documents by source, and branch names are unique per story.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"
BY_BRANCH = (
    "entities",
    "entity_aliases",
    "facts",
    "relationships",
    "character_evolution_snapshots",
    "story_arcs",
    "memory_chunks",
    "turn_summaries",
)


def upgrade() -> None:
    for table in BY_BRANCH:
        op.create_index(f"ix_{table}_branch_id", table, ["branch_id"], schema=SCHEMA)
    op.create_index("ix_memory_chunks_source_id", "memory_chunks", ["source_id"], schema=SCHEMA)
    op.create_index(
        "uq_branches_story_id_name",
        "branches",
        ["story_id", sa.text("lower(name)")],
        unique=True,
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index("uq_branches_story_id_name", "branches", schema=SCHEMA)
    op.drop_index("ix_memory_chunks_source_id", "memory_chunks", schema=SCHEMA)
    for table in BY_BRANCH:
        op.drop_index(f"ix_{table}_branch_id", table, schema=SCHEMA)
