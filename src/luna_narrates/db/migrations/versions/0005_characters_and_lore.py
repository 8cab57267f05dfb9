"""Characters, lore and worlds: character cards with portraits and skills, lorebooks and their
entries (hot, warm and cold tiers), which characters and lorebooks a story uses, and worlds.
Model calls outside a turn (writing a character) are recorded too: agent runs and cost rows
may have no turn and no story.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every entry's keys, one row each, in step with lorebook_entries.match_keys.
KEYS_SYNC = """
CREATE FUNCTION luna.lorebook_keys_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.match_keys IS NOT DISTINCT FROM OLD.match_keys THEN
            RETURN NULL;
        END IF;
        DELETE FROM luna.lorebook_keys WHERE entry_id = NEW.id;
    END IF;
    INSERT INTO luna.lorebook_keys (lorebook_id, key, entry_id)
    SELECT DISTINCT NEW.lorebook_id, k, NEW.id FROM unnest(NEW.match_keys) AS k;
    RETURN NULL;
END
$$
"""
TABLES = (
    "world_characters",
    "worlds",
    "story_characters",
    "character_skills",
    "character_portraits",
    "story_lorebooks",
    "character_cards",
    "lorebook_keys",
    "lorebook_entries",
    "lorebooks",
)


def upgrade() -> None:
    op.create_table(
        "lorebooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("universe_name", sa.String(length=200), nullable=True),
        sa.Column("storage_tier", sa.String(length=10), nullable=False),
        sa.Column("source_format", sa.String(length=20), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("dictionary", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "storage_tier IN ('hot', 'warm', 'cold')", name=op.f("ck_lorebooks_storage_tier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lorebooks")),
        schema="luna",
    )
    op.create_index(
        op.f("ix_lorebooks_universe_name"),
        "lorebooks",
        ["universe_name"],
        unique=False,
        schema="luna",
    )
    op.create_table(
        "character_cards",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("version", sa.SmallInteger(), nullable=False),
        sa.Column("card", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("lorebook_id", sa.Uuid(), nullable=True),
        sa.Column("in_library", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lorebook_id"],
            ["luna.lorebooks.id"],
            name=op.f("fk_character_cards_lorebook_id_lorebooks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_character_cards")),
        schema="luna",
    )
    op.create_index(
        op.f("ix_character_cards_lorebook_id"),
        "character_cards",
        ["lorebook_id"],
        unique=False,
        schema="luna",
    )
    op.create_index(
        "ix_character_cards_lower_name",
        "character_cards",
        [sa.literal_column("lower(name)")],
        unique=False,
        schema="luna",
    )
    op.create_index(
        "ix_character_cards_tags",
        "character_cards",
        ["tags"],
        unique=False,
        schema="luna",
        postgresql_using="gin",
    )
    op.create_table(
        "lorebook_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lorebook_id", sa.Uuid(), nullable=False),
        sa.Column("uid", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("match_keys", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("constant", sa.Boolean(), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("packed", sa.LargeBinary(), nullable=True),
        sa.Column("embedding", Vector(384), nullable=True),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('english', coalesce(fields->>'comment', '') || ' ' || "
                "coalesce(fields->>'content', ''))",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('lore', 'character', 'location', 'item', 'faction', 'event')",
            name=op.f("ck_lorebook_entries_kind"),
        ),
        sa.CheckConstraint(
            "(fields IS NULL) <> (packed IS NULL)",
            name=op.f("ck_lorebook_entries_fields_or_packed"),
        ),
        sa.ForeignKeyConstraint(
            ["lorebook_id"],
            ["luna.lorebooks.id"],
            name=op.f("fk_lorebook_entries_lorebook_id_lorebooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lorebook_entries")),
        sa.UniqueConstraint("lorebook_id", "uid", name=op.f("uq_lorebook_entries_lorebook_id_uid")),
        schema="luna",
    )
    op.create_index(
        "ix_lorebook_entries_hnsw",
        "lorebook_entries",
        ["embedding"],
        unique=False,
        schema="luna",
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_index(
        op.f("ix_lorebook_entries_lorebook_id_position"),
        "lorebook_entries",
        ["lorebook_id", "position"],
        unique=False,
        schema="luna",
    )
    op.create_index(
        "ix_lorebook_entries_search",
        "lorebook_entries",
        ["search"],
        unique=False,
        schema="luna",
        postgresql_using="gin",
    )
    op.create_table(
        "story_lorebooks",
        sa.Column("story_id", sa.Uuid(), nullable=False),
        sa.Column("lorebook_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lorebook_id"],
            ["luna.lorebooks.id"],
            name=op.f("fk_story_lorebooks_lorebook_id_lorebooks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["luna.stories.id"],
            name=op.f("fk_story_lorebooks_story_id_stories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("story_id", "lorebook_id", name=op.f("pk_story_lorebooks")),
        schema="luna",
    )
    op.create_index(
        op.f("ix_story_lorebooks_lorebook_id"),
        "story_lorebooks",
        ["lorebook_id"],
        unique=False,
        schema="luna",
    )
    op.create_table(
        "character_portraits",
        sa.Column("character_id", sa.Uuid(), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["character_id"],
            ["luna.character_cards.id"],
            name=op.f("fk_character_portraits_character_id_character_cards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("character_id", name=op.f("pk_character_portraits")),
        schema="luna",
    )
    op.create_table(
        "character_skills",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("character_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("max_value", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["character_id"],
            ["luna.character_cards.id"],
            name=op.f("fk_character_skills_character_id_character_cards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_character_skills")),
        schema="luna",
    )
    op.create_index(
        "uq_character_skills_character_id_name",
        "character_skills",
        ["character_id", sa.literal_column("lower(name)")],
        unique=True,
        schema="luna",
    )
    op.create_table(
        "story_characters",
        sa.Column("story_id", sa.Uuid(), nullable=False),
        sa.Column("character_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("role IN ('protagonist', 'npc')", name=op.f("ck_story_characters_role")),
        sa.ForeignKeyConstraint(
            ["character_id"],
            ["luna.character_cards.id"],
            name=op.f("fk_story_characters_character_id_character_cards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["luna.stories.id"],
            name=op.f("fk_story_characters_story_id_stories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("story_id", "character_id", name=op.f("pk_story_characters")),
        schema="luna",
    )
    op.create_index(
        op.f("ix_story_characters_character_id"),
        "story_characters",
        ["character_id"],
        unique=False,
        schema="luna",
    )
    op.create_index(
        "uq_story_characters_one_protagonist",
        "story_characters",
        ["story_id"],
        unique=True,
        schema="luna",
        postgresql_where=sa.text("role = 'protagonist'"),
    )

    op.create_table(
        "worlds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("genre", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tone", sa.String(length=200), nullable=True),
        sa.Column("template_id", sa.String(length=60), nullable=True),
        sa.Column("lorebook_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lorebook_id"],
            ["luna.lorebooks.id"],
            name=op.f("fk_worlds_lorebook_id_lorebooks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worlds")),
        schema="luna",
    )
    op.create_index(op.f("ix_worlds_lorebook_id"), "worlds", ["lorebook_id"], schema="luna")
    op.create_index(
        "ix_worlds_lower_name", "worlds", [sa.literal_column("lower(name)")], schema="luna"
    )
    op.create_table(
        "world_characters",
        sa.Column("world_id", sa.Uuid(), nullable=False),
        sa.Column("character_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["character_id"],
            ["luna.character_cards.id"],
            name=op.f("fk_world_characters_character_id_character_cards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["world_id"],
            ["luna.worlds.id"],
            name=op.f("fk_world_characters_world_id_worlds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("world_id", "character_id", name=op.f("pk_world_characters")),
        schema="luna",
    )
    op.create_index(
        op.f("ix_world_characters_character_id"),
        "world_characters",
        ["character_id"],
        schema="luna",
    )

    op.alter_column("agent_runs", "turn_id", nullable=True, schema="luna")
    op.add_column("agent_runs", sa.Column("character_id", sa.Uuid(), nullable=True), schema="luna")
    op.create_foreign_key(
        "fk_agent_runs_character_id_character_cards",
        "agent_runs",
        "character_cards",
        ["character_id"],
        ["id"],
        source_schema="luna",
        referent_schema="luna",
        ondelete="SET NULL",
    )
    op.create_index("ix_agent_runs_character_id", "agent_runs", ["character_id"], schema="luna")
    op.alter_column("cost_logs", "story_id", nullable=True, schema="luna")
    op.alter_column("cost_logs", "turn_id", nullable=True, schema="luna")

    op.create_table(
        "lorebook_keys",
        sa.Column("lorebook_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["luna.lorebook_entries.id"],
            name=op.f("fk_lorebook_keys_entry_id_lorebook_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lorebook_id"],
            ["luna.lorebooks.id"],
            name=op.f("fk_lorebook_keys_lorebook_id_lorebooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lorebook_id", "key", "entry_id", name=op.f("pk_lorebook_keys")),
        schema="luna",
    )
    op.create_index(op.f("ix_lorebook_keys_entry_id"), "lorebook_keys", ["entry_id"], schema="luna")
    op.execute(KEYS_SYNC)
    op.execute(
        "CREATE TRIGGER lorebook_keys_sync AFTER INSERT OR UPDATE OF match_keys "
        "ON luna.lorebook_entries FOR EACH ROW EXECUTE FUNCTION luna.lorebook_keys_sync()"
    )


def downgrade() -> None:
    op.execute("DELETE FROM luna.cost_logs WHERE turn_id IS NULL OR story_id IS NULL")
    op.execute("DELETE FROM luna.agent_runs WHERE turn_id IS NULL")
    op.alter_column("cost_logs", "turn_id", nullable=False, schema="luna")
    op.alter_column("cost_logs", "story_id", nullable=False, schema="luna")
    op.drop_index("ix_agent_runs_character_id", "agent_runs", schema="luna")
    op.drop_column("agent_runs", "character_id", schema="luna")
    op.alter_column("agent_runs", "turn_id", nullable=False, schema="luna")
    for table in TABLES:
        op.drop_table(table, schema="luna")
    op.execute("DROP FUNCTION luna.lorebook_keys_sync()")
