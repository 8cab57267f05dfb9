"""The turn request, the turn response, and the events a streamed turn emits."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from luna_narrates.agents.character_writer.schemas import Section
from luna_narrates.characters.schemas import CharacterOut
from luna_narrates.config import BACKGROUND_ROLES
from luna_narrates.kit.money import Usd
from luna_narrates.stories.schemas import Action, BranchRef, Passage, StoryOut

EventType = Literal[
    "status", "cost_estimate", "agent_start", "agent_complete", "token", "error", "done"
]


class ModelOverrides(BaseModel):
    """A 'provider:model' for one agent, for this turn only (the configured one otherwise)."""

    preprocessor_model_override: str | None = Field(
        default=None, max_length=200, description="A 'provider:model' for this turn's Preprocessor."
    )
    strategist_model_override: str | None = Field(
        default=None, max_length=200, description="A 'provider:model' for this turn's Strategist."
    )
    writer_model_override: str | None = Field(
        default=None, max_length=200, description="A 'provider:model' for this turn's Writer."
    )
    extractor_model_override: str | None = Field(
        default=None,
        max_length=200,
        description="A 'provider:model' for writing down this turn (its memory job).",
    )
    summariser_model_override: str | None = Field(
        default=None,
        max_length=200,
        description="A 'provider:model' for the arc summary this turn may complete.",
    )
    dreamer_model_override: str | None = Field(
        default=None,
        max_length=200,
        description="A 'provider:model' for the dream that follows this turn.",
    )

    def overrides(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in ModelOverrides.model_fields}

    def background(self) -> dict[str, str]:
        """The overrides of the background roles this turn prompts, by role."""
        return {
            role: value
            for role in BACKGROUND_ROLES
            if (value := getattr(self, f"{role}_model_override"))
        }


class TurnRequest(ModelOverrides):
    model_config = ConfigDict(extra="forbid")

    story_id: uuid.UUID
    user_action: Action
    branch_id: uuid.UUID | None = Field(
        default=None, description="The branch to continue; the story's active branch by default."
    )


class RegenerateRequest(ModelOverrides):
    """Another take of a turn. In place when nothing builds on the turn yet; otherwise on a
    new branch from the turn before, so no later turn is rewritten."""

    model_config = ConfigDict(extra="forbid")

    user_action: Action | None = Field(
        default=None, description="A different action for the new take; the same by default."
    )
    branch_id: uuid.UUID | None = Field(
        default=None, description="The branch whose turn N is meant; the active one by default."
    )


class FallbackReport(BaseModel):
    """A model of the agent's chain that failed, so the call went on to the next."""

    model: str = Field(description="'provider:model'")
    error: str = Field(description="Why it failed, e.g. 'HTTP 529: Overloaded'.")
    seconds: float


class AgentReport(BaseModel):
    agent: str
    provider: str = Field(description="The provider of the model that answered.")
    model: str = Field(description="The model that answered (the chain's first, unless it failed).")
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int = 0
    fallbacks: list[FallbackReport] = Field(
        default_factory=list,
        description="The models tried before `model`, in order, and why each failed.",
    )
    tokens_estimated: bool = Field(
        description="True when the provider reported no usage and the counts are estimates."
    )
    seconds: float
    cost_usd: Usd
    price_known: bool
    cache_saving_usd: Usd = Field(
        default=Decimal(0),
        description="What prompt caching saved on this call, against the plain input price.",
    )


class TurnResponse(BaseModel):
    story_id: uuid.UUID
    branch_id: uuid.UUID
    turn_id: uuid.UUID
    turn_number: int
    user_action: str
    narrative_text: str
    total_cost_usd: Usd
    total_execution_time_seconds: float
    cost_complete: bool = Field(description="False when some model's price is unknown.")
    estimated_cost_usd: Usd = Field(
        default=Decimal(0),
        description="What the turn was expected to cost before it ran (the SSE `cost_estimate`); "
        "`total_cost_usd` is what it cost.",
    )
    cache_saving_usd: Usd = Field(
        default=Decimal(0), description="What prompt caching saved across the turn's agents."
    )
    agents: list[AgentReport]
    briefing: dict[str, Any]
    plan: dict[str, Any]
    version: int = Field(default=1, description="Which take of the turn this is.")
    branch_created: BranchRef | None = Field(
        default=None,
        description="Set when a regenerated turn had later turns or branches building on it: "
        "the new take starts this branch, which is now the active one.",
    )


class TurnEvent(BaseModel):
    type: EventType
    data: dict[str, Any]


class ImportedTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_action: Action
    narrative_text: Passage


class TurnImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turns: list[ImportedTurn] = Field(min_length=1, max_length=2_000)
    branch_id: uuid.UUID | None = Field(
        default=None, description="The branch to append to; the active branch by default."
    )


class ImportResult(BaseModel):
    story_id: uuid.UUID
    branch_id: uuid.UUID
    first_turn_number: int
    last_turn_number: int
    memory_jobs: int = Field(description="Background jobs deferred to build the turns' memory.")


class StoryStarted(StoryOut):
    opening: TurnResponse | None = Field(
        default=None, description="The opening passage (turn 1), when it was asked for."
    )


class CharacterGenerate(BaseModel):
    """A character for the model to write from a name and an idea."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(
        min_length=1, max_length=2_000, description="The idea: who they are, in your words."
    )
    setting: str | None = Field(default=None, max_length=1_000, description="World or genre.")
    tags: list[str] = Field(default_factory=list, max_length=20)
    in_library: bool = True
    generate_portrait: bool = Field(
        default=False, description="Queue a portrait when an image worker is configured."
    )


class SectionRewrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    section: Section
    instruction: str | None = Field(
        default=None, max_length=500, description="What to change, in your words."
    )


class CharacterWritten(CharacterOut):
    agent: AgentReport = Field(description="The model call that wrote it: tokens, time, cost.")
