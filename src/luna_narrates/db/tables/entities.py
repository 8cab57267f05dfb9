"""Who and what the story knows: characters, locations, items, factions, and their names.

The views `characters` and `locations` (migration 0002) show the two kinds players ask for most.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, FromTurn, created_at, uuid_pk


class Entity(FromTurn, Base):
    __tablename__ = "entities"
    __table_args__ = (Index(None, "story_id", "kind"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(60), doc="The name it was first met by.")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = created_at()


class EntityAlias(FromTurn, Base):
    """Every name an entity goes by, from the turn it was first used; the newest primary one
    is what the story calls it now (a rename adds a primary alias, the old name stays)."""

    __tablename__ = "entity_aliases"
    __table_args__ = (
        UniqueConstraint("entity_id", "normalized", "turn_id"),
        Index(None, "story_id", "normalized"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(60))
    normalized: Mapped[str] = mapped_column(String(60))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
