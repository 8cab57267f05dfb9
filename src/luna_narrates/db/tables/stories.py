"""A story: its premise and the stable material every agent's prompt starts with."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, created_at, uuid_pk


class Story(Base):
    __tablename__ = "stories"

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    genre: Mapped[str | None] = mapped_column(String(100))
    setting: Mapped[str | None] = mapped_column(Text)
    premise: Mapped[str] = mapped_column(Text)
    protagonist: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    turn_lease_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    turn_lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
