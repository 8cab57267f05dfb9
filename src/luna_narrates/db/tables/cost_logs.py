"""The cost ledger: one row per agent call, kept apart from agent_runs for analytics."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, created_at, uuid_pk


class CostLog(Base):
    __tablename__ = "cost_logs"

    id: Mapped[uuid.UUID] = uuid_pk()
    story_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), index=True, doc="None outside a story."
    )
    turn_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("turns.id", ondelete="CASCADE"), index=True, doc="None outside a turn."
    )
    agent_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_runs.id", ondelete="CASCADE"))
    agent: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(200))
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 8))
    price_known: Mapped[bool] = mapped_column(Boolean)
    pricing_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("model_pricing.id", ondelete="SET NULL"),
        index=True,
        doc="The price the cost was computed from; None for a free or unpriced call.",
    )
    created_at: Mapped[datetime] = created_at()
