"""The Preprocessor's typed input and its output, the briefing the Strategist plans from.

The briefing has two parts: the scene reading the Preprocessor's model writes from the recent
turns (situation, intent, open threads), and the memory items retrieval packed for this action,
each citing where it comes from. Both share one token budget.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from luna_narrates.agents.schemas import PastTurn, StoryFrame

ItemKind = Literal[
    "recent",
    "pending",
    "fact",
    "relationship",
    "entity",
    "summary",
    "passage",
    "arc",
    "lore",
    "character",
    "dream",
]


class Citation(BaseModel):
    """Where a briefing item comes from: a turn (or a run of turns) and the row behind it, or
    a lorebook entry, or a character's card."""

    turn: int = Field(
        default=0,
        description="The turn it happened or became true on (an arc's last turn); 0 for lore "
        "and cards, which no turn wrote.",
    )
    first_turn: int | None = Field(default=None, description="An arc's first turn.")
    fact_id: uuid.UUID | None = None
    relationship_id: uuid.UUID | None = None
    entity_id: uuid.UUID | None = None
    arc_id: uuid.UUID | None = None
    lorebook_id: uuid.UUID | None = None
    lore_entry_id: uuid.UUID | None = None
    character_id: uuid.UUID | None = None
    dream_id: uuid.UUID | None = Field(
        default=None, description="An idea of the Dreamer's pool, not yet in the story."
    )
    title: str | None = Field(default=None, description="The lore entry's or character's name.")
    fired: bool | None = Field(
        default=None,
        description="A lore entry: true when it fired on this turn (a key, or constant), false "
        "when it was carried over (sticky) or found by meaning. Timed effects count firings.",
    )

    def label(self) -> str:
        if self.lore_entry_id is not None:
            return f"lore: {self.title}"
        if self.character_id is not None:
            return f"card: {self.title}"
        if self.dream_id is not None:
            return f"idea: {self.title}"
        if self.first_turn is not None:
            return f"turns {self.first_turn}-{self.turn}"
        return f"turn {self.turn}"


class BriefingItem(BaseModel):
    kind: ItemKind
    text: str
    source: Citation

    def line(self) -> str:
        return f"- [{self.source.label()}] {self.text}"


class PreprocessorInput(BaseModel):
    story: StoryFrame
    recent_turns: list[PastTurn]
    user_action: str
    token_budget: int
    memory: list[BriefingItem] = Field(
        default_factory=list, description="What retrieval packed; passed through to the briefing."
    )


Thread = Annotated[str, StringConstraints(max_length=100)]


# What the Preprocessor's model writes. Bounded to about the scene's share of the budget
# (agent.scene_budget): a longer answer costs seconds of generation only to be cut, and under
# a JSON grammar a small model can otherwise loop until max_tokens. (The docstring is what the
# model reads as the output's description.)
class SceneReading(BaseModel):
    """The scene now: the situation, what the player intends, and the threads still open."""

    situation: str = Field(
        max_length=200, description="Where the story stands right now, in one or two sentences."
    )
    player_intent: str = Field(max_length=120, description="What the player is trying to do.")
    open_threads: list[Thread] = Field(
        default_factory=list, max_length=2, description="Unresolved questions or dangers."
    )


class StrategistBriefing(SceneReading):
    memory: list[BriefingItem] = Field(
        default_factory=list, description="What the story remembers that this action needs."
    )
