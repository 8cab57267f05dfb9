"""How one character stands with another from a turn on; the newest row on a lineage counts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, FromTurn, created_at, uuid_pk


class Relationship(FromTurn, Base):
    __tablename__ = "relationships"
    __table_args__ = (
        Index(None, "source_entity_id", "target_entity_id", "turn_number"),
        Index(None, "target_entity_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    source_entity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE")
    )
    target_entity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE")
    )
    disposition: Mapped[str] = mapped_column(Text)
    score: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = created_at()
