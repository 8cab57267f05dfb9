"""The character writer's typed input and output. Every string is bounded: the embedded model
writes under a JSON grammar and would otherwise run to max_tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

Section = Literal["description", "personality", "scenario", "first_mes", "mes_example"]
SECTION_HELP: dict[str, str] = {
    "description": "who the character is: looks, background, what they want",
    "personality": "a short list of traits, comma-separated",
    "scenario": "the situation the character is in when the story starts",
    "first_mes": "the character's first message to the player, in their own voice",
    "mes_example": "two short example exchanges, each starting with <START>, "
    "lines prefixed {{user}}: and {{char}}:",
}
# llama.cpp expands a string's maxLength into its grammar: far longer bounds than these
# crash its sampler (a segmentation fault at 1,200 characters, measured here).
SECTION_LIMITS: dict[str, int] = {
    "description": 600,
    "personality": 200,
    "scenario": 400,
    "first_mes": 500,
    "mes_example": 600,
}
Tag = Annotated[str, StringConstraints(max_length=30)]


class CharacterIdea(BaseModel):
    name: str
    idea: str = Field(description="What the player wants: a sentence or a paragraph.")
    setting: str | None = Field(default=None, description="The world or genre, if known.")


class CharacterDraft(BaseModel):
    description: str = Field(min_length=1, max_length=SECTION_LIMITS["description"])
    personality: str = Field(min_length=1, max_length=SECTION_LIMITS["personality"])
    scenario: str = Field(min_length=1, max_length=SECTION_LIMITS["scenario"])
    first_mes: str = Field(min_length=1, max_length=SECTION_LIMITS["first_mes"])
    mes_example: str = Field(min_length=1, max_length=SECTION_LIMITS["mes_example"])
    tags: list[Tag] = Field(default_factory=list, max_length=6)


class SectionRequest(BaseModel):
    name: str
    section: Section
    card: dict[str, str] = Field(description="The card's other sections, as they are.")
    instruction: str | None = None


class SectionDraft(BaseModel):
    text: str = Field(min_length=1, max_length=max(SECTION_LIMITS.values()))
