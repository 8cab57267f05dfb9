"""What the Dreamer's routes answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PoolImage(BaseModel):
    id: uuid.UUID
    status: str
    speculative: bool
    placeholder: bool
    url: str | None


class IdeaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    session_id: uuid.UUID = Field(description="The dream that invented it.")
    content_type: str = Field(description="character, location, item, scene or plot_twist")
    name: str
    description: str
    metadata: dict[str, Any]
    confidence: float
    created_at: datetime
    expires_at: datetime
    realized: bool
    realized_in_turn: int | None = Field(description="The turn number that used it.")
    realized_by: str | None = Field(description="strategist (planned it) or writer (wrote it)")
    realized_at: datetime | None
    images: list[PoolImage]


class TypeStatistics(BaseModel):
    content_type: str
    dreamed: int = Field(description="Ideas invented, those the pool let go since included.")
    realized: int
    realization_rate: float | None = Field(description="realized / dreamed; None with none.")
    average_hours_to_realize: float | None


class DreamerStatistics(BaseModel):
    by_type: list[TypeStatistics]
    pool_size: int = Field(description="Unrealized ideas kept now.")
