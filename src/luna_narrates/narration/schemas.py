"""The turn request, the turn response, and the events a streamed turn emits."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

EventType = Literal[
    "status", "cost_estimate", "agent_start", "agent_complete", "token", "error", "done"
]


def stripped(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


Action = Annotated[str, Field(min_length=1, max_length=1_000), AfterValidator(stripped)]


class TurnRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    story_id: uuid.UUID
    user_action: Action
    writer_model_override: str | None = Field(
        default=None, max_length=200, description="A 'provider:model' for this turn's Writer."
    )


class AgentReport(BaseModel):
    agent: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    tokens_estimated: bool = Field(
        description="True when the provider reported no usage and the counts are estimates."
    )
    seconds: float
    cost_usd: Decimal
    price_known: bool


class TurnResponse(BaseModel):
    story_id: uuid.UUID
    branch_id: uuid.UUID
    turn_id: uuid.UUID
    turn_number: int
    user_action: str
    narrative_text: str
    total_cost_usd: Decimal
    total_execution_time_seconds: float
    cost_complete: bool = Field(description="False when some model's price is unknown.")
    agents: list[AgentReport]
    briefing: dict[str, Any]
    plan: dict[str, Any]


class TurnEvent(BaseModel):
    type: EventType
    data: dict[str, Any]


class ImportedTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_action: Action
    narrative_text: Annotated[
        str, Field(min_length=1, max_length=100_000), AfterValidator(stripped)
    ]


class TurnImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turns: list[ImportedTurn] = Field(min_length=1, max_length=2_000)


class ImportResult(BaseModel):
    story_id: uuid.UUID
    branch_id: uuid.UUID
    first_turn_number: int
    last_turn_number: int
    memory_jobs: int = Field(description="Background jobs deferred to build the turns' memory.")
