"""What the memory endpoints answer: what the AI sees, with scores, sources and history."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from luna_narrates.agents.preprocessor.schemas import BriefingItem


class BriefingEntry(BriefingItem):
    """A briefing item with why it was picked; the Strategist is sent the item alone."""

    score: float
    reason: str = Field(description="Why it was picked: named in the action, search, …")


class MemoryBriefing(BaseModel):
    action: str
    token_budget: int = Field(description="The whole briefing's budget.")
    scene_reserve_tokens: int = Field(
        description="Kept for the scene reading the Preprocessor's model writes during a turn."
    )
    tokens: int = Field(description="What the memory items below take, in the target tokenizer.")
    candidates: int = Field(description="How many distinct items were ranked before packing.")
    items: list[BriefingEntry]


class SearchHit(BaseModel):
    kind: str
    text: str
    score: float = Field(description="Reciprocal-rank fusion of vector and full-text ranks.")
    turn_number: int
    source_id: uuid.UUID | None
    superseded_at_turn: int | None = Field(
        default=None, description="For a fact: the turn a newer value replaced it, if any."
    )


class SearchResults(BaseModel):
    query: str
    hits: list[SearchHit]


class EntityRef(BaseModel):
    id: uuid.UUID
    name: str


class FactOut(BaseModel):
    id: uuid.UUID
    key: str
    value: str
    since_turn: int
    until_turn: int | None = Field(
        description="The turn a newer value replaced it; None if current."
    )


class RelationshipOut(BaseModel):
    id: uuid.UUID
    source: EntityRef
    target: EntityRef
    disposition: str
    score: int
    since_turn: int
    until_turn: int | None


class ChangeOut(BaseModel):
    turn_number: int
    change: str


class EntityOut(BaseModel):
    id: uuid.UUID
    kind: str
    name: str = Field(description="What the story calls it now.")
    aliases: list[str]
    description: str
    first_turn: int
    facts: list[FactOut]
    relationships: list[RelationshipOut]


class EntityHistory(EntityOut):
    changes: list[ChangeOut]


class WorldOut(BaseModel):
    story_id: uuid.UUID
    branch_id: uuid.UUID
    entities: list[EntityOut]
