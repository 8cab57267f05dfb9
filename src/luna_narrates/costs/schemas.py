"""What the cost analytics and metrics endpoints answer."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from luna_narrates.kit.money import Usd


class Spend(BaseModel):
    """Model calls and what they cost. `unpriced_calls` were made on models whose price is
    unknown: they are counted in the tokens but cost nothing here, and say so."""

    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cost_usd: Usd
    unpriced_calls: int


class AgentSpend(Spend):
    agent: str
    provider: str
    model: str


class StoryCosts(Spend):
    story_id: uuid.UUID
    turns: int = Field(description="Turns (every take counted) whose calls are included.")
    avg_turn_cost_usd: Usd
    by_agent: list[AgentSpend]


class TurnCosts(Spend):
    turn_id: uuid.UUID
    turn_number: int
    version: int
    is_selected: bool
    by_agent: list[AgentSpend]


class TurnCostPage(BaseModel):
    items: list[TurnCosts]
    total: int


class PeriodSpend(Spend):
    period: date = Field(description="The day, or the first day of the month.")
    turns: int


class Projection(BaseModel):
    turns_per_month: int
    sample_turns: int = Field(description="The recent turns the mix is measured on.")
    avg_turn_cost_usd: Usd
    projected_monthly_usd: Usd
    avg_input_tokens: float
    avg_output_tokens: float
    compare_model: str
    compare_turn_cost_usd: Usd | None = Field(
        description="The same turns with every agent on compare_model; null if its price is "
        "unknown."
    )
    compare_monthly_usd: Usd | None
    saving_usd: Usd | None = Field(description="What your mix saves a month against it.")
    summary: str


class AgentTimes(BaseModel):
    agent: str
    calls: int
    avg_seconds: float


class Metrics(BaseModel):
    total_turns_generated: int
    avg_turn_time_seconds: float
    avg_turn_cost_usd: float
    agents: list[AgentTimes]


PerMillion = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=8)]


class PriceOverride(BaseModel):
    """An operator's price for one model, USD per million tokens. Input tokens count the
    cached ones too: those are billed at the cache prices, the rest at the input price; a cache
    price left out (null) bills those tokens as plain input."""

    model_config = ConfigDict(extra="forbid")

    input_usd_per_mtok: PerMillion
    output_usd_per_mtok: PerMillion
    cache_read_usd_per_mtok: PerMillion | None = None
    cache_write_usd_per_mtok: PerMillion | None = None
    note: str | None = Field(default=None, max_length=500)


class PriceTier(BaseModel):
    above_input_tokens: int
    usd_per_mtok: Decimal


class ModelPriceOut(BaseModel):
    """One price of a model and the time it held (`valid_to` null: it still does)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    provider: str
    model: str = Field(
        description="genai-prices' model id, or for an operator's price the name as written."
    )
    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal
    cache_read_usd_per_mtok: Decimal | None
    cache_write_usd_per_mtok: Decimal | None
    tiers: dict[str, list[PriceTier]] | None = Field(
        default=None,
        description="genai-prices' higher prices by kind of token (input, output, cache_read, "
        "cache_write) once a call's input passes a number of tokens: every token of that kind "
        "is then billed at the tier's price.",
    )
    valid_from: datetime
    valid_to: datetime | None
    source: str = Field(description="'genai-prices', or 'operator' (which wins).")
    note: str | None
