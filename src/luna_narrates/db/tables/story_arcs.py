"""A summary of a run of turns (every ten by default), linked to the turns it covers.

It hangs off its last turn: the arc is visible where that turn is, and goes with it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, FromTurn, created_at, uuid_pk

story_arc_turns = Table(
    "story_arc_turns",
    Base.metadata,
    Column("arc_id", ForeignKey("story_arcs.id", ondelete="CASCADE"), primary_key=True),
    Column("turn_id", ForeignKey("turns.id", ondelete="CASCADE"), primary_key=True),
)


class StoryArc(FromTurn, Base):
    __tablename__ = "story_arcs"
    __table_args__ = (UniqueConstraint("branch_id", "first_turn", "turn_number"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    first_turn: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
