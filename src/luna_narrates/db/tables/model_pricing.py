"""What model calls cost per million tokens, with history: one row per price and the time it
held. Rows come from genai-prices (synced at start-up) or from an operator, whose row wins."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, created_at, uuid_pk

SOURCES = ("genai-prices", "operator")
PRICE_COLUMNS = (
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cache_read_usd_per_mtok",
    "cache_write_usd_per_mtok",
)


class ModelPricing(Base):
    __tablename__ = "model_pricing"
    __table_args__ = (
        CheckConstraint(f"source IN {SOURCES}", name="source"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_period"),
        CheckConstraint(
            " AND ".join(f"coalesce({column}, 0) >= 0" for column in PRICE_COLUMNS),
            name="prices_not_negative",
        ),
        # One price in force per model and source: the rest of its rows are its history.
        Index(
            "uq_model_pricing_open",
            "provider",
            "model",
            "source",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    provider: Mapped[str] = mapped_column(String(60), doc="Ours: openai, anthropic, google…")
    model: Mapped[str] = mapped_column(
        String(200),
        doc="genai-prices' model id; for an operator row, the name as written in provider:model.",
    )
    # USD per million tokens. Input tokens are counted as the provider reports them, cache
    # reads and writes included: those are billed at their own price, the rest at the input's.
    input_usd_per_mtok: Mapped[Decimal] = mapped_column(Numeric(14, 8))
    output_usd_per_mtok: Mapped[Decimal] = mapped_column(Numeric(14, 8))
    cache_read_usd_per_mtok: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 8), doc="None: cache reads are billed as plain input."
    )
    cache_write_usd_per_mtok: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 8), doc="None: cache writes are billed as plain input."
    )
    tiers: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB,
        doc="genai-prices' higher prices once a call's input passes a number of tokens, by "
        'kind: {"input": [{"above_input_tokens": 200000, "usd_per_mtok": "6"}], …}; every '
        "token of that kind is then billed at the tier's price.",
    )
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), doc="None: still in force."
    )
    source: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
