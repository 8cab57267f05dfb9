"""The Dreamer's tallies: ideas invented per story and kind, kept when the pool forgets the
ideas it evicts or lets expire (`dreamer_tallies`), counted from the pool as it stands.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"


def upgrade() -> None:
    op.create_table(
        "dreamer_tallies",
        sa.Column(
            "story_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.stories.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("content_type", sa.String(20), primary_key=True),
        sa.Column("dreamed", sa.Integer(), server_default="0", nullable=False),
        schema=SCHEMA,
    )
    op.execute(
        f"INSERT INTO {SCHEMA}.dreamer_tallies (story_id, content_type, dreamed) "
        f"SELECT story_id, content_type, count(*) FROM {SCHEMA}.dreamer_content "
        "GROUP BY story_id, content_type"
    )


def downgrade() -> None:
    op.drop_table("dreamer_tallies", schema=SCHEMA)
