"""Model pricing: what model calls cost per million tokens (and the higher tier some models
have above an input size), with history (each price valid from a time to a time), seeded from
genai-prices at start-up and overridable per model by an operator; each cost row says which
price it was computed from.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"
PRICES = (
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cache_read_usd_per_mtok",
    "cache_write_usd_per_mtok",
)


def upgrade() -> None:
    op.create_table(
        "model_pricing",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(60), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("input_usd_per_mtok", sa.Numeric(14, 8), nullable=False),
        sa.Column("output_usd_per_mtok", sa.Numeric(14, 8), nullable=False),
        sa.Column("cache_read_usd_per_mtok", sa.Numeric(14, 8), nullable=True),
        sa.Column("cache_write_usd_per_mtok", sa.Numeric(14, 8), nullable=True),
        sa.Column("tiers", postgresql.JSONB(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "source IN ('genai-prices', 'operator')", name=op.f("ck_model_pricing_source")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_model_pricing_valid_period")
        ),
        sa.CheckConstraint(
            " AND ".join(f"coalesce({name}, 0) >= 0" for name in PRICES),
            name=op.f("ck_model_pricing_prices_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_pricing")),
        schema=SCHEMA,
    )
    op.create_index(
        "uq_model_pricing_open",
        "model_pricing",
        ["provider", "model", "source"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.add_column("cost_logs", sa.Column("pricing_id", sa.Uuid(), nullable=True), schema=SCHEMA)
    op.create_foreign_key(
        "fk_cost_logs_pricing_id_model_pricing",
        "cost_logs",
        "model_pricing",
        ["pricing_id"],
        ["id"],
        source_schema=SCHEMA,
        referent_schema=SCHEMA,
        ondelete="SET NULL",
    )
    op.create_index("ix_cost_logs_pricing_id", "cost_logs", ["pricing_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_cost_logs_pricing_id", "cost_logs", schema=SCHEMA)
    op.drop_constraint("fk_cost_logs_pricing_id_model_pricing", "cost_logs", schema=SCHEMA)
    op.drop_column("cost_logs", "pricing_id", schema=SCHEMA)
    op.drop_index("uq_model_pricing_open", "model_pricing", schema=SCHEMA)
    op.drop_table("model_pricing", schema=SCHEMA)
