"""What the Preprocessor writes down after a turn: its summary and the world-state changes.

Bounded everywhere, like every grammar-constrained answer: a small model can otherwise loop
until max_tokens. A fact is (subject, key, value); a later fact with the same subject and key
supersedes the earlier one, so "status: alive" at turn 3 and "status: dead" at turn 12 make a
history, and only the newest is current.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from luna_narrates.agents.schemas import PastTurn, StoryFrame

EntityKind = Literal["character", "location", "item", "faction"]
NAME_CHARS, KEY_CHARS, TEXT_CHARS, DESCRIPTION_CHARS = 60, 40, 160, 100
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_CHARS)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=KEY_CHARS)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_CHARS)]


class EntityMention(BaseModel):
    name: Name = Field(description="The name the story uses now.")
    kind: EntityKind
    aliases: list[Name] = Field(
        default_factory=list, max_length=2, description="Other names, including former names."
    )
    description: str = Field(default="", max_length=DESCRIPTION_CHARS)


class FactChange(BaseModel):
    subject: Name = Field(description="Who or what the fact is about.")
    key: Key = Field(description="One word or snake_case: status, location, held_by, secret, …")
    value: Text = Field(description="What is true from this turn on.")


class RelationshipChange(BaseModel):
    source: Name
    target: Name
    disposition: str = Field(
        min_length=1, max_length=120, description="How the source feels about the target now."
    )
    score: int = Field(ge=-5, le=5, description="-5 hatred … 0 neutral … 5 devotion.")


class CharacterChange(BaseModel):
    name: Name
    change: Text = Field(description="How the character is different after this turn.")


class TurnMemory(BaseModel):
    summary: str = Field(min_length=1, max_length=300, description="The turn in 1-3 sentences.")
    entities: list[EntityMention] = Field(default_factory=list, max_length=5)
    facts: list[FactChange] = Field(default_factory=list, max_length=6)
    relationships: list[RelationshipChange] = Field(default_factory=list, max_length=3)
    character_changes: list[CharacterChange] = Field(default_factory=list, max_length=2)


class RememberInput(BaseModel):
    story: StoryFrame
    turn: PastTurn
    known_entities: list[str] = Field(
        description="Names already in the ledger, so the model reuses them instead of inventing."
    )


class ArcSummary(BaseModel):
    title: str = Field(min_length=1, max_length=80)
    summary: str = Field(min_length=1, max_length=600, description="The arc in 2-5 sentences.")


class ArcInput(BaseModel):
    story: StoryFrame
    first_turn: int
    last_turn: int
    turn_summaries: list[str]
