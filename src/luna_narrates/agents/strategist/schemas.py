"""The Strategist's plan for one passage."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from luna_narrates.agents.preprocessor.schemas import StrategistBriefing
from luna_narrates.agents.schemas import StoryFrame


class StrategistInput(BaseModel):
    story: StoryFrame
    briefing: StrategistBriefing
    user_action: str


Name = Annotated[str, StringConstraints(max_length=60)]
Sentence = Annotated[str, StringConstraints(max_length=160)]


class NpcReaction(BaseModel):
    character: str = Field(max_length=60)
    reaction: str = Field(max_length=160)


# Bounded everywhere: under a JSON grammar a small model can loop until max_tokens. (The
# docstring is what the model reads as the output's description.)
class ResponseTemplate(BaseModel):
    """The plan of the next passage: where, who, the tone, the beats in order, and what
    follows from them."""

    scene_location: str = Field(max_length=100, description="Where the passage takes place.")
    characters_present: list[Name] = Field(default_factory=list, max_length=5)
    tone: str = Field(max_length=40, description="The mood of the passage, in a few words.")
    beats: list[Sentence] = Field(
        min_length=1,
        max_length=5,
        description="What happens, in order, one sentence each.",
    )
    npc_reactions: list[NpcReaction] = Field(default_factory=list, max_length=3)
    consequences: list[Sentence] = Field(
        default_factory=list, max_length=3, description="What changes in the world."
    )
