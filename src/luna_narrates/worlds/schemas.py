"""Request and response bodies of the worlds domain, and the shape of a story template."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from luna_narrates.stories.schemas import StoryCreate, stripped


class TemplateCharacter(BaseModel):
    name: str
    description: str
    personality: str


class TemplatePlace(BaseModel):
    name: str
    description: str


class StoryTemplate(BaseModel):
    """A ready-made start: the story, its world, who is in it, and the opening situation."""

    id: str
    title: str
    genre: str
    premise: str
    setting: str
    tone: str
    protagonist: TemplateCharacter
    characters: list[TemplateCharacter]
    locations: list[TemplatePlace]
    items: list[TemplatePlace]
    opening: str = Field(description="The situation the opening passage sets.")


class WorldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="Required without a template."
    )
    genre: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=5_000)
    tone: str | None = Field(default=None, max_length=200)
    template_id: str | None = Field(
        default=None, max_length=60, description="Start from a template's world, lore and cast."
    )


class WorldUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    genre: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=5_000)
    tone: str | None = Field(default=None, max_length=200)
    lorebook_id: uuid.UUID | None = Field(
        default=None, description="The world's lore; null unlinks it (the book stays)."
    )


class WorldCharacterRef(BaseModel):
    id: uuid.UUID
    name: str


class WorldOut(BaseModel):
    id: uuid.UUID
    name: str
    genre: str | None
    description: str
    tone: str | None
    template_id: str | None
    lorebook_id: uuid.UUID | None
    characters: list[WorldCharacterRef]
    location_count: int
    item_count: int
    created_at: datetime
    updated_at: datetime


class WorldPage(BaseModel):
    items: list[WorldOut]
    total: int


class WorldCharacterLink(BaseModel):
    character_id: uuid.UUID


class StoryStart(StoryCreate):
    """A new story: written from scratch (`title` and `premise`), from a template (the rest
    is optional and overrides the template's), or in a world (its setting, lore and NPCs)."""

    title: str | None = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]
    premise: str | None = Field(default=None, min_length=1, max_length=2_000)  # type: ignore[assignment]
    template_id: str | None = Field(default=None, max_length=60)
    world_id: uuid.UUID | None = None
    generate_opening: bool = Field(
        default=False,
        description="Have the pipeline write the opening passage now (it becomes turn 1).",
    )

    @field_validator("template_id")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return stripped(value) if value is not None else None
