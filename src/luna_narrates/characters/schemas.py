"""Request and response bodies of the characters domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CardFormat = Literal["tavernai", "v2", "v3", "png"]
CharacterSort = Literal["name", "created_at", "updated_at"]
Role = Literal["protagonist", "npc"]
SkillCategory = Literal["attribute", "skill", "stat"]
TEXT_FIELDS = (
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "creator_notes",
    "system_prompt",
    "post_history_instructions",
    "creator",
    "character_version",
)
Text = Field(default=None, max_length=100_000)


class Skill(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    name: str = Field(min_length=1, max_length=60)
    category: SkillCategory = "skill"
    value: int = Field(ge=-1_000_000, le=1_000_000)
    max_value: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    description: str = Field(default="", max_length=2_000)


class CardEdit(BaseModel):
    """Card fields, named as in Character Card V2/V3; what is not given stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Text
    personality: str | None = Text
    scenario: str | None = Text
    first_mes: str | None = Text
    mes_example: str | None = Text
    creator_notes: str | None = Text
    system_prompt: str | None = Text
    post_history_instructions: str | None = Text
    alternate_greetings: list[str] | None = Field(default=None, max_length=100)
    tags: list[str] | None = Field(default=None, max_length=100)
    creator: str | None = Field(default=None, max_length=200)
    character_version: str | None = Field(default=None, max_length=100)
    extensions: dict[str, Any] | None = Field(
        default=None, description="Replaces the card's extensions (other tools' settings) whole."
    )
    in_library: bool | None = None
    skills: list[Skill] | None = Field(
        default=None, max_length=200, description="Replaces the character's skills and stats."
    )


class CharacterCreate(CardEdit):
    name: str = Field(min_length=1, max_length=200)


class CharacterOut(BaseModel):
    id: uuid.UUID
    name: str
    spec: Literal["tavernai", "chara_card_v2", "chara_card_v3"] = Field(
        description="The card's own format, kept for export."
    )
    origin: str
    in_library: bool
    tags: list[str]
    description: str
    personality: str
    scenario: str
    first_mes: str
    mes_example: str
    creator_notes: str
    system_prompt: str
    post_history_instructions: str
    alternate_greetings: list[str]
    creator: str
    character_version: str
    extensions: dict[str, Any]
    lorebook_id: uuid.UUID | None = Field(description="Its character_book, as a lorebook.")
    portrait: Literal["image", "placeholder"] = Field(
        description="`placeholder` until the character has a portrait of its own."
    )
    skills: list[Skill]
    created_at: datetime
    updated_at: datetime
    warnings: list[str] = Field(default_factory=list)


class CharacterPage(BaseModel):
    items: list[CharacterOut]
    total: int


class CastMember(BaseModel):
    character_id: uuid.UUID
    role: Role = "npc"


class CastOut(BaseModel):
    character: CharacterOut
    role: Role
