"""Request and response bodies of the stories domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value.strip() if value is not None else None


class StoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Limits keep the story frame, which opens every agent's prompt, within a 4k-token context.
    title: str = Field(min_length=1, max_length=200)
    genre: str | None = Field(default=None, max_length=100)
    setting: str | None = Field(default=None, max_length=1_000)
    premise: str = Field(min_length=1, max_length=2_000)
    protagonist: str | None = Field(default=None, max_length=1_000)

    _strip = field_validator("title", "genre", "setting", "premise", "protagonist")(_not_blank)


class BranchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    is_main: bool
    is_active: bool
    parent_branch_id: uuid.UUID | None
    fork_turn_number: int | None


class StoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    genre: str | None
    setting: str | None
    premise: str
    protagonist: str | None
    created_at: datetime
    updated_at: datetime
    turn_count: int
    active_branch: BranchOut


class StoryPage(BaseModel):
    items: list[StoryOut]
    total: int
    limit: int
    offset: int


class AgentRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    agent: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    tokens_estimated: bool
    seconds: float
    cost_usd: Decimal | None
    prompt_hash: str


class AgentRunDetail(AgentRunOut):
    """What the agent saw (its rendered prompt and typed input) and what it answered."""

    prompt: list[dict[str, Any]]
    input: dict[str, Any]
    output: Any


class TurnSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    story_id: uuid.UUID
    branch_id: uuid.UUID
    turn_number: int
    user_action: str
    narrative_text: str
    total_cost_usd: Decimal
    total_execution_time_seconds: float
    created_at: datetime


class TurnOut(TurnSummary):
    briefing: dict[str, Any]
    plan: dict[str, Any]
    agents: list[AgentRunDetail]


class TurnPage(BaseModel):
    items: list[TurnSummary]
    total: int
    limit: int
    offset: int
