"""What every agent sees of a story: the stable part that opens each prompt."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StoryFrame(BaseModel):
    """Stable across turns, so it goes first in every prompt and stays in the model's KV cache."""

    title: str
    genre: str | None = None
    setting: str | None = None
    premise: str
    protagonist: str | None = None


class PastTurn(BaseModel):
    turn_number: int
    user_action: str
    narrative_text: str = Field(description="The passage, possibly shortened to its last part.")
