"""One row per model call: what the agent saw, what it answered, tokens, time and cost."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from luna_narrates.db.tables.base import Base, created_at, uuid_pk
from luna_narrates.db.tables.cost_logs import CostLog


class AgentRun(Base):
    __tablename__ = "agent_runs"

    id: Mapped[uuid.UUID] = uuid_pk()
    turn_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("turns.id", ondelete="CASCADE"), index=True, doc="None outside a turn."
    )
    character_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("character_cards.id", ondelete="SET NULL"),
        index=True,
        doc="The character a call outside a turn wrote (stage `character`).",
    )
    position: Mapped[int] = mapped_column(Integer)
    agent: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(
        String(20), default="turn", server_default="turn", doc="turn, remember, arc or character"
    )
    provider: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    prompt_hash: Mapped[str] = mapped_column(String(64))
    input: Mapped[dict[str, Any]] = mapped_column(JSONB)
    output: Mapped[Any] = mapped_column(JSONB)
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    fallbacks: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB,
        default=list,
        doc="The models of the agent's chain that failed before `model` answered, and why.",
    )
    tokens_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    seconds: Mapped[float]
    cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(14, 8))
    created_at: Mapped[datetime] = created_at()

    cost_log: Mapped[CostLog | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, single_parent=True
    )
