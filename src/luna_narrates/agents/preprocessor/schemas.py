"""The Preprocessor's typed input and its output, the briefing the Strategist plans from."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from luna_narrates.agents.schemas import PastTurn, StoryFrame


class PreprocessorInput(BaseModel):
    story: StoryFrame
    recent_turns: list[PastTurn]
    user_action: str
    token_budget: int


Item = Annotated[str, StringConstraints(max_length=160)]


class StrategistBriefing(BaseModel):
    """Bounded everywhere: under a JSON grammar a small model can loop until max_tokens."""

    situation: str = Field(
        max_length=400, description="Where the story stands right now, in 1-3 sentences."
    )
    player_intent: str = Field(max_length=200, description="What the player is trying to do.")
    relevant_facts: list[Item] = Field(
        default_factory=list,
        max_length=6,
        description="Facts from the story so far that this action depends on.",
    )
    characters: list[Item] = Field(
        default_factory=list, max_length=4, description="Who is present or involved, one line each."
    )
    open_threads: list[Item] = Field(
        default_factory=list, max_length=4, description="Unresolved questions or dangers."
    )
