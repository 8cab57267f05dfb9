"""The Dreamer's typed input (the story and what it already has) and its answer, a few ideas."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from luna_narrates.agents.schemas import PastTurn, StoryFrame

ContentType = Literal["character", "location", "item", "scene", "plot_twist"]
MAX_IDEAS = 5


class KnownThing(BaseModel):
    """Something the story already has: an entity of the world ledger, a lore entry, a card."""

    name: str
    kind: str = Field(description="character, location, item, faction, …")
    summary: str = Field(description="One line: what it is and what is true of it now.")


class DreamerInput(BaseModel):
    story: StoryFrame
    recent_turns: list[PastTurn] = Field(
        default_factory=list, description="The last few turns, oldest first."
    )
    world: list[KnownThing] = Field(
        default_factory=list, description="What the story already has, most relevant first."
    )
    open_threads: list[str] = Field(default_factory=list)
    already_dreamed: list[str] = Field(
        default_factory=list,
        description="Names already in the pool, newest first: not to be dreamed again.",
    )
    wanted: int = Field(default=3, ge=1, le=MAX_IDEAS, description="How many ideas to dream.")


def _within_zero_and_one(value: object) -> object:
    # llama.cpp's grammar cannot bound a number (it ignores minimum and maximum), so a small
    # model may write 80 or -1: read it as the nearest end of the scale rather than send the
    # whole answer back to be rewritten.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return min(max(value, 0.0), 1.0)
    return value


# The validator wraps the bounds (it comes after them), so it runs first and they still reach
# the JSON schema as minimum and maximum.
Confidence = Annotated[float, Field(ge=0, le=1), BeforeValidator(_within_zero_and_one)]


# Metadata is a list of key/value pairs, not a dict: llama.cpp's grammar ignores
# `maxProperties` and `propertyNames` (checked on llama-cpp-python 0.3.36), so a dict's keys
# and its number of entries would be unbounded, and a small model could loop until max_tokens.
class Detail(BaseModel):
    key: str = Field(
        min_length=1, max_length=40, description="One word or two: looks, mood, role, wants, …"
    )
    value: str = Field(min_length=1, max_length=160, description="The detail, in a few words.")


class DreamIdea(BaseModel):
    content_type: ContentType = Field(description="What kind of idea it is.")
    name: str = Field(
        min_length=1,
        max_length=80,
        description="A short name the story can use: a person's or a place's name, an object, "
        "or a title for a scene or a twist.",
    )
    description: str = Field(
        min_length=1,
        max_length=400,
        description="What it is and why it fits the story now, in one to three sentences, "
        "concrete enough to draw.",
    )
    # Required, so that a grammar keeps the fields in this order (it puts optional ones last):
    # the details before the confidence, which is judged once the idea is written.
    metadata: list[Detail] = Field(
        max_length=6,
        description="A few details, each a key and a value: looks, mood, role, where, who.",
    )
    confidence: Confidence = Field(
        description="How likely the story will need it soon: 0 hardly, 1 almost surely."
    )

    def details(self) -> dict[str, str]:
        """The metadata as a mapping; a key given twice keeps its first value."""
        return {d.key: d.value for d in reversed(self.metadata)}


# Bounded everywhere: under a JSON grammar a small model can loop until max_tokens. (The
# docstring is what the model reads as the output's description.)
class Dream(BaseModel):
    """New ideas the story may need soon, each grounded in what the story already has."""

    # At least one in the schema, so a grammar-bound model cannot answer with none; a Dream
    # may still be empty once the agent has dropped the ideas that repeat earlier ones.
    ideas: list[DreamIdea] = Field(max_length=MAX_IDEAS, json_schema_extra={"minItems": 1})
