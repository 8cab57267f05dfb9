"""Accounts: players (`users`, the local player among them), their sign-ins (`sessions`), admins'
invitations (`invites`), and who owns each story (`stories.owner_id`: the local player for the
stories made before accounts).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "luna"
LOCAL = "00000000-0000-0000-0000-000000000000"


def _now() -> sa.Column[datetime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _user(name: str, ondelete: str, nullable: bool = False) -> sa.Column[uuid.UUID]:
    target = sa.ForeignKey(f"{SCHEMA}.users.id", ondelete=ondelete)
    return sa.Column(name, sa.Uuid(), target, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("username", sa.String(40), nullable=False),
        sa.Column("username_key", sa.String(40), nullable=False, unique=True),
        sa.Column("email", sa.String(254)),
        sa.Column("password_hash", sa.Text()),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lockouts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        _now(),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    op.execute(
        f"INSERT INTO {SCHEMA}.users (id, username, username_key, is_admin) "
        f"VALUES ('{LOCAL}', 'local', 'local', true)"
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _user("user_id", "CASCADE"),
        _now(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"], schema=SCHEMA)
    op.create_table(
        "invites",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        _user("created_by", "CASCADE"),
        _now(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _user("used_by", "SET NULL", nullable=True),
        schema=SCHEMA,
    )
    op.add_column(
        "stories",
        sa.Column(
            "owner_id",
            sa.Uuid(),
            sa.ForeignKey(f"{SCHEMA}.users.id"),
            server_default=LOCAL,
            nullable=False,
        ),
        schema=SCHEMA,
    )
    op.alter_column("stories", "owner_id", server_default=None, schema=SCHEMA)
    op.create_index("ix_stories_owner_id", "stories", ["owner_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("stories", "owner_id", schema=SCHEMA)
    op.drop_table("invites", schema=SCHEMA)
    op.drop_table("sessions", schema=SCHEMA)
    op.drop_table("users", schema=SCHEMA)
