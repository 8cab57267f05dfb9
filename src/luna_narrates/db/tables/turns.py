"""A committed turn: the player's action, the passage, and what the agents decided on the way.

Each row is one version (an alternate take) of the turn at (branch, number); exactly one is
selected, and only that one is part of the story.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from luna_narrates.db.tables.agent_runs import AgentRun
from luna_narrates.db.tables.base import Base, created_at, uuid_pk


class Turn(Base):
    __tablename__ = "turns"
    __table_args__ = (
        UniqueConstraint("branch_id", "turn_number", "version"),
        Index(
            "uq_turns_one_selected_version",
            "branch_id",
            "turn_number",
            unique=True,
            postgresql_where=text("is_selected"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    story_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), index=True
    )
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    turn_number: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    is_selected: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), doc="the version that is part of the story"
    )
    user_action: Mapped[str] = mapped_column(Text)
    narrative_text: Mapped[str] = mapped_column(Text)
    briefing: Mapped[dict[str, Any]] = mapped_column(JSONB)
    plan: Mapped[dict[str, Any]] = mapped_column(JSONB)
    total_cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 8))
    total_execution_time_seconds: Mapped[float]
    origin: Mapped[str] = mapped_column(
        String(20),
        default="generated",
        server_default="generated",
        doc="generated, imported or edited",
    )
    created_at: Mapped[datetime] = created_at()

    agent_runs: Mapped[list[AgentRun]] = relationship(
        order_by=AgentRun.position, cascade="all, delete-orphan", passive_deletes=True
    )
