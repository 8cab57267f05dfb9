"""What the cost analytics and metrics endpoints answer."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field


class Spend(BaseModel):
    """Model calls and what they cost. `unpriced_calls` were made on models whose price is
    unknown: they are counted in the tokens but cost nothing here, and say so."""

    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cost_usd: Decimal
    unpriced_calls: int


class AgentSpend(Spend):
    agent: str
    provider: str
    model: str


class StoryCosts(Spend):
    story_id: uuid.UUID
    turns: int = Field(description="Turns (every take counted) whose calls are included.")
    avg_turn_cost_usd: Decimal
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
    avg_turn_cost_usd: Decimal
    projected_monthly_usd: Decimal
    avg_input_tokens: float
    avg_output_tokens: float
    compare_model: str
    compare_turn_cost_usd: Decimal | None = Field(
        description="The same turns with every agent on compare_model; null if its price is "
        "unknown."
    )
    compare_monthly_usd: Decimal | None
    saving_usd: Decimal | None = Field(description="What your mix saves a month against it.")
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
