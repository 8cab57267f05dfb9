"""Memory: turn summaries, the world-state ledger, story arcs and the hybrid search index.

Replaces `turn_embeddings` (one vector per passage) with `memory_chunks`, which indexes
passage chunks, summaries, facts, entities and arcs for vector and full-text search.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"


def from_turn(table: str) -> list[Any]:
    """The columns and keys every memory row shares (db/tables/base.py FromTurn)."""
    return [
        sa.Column("story_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("turn_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"],
            [f"{SCHEMA}.stories.id"],
            name=f"fk_{table}_story_id_stories",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            [f"{SCHEMA}.branches.id"],
            name=f"fk_{table}_branch_id_branches",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["turn_id"],
            [f"{SCHEMA}.turns.id"],
            name=f"fk_{table}_turn_id_turns",
            ondelete="CASCADE",
        ),
    ]


def created() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def entity_key(table: str, column: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{SCHEMA}.entities.id"], name=f"fk_{table}_{column}_entities", ondelete=ondelete
    )


def upgrade() -> None:
    op.drop_table("turn_embeddings", schema=SCHEMA)
    op.add_column(
        "turns",
        sa.Column("origin", sa.String(20), server_default="generated", nullable=False),
        schema=SCHEMA,
    )
    op.add_column(
        "agent_runs",
        sa.Column("stage", sa.String(20), server_default="turn", nullable=False),
        schema=SCHEMA,
    )

    op.create_table(
        "turn_summaries",
        sa.Column("turn_id", sa.Uuid(), nullable=False),
        sa.Column("story_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        created(),
        sa.ForeignKeyConstraint(
            ["turn_id"],
            [f"{SCHEMA}.turns.id"],
            name="fk_turn_summaries_turn_id_turns",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            [f"{SCHEMA}.stories.id"],
            name="fk_turn_summaries_story_id_stories",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            [f"{SCHEMA}.branches.id"],
            name="fk_turn_summaries_branch_id_branches",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("turn_id", name="pk_turn_summaries"),
        schema=SCHEMA,
    )
    op.create_index("ix_turn_summaries_story_id", "turn_summaries", ["story_id"], schema=SCHEMA)

    op.create_table(
        "entities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        created(),
        *from_turn("entities"),
        sa.PrimaryKeyConstraint("id", name="pk_entities"),
        schema=SCHEMA,
    )
    op.create_index("ix_entities_story_id_kind", "entities", ["story_id", "kind"], schema=SCHEMA)
    op.create_index("ix_entities_turn_id", "entities", ["turn_id"], schema=SCHEMA)

    op.create_table(
        "entity_aliases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("alias", sa.String(60), nullable=False),
        sa.Column("normalized", sa.String(60), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        *from_turn("entity_aliases"),
        entity_key("entity_aliases", "entity_id"),
        sa.PrimaryKeyConstraint("id", name="pk_entity_aliases"),
        sa.UniqueConstraint(
            "entity_id",
            "normalized",
            "turn_id",
            name="uq_entity_aliases_entity_id_normalized_turn_id",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_entity_aliases_story_id_normalized",
        "entity_aliases",
        ["story_id", "normalized"],
        schema=SCHEMA,
    )
    op.create_index("ix_entity_aliases_turn_id", "entity_aliases", ["turn_id"], schema=SCHEMA)

    op.create_table(
        "facts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("object_entity_id", sa.Uuid(), nullable=True),
        created(),
        *from_turn("facts"),
        entity_key("facts", "entity_id"),
        entity_key("facts", "object_entity_id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_facts"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_facts_entity_id_key_turn_number",
        "facts",
        ["entity_id", "key", "turn_number"],
        schema=SCHEMA,
    )
    op.create_index("ix_facts_object_entity_id", "facts", ["object_entity_id"], schema=SCHEMA)
    op.create_index("ix_facts_turn_id", "facts", ["turn_id"], schema=SCHEMA)

    op.create_table(
        "relationships",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_entity_id", sa.Uuid(), nullable=False),
        sa.Column("target_entity_id", sa.Uuid(), nullable=False),
        sa.Column("disposition", sa.Text(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        created(),
        *from_turn("relationships"),
        entity_key("relationships", "source_entity_id"),
        entity_key("relationships", "target_entity_id"),
        sa.PrimaryKeyConstraint("id", name="pk_relationships"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_relationships_source_entity_id_target_entity_id_turn_number",
        "relationships",
        ["source_entity_id", "target_entity_id", "turn_number"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_relationships_target_entity_id", "relationships", ["target_entity_id"], schema=SCHEMA
    )
    op.create_index("ix_relationships_turn_id", "relationships", ["turn_id"], schema=SCHEMA)

    op.create_table(
        "character_evolution_snapshots",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        created(),
        *from_turn("character_evolution_snapshots"),
        entity_key("character_evolution_snapshots", "entity_id"),
        sa.PrimaryKeyConstraint("id", name="pk_character_evolution_snapshots"),
        schema=SCHEMA,
    )
    for column in ("entity_id", "turn_id"):
        op.create_index(
            f"ix_character_evolution_snapshots_{column}",
            "character_evolution_snapshots",
            [column],
            schema=SCHEMA,
        )

    op.create_table(
        "story_arcs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("first_turn", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        created(),
        *from_turn("story_arcs"),
        sa.PrimaryKeyConstraint("id", name="pk_story_arcs"),
        sa.UniqueConstraint(
            "branch_id",
            "first_turn",
            "turn_number",
            name="uq_story_arcs_branch_id_first_turn_turn_number",
        ),
        schema=SCHEMA,
    )
    op.create_index("ix_story_arcs_turn_id", "story_arcs", ["turn_id"], schema=SCHEMA)
    op.create_table(
        "story_arc_turns",
        sa.Column("arc_id", sa.Uuid(), nullable=False),
        sa.Column("turn_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["arc_id"],
            [f"{SCHEMA}.story_arcs.id"],
            name="fk_story_arc_turns_arc_id_story_arcs",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["turn_id"],
            [f"{SCHEMA}.turns.id"],
            name="fk_story_arc_turns_turn_id_turns",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("arc_id", "turn_id", name="pk_story_arc_turns"),
        schema=SCHEMA,
    )

    op.create_table(
        "memory_chunks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedder", sa.String(200), nullable=False),
        sa.Column("embedding", Vector(384), nullable=False),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english', text)", persisted=True),
            nullable=False,
        ),
        *from_turn("memory_chunks"),
        sa.PrimaryKeyConstraint("id", name="pk_memory_chunks"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_memory_chunks_story_id_branch_id_turn_number",
        "memory_chunks",
        ["story_id", "branch_id", "turn_number"],
        schema=SCHEMA,
    )
    op.create_index("ix_memory_chunks_turn_id", "memory_chunks", ["turn_id"], schema=SCHEMA)
    op.create_index(
        "ix_memory_chunks_hnsw",
        "memory_chunks",
        ["embedding"],
        schema=SCHEMA,
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_index(
        "ix_memory_chunks_search",
        "memory_chunks",
        ["search"],
        schema=SCHEMA,
        postgresql_using="gin",
    )

    op.execute(
        f"CREATE VIEW {SCHEMA}.characters AS "
        f"SELECT * FROM {SCHEMA}.entities WHERE kind = 'character'"
    )
    op.execute(
        f"CREATE VIEW {SCHEMA}.locations AS SELECT * FROM {SCHEMA}.entities WHERE kind = 'location'"
    )


def downgrade() -> None:
    op.execute(f"DROP VIEW {SCHEMA}.locations")
    op.execute(f"DROP VIEW {SCHEMA}.characters")
    for table in (
        "memory_chunks",
        "story_arc_turns",
        "story_arcs",
        "character_evolution_snapshots",
        "relationships",
        "facts",
        "entity_aliases",
        "entities",
        "turn_summaries",
    ):
        op.drop_table(table, schema=SCHEMA)
    op.drop_column("agent_runs", "stage", schema=SCHEMA)
    op.drop_column("turns", "origin", schema=SCHEMA)
    op.create_table(
        "turn_embeddings",
        sa.Column("turn_id", sa.Uuid(), nullable=False),
        sa.Column("embedder", sa.String(200), nullable=False),
        sa.Column("embedding", Vector(384), nullable=False),
        created(),
        sa.ForeignKeyConstraint(
            ["turn_id"],
            [f"{SCHEMA}.turns.id"],
            name="fk_turn_embeddings_turn_id_turns",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("turn_id", name="pk_turn_embeddings"),
        schema=SCHEMA,
    )
