"""How a character changed on a turn: the arc of a person, not just their latest state."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, FromTurn, created_at, uuid_pk


class CharacterEvolutionSnapshot(FromTurn, Base):
    __tablename__ = "character_evolution_snapshots"

    id: Mapped[uuid.UUID] = uuid_pk()
    entity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), index=True
    )
    change: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
