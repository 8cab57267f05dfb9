"""Who owns each character card, lorebook and world (`owner_id`): the local player for those
made before the library was owned per player. Their portraits, skills, entries and casts hang
off them and need no owner of their own.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"
LOCAL = "00000000-0000-0000-0000-000000000000"
OWNED = ("character_cards", "lorebooks", "worlds")


def upgrade() -> None:
    for table in OWNED:
        op.add_column(
            table,
            sa.Column(
                "owner_id",
                sa.Uuid(),
                sa.ForeignKey(f"{SCHEMA}.users.id"),
                server_default=LOCAL,
                nullable=False,
            ),
            schema=SCHEMA,
        )
        op.alter_column(table, "owner_id", server_default=None, schema=SCHEMA)
        op.create_index(f"ix_{table}_owner_id", table, ["owner_id"], schema=SCHEMA)


def downgrade() -> None:
    for table in reversed(OWNED):
        op.drop_column(table, "owner_id", schema=SCHEMA)
