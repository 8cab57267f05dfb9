"""Characters: the card as it was imported or written (every field and extension kept), its
portrait, its RPG-style skills, and the stories it plays in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, created_at, uuid_pk

ROLES = ("protagonist", "npc")


class CharacterCard(Base):
    __tablename__ = "character_cards"
    __table_args__ = (
        Index("ix_character_cards_tags", "tags", postgresql_using="gin"),
        Index("ix_character_cards_lower_name", text("lower(name)")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    version: Mapped[int] = mapped_column(SmallInteger, doc="1, 2 or 3: the shape of `card`.")
    card: Mapped[dict[str, Any]] = mapped_column(JSONB, doc="The card object, as read.")
    origin: Mapped[str] = mapped_column(String(20), doc="json, png, charx, manual, generated.")
    lorebook_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("lorebooks.id", ondelete="SET NULL"),
        index=True,
        doc="Its character_book, kept as a lorebook.",
    )
    in_library: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CharacterPortrait(Base):
    __tablename__ = "character_portraits"

    character_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("character_cards.id", ondelete="CASCADE"), primary_key=True
    )
    media_type: Mapped[str] = mapped_column(String(40))
    image: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at()


class CharacterSkill(Base):
    """An RPG-style attribute, skill or stat: optional, as many as the character needs."""

    __tablename__ = "character_skills"
    __table_args__ = (
        Index("uq_character_skills_character_id_name", "character_id", text("lower(name)"),
              unique=True),
    )  # fmt: skip

    id: Mapped[uuid.UUID] = uuid_pk()
    character_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("character_cards.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(20), default="skill")
    value: Mapped[int] = mapped_column(Integer)
    max_value: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")


class StoryCharacter(Base):
    __tablename__ = "story_characters"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="role"),
        Index(
            "uq_story_characters_one_protagonist",
            "story_id",
            unique=True,
            postgresql_where=text("role = 'protagonist'"),
        ),
    )

    story_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    character_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("character_cards.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = created_at()
