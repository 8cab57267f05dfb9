"""Foundation: stories, branches, turns, agent runs, cost logs, turn embeddings, job queue.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    # procrastinate's tables and functions land in `luna`: every connection's search_path
    # starts with it (see db/engine.py).
    op.execute(SchemaManager.get_schema())

    op.create_table(
        "stories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("genre", sa.String(100), nullable=True),
        sa.Column("setting", sa.Text(), nullable=True),
        sa.Column("premise", sa.Text(), nullable=False),
        sa.Column("protagonist", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("turn_lease_id", sa.Uuid(), nullable=True),
        sa.Column("turn_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stories"),
        schema=SCHEMA,
    )
    op.create_table(
        "branches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("story_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("parent_branch_id", sa.Uuid(), nullable=True),
        sa.Column("fork_turn_number", sa.Integer(), nullable=True),
        sa.Column("is_main", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            [f"{SCHEMA}.stories.id"],
            name="fk_branches_story_id_stories",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_branch_id"],
            [f"{SCHEMA}.branches.id"],
            name="fk_branches_parent_branch_id_branches",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_branches"),
        schema=SCHEMA,
    )
    op.create_index("ix_branches_story_id", "branches", ["story_id"], schema=SCHEMA)
    op.create_index(
        "uq_branches_one_active_per_story",
        "branches",
        ["story_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("is_active"),
    )
    op.create_table(
        "turns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("story_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("user_action", sa.Text(), nullable=False),
        sa.Column("narrative_text", sa.Text(), nullable=False),
        sa.Column("briefing", postgresql.JSONB(), nullable=False),
        sa.Column("plan", postgresql.JSONB(), nullable=False),
        sa.Column("total_cost_usd", sa.Numeric(14, 8), nullable=False),
        sa.Column("total_execution_time_seconds", sa.Float(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            [f"{SCHEMA}.stories.id"],
            name="fk_turns_story_id_stories",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            [f"{SCHEMA}.branches.id"],
            name="fk_turns_branch_id_branches",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_turns"),
        sa.UniqueConstraint("branch_id", "turn_number", name="uq_turns_branch_id_turn_number"),
        schema=SCHEMA,
    )
    op.create_index("ix_turns_story_id", "turns", ["story_id"], schema=SCHEMA)
    op.create_table(
        "agent_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("turn_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(40), nullable=False),
        sa.Column("provider", sa.String(60), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("prompt", postgresql.JSONB(), nullable=False),
        sa.Column("prompt_hash", sa.String(64), nullable=False),
        sa.Column("input", postgresql.JSONB(), nullable=False),
        sa.Column("output", postgresql.JSONB(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("tokens_estimated", sa.Boolean(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("cost_usd", sa.Numeric(14, 8), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["turn_id"],
            [f"{SCHEMA}.turns.id"],
            name="fk_agent_runs_turn_id_turns",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agent_runs"),
        schema=SCHEMA,
    )
    op.create_index("ix_agent_runs_turn_id", "agent_runs", ["turn_id"], schema=SCHEMA)
    op.create_table(
        "cost_logs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("story_id", sa.Uuid(), nullable=False),
        sa.Column("turn_id", sa.Uuid(), nullable=False),
        sa.Column("agent_run_id", sa.Uuid(), nullable=False),
        sa.Column("agent", sa.String(40), nullable=False),
        sa.Column("provider", sa.String(60), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Numeric(14, 8), nullable=False),
        sa.Column("price_known", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            [f"{SCHEMA}.stories.id"],
            name="fk_cost_logs_story_id_stories",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["turn_id"],
            [f"{SCHEMA}.turns.id"],
            name="fk_cost_logs_turn_id_turns",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_run_id"],
            [f"{SCHEMA}.agent_runs.id"],
            name="fk_cost_logs_agent_run_id_agent_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cost_logs"),
        schema=SCHEMA,
    )
    op.create_index("ix_cost_logs_story_id", "cost_logs", ["story_id"], schema=SCHEMA)
    op.create_index("ix_cost_logs_turn_id", "cost_logs", ["turn_id"], schema=SCHEMA)
    op.create_table(
        "turn_embeddings",
        sa.Column("turn_id", sa.Uuid(), nullable=False),
        sa.Column("embedder", sa.String(200), nullable=False),
        sa.Column("embedding", Vector(384), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["turn_id"],
            [f"{SCHEMA}.turns.id"],
            name="fk_turn_embeddings_turn_id_turns",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("turn_id", name="pk_turn_embeddings"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_turn_embeddings_hnsw",
        "turn_embeddings",
        ["embedding"],
        schema=SCHEMA,
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )


def downgrade() -> None:
    for table in ("turn_embeddings", "cost_logs", "agent_runs", "turns", "branches", "stories"):
        op.drop_table(table, schema=SCHEMA)
