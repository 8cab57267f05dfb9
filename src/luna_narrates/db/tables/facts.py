"""World-state facts: (entity, key, value) true from a turn on, until a later value of the same
key on the same lineage supersedes it. Rows are never edited, which keeps branches honest."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, FromTurn, created_at, uuid_pk


class Fact(FromTurn, Base):
    __tablename__ = "facts"
    __table_args__ = (Index(None, "entity_id", "key", "turn_number"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
    object_entity_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entities.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = created_at()
