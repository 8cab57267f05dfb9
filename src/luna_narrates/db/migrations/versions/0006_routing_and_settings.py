"""Model routing and stored settings: each agent run records the models of its chain that
failed before one answered, and the cache-write tokens its provider reported; settings changed
through the API are stored, with a revision every process polls to reload them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"


def upgrade() -> None:
    op.add_column(
        "agent_runs",
        sa.Column(
            "fallbacks",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
        schema=SCHEMA,
    )
    for table in ("agent_runs", "cost_logs"):
        op.add_column(
            table,
            sa.Column("cache_write_tokens", sa.Integer(), nullable=False, server_default="0"),
            schema=SCHEMA,
        )
    op.create_table(
        "settings",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("value", postgresql.JSONB(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        schema=SCHEMA,
    )
    # Bumped by every change to the table; read by each process before a turn or a job.
    op.execute(f"CREATE SEQUENCE {SCHEMA}.settings_revision")


def downgrade() -> None:
    op.execute(f"DROP SEQUENCE {SCHEMA}.settings_revision")
    op.drop_table("settings", schema=SCHEMA)
    for table in ("agent_runs", "cost_logs"):
        op.drop_column(table, "cache_write_tokens", schema=SCHEMA)
    op.drop_column("agent_runs", "fallbacks", schema=SCHEMA)
