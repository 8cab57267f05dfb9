"""The Writer's typed input; its output is plain prose."""

from __future__ import annotations

from pydantic import BaseModel

from luna_narrates.agents.schemas import PastTurn, StoryFrame
from luna_narrates.agents.strategist.schemas import ResponseTemplate


class WriterInput(BaseModel):
    story: StoryFrame
    previous_turn: PastTurn | None
    user_action: str
    plan: ResponseTemplate
    target_tokens: int
