"""Request and response bodies of the lore domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Tier = Literal["hot", "warm", "cold"]
EntryKind = Literal["lore", "character", "location", "item", "faction", "event"]
LorebookFormat = Literal["world_info", "character_book", "lorebook_v3"]
LorebookSort = Literal["name", "entry_count", "created_at", "updated_at"]
TIER_HELP = (
    "hot: always considered; warm: also found by meaning (embeddings) and indexed keys; "
    "cold: packed with zstd, unpacked only when one of its keys appears."
)


class EntryWrite(BaseModel):
    """A SillyTavern World Info entry: the fields below, and any other World Info field
    (`probability`, `group`, `sticky`, `scanDepth`…), which is kept as given."""

    model_config = ConfigDict(extra="allow")

    key: list[str] | None = Field(default=None, description="Primary keys; `/regex/flags` too.")
    keysecondary: list[str] | None = None
    content: str | None = Field(default=None, max_length=100_000)
    comment: str | None = Field(default=None, max_length=2_000)
    constant: bool | None = None
    selective: bool | None = None
    order: int | None = None
    disable: bool | None = None
    kind: EntryKind | None = Field(
        default=None, description="What the entry describes; `lore` unless said."
    )


class EntryOut(BaseModel):
    id: uuid.UUID
    uid: str
    position: int
    kind: EntryKind
    fields: dict[str, Any] = Field(description="Every World Info field of the entry.")


class LorebookSettings(BaseModel):
    scan_depth: int | None = Field(default=None, ge=0, le=1_000)
    token_budget: int | None = Field(default=None, ge=1, le=1_000_000)
    recursive_scanning: bool | None = None


class LorebookCreate(LorebookSettings):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    universe_name: str | None = Field(default=None, max_length=200)
    storage_tier: Tier = Field(default="warm", description=TIER_HELP)
    entries: list[EntryWrite] = Field(default_factory=list, max_length=50_000)


class LorebookUpdate(LorebookSettings):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    universe_name: str | None = Field(default=None, max_length=200)
    storage_tier: Tier | None = Field(default=None, description=TIER_HELP)


class LorebookOut(LorebookSettings):
    id: uuid.UUID
    name: str
    description: str
    universe_name: str | None
    storage_tier: Tier
    source_format: str
    entry_count: int
    created_at: datetime
    updated_at: datetime


class LorebookDetail(LorebookOut):
    entries: list[EntryOut]
    entries_from: int
    entries_total: int


class LorebookPage(BaseModel):
    items: list[LorebookOut]
    total: int


class EntryPage(BaseModel):
    items: list[EntryOut]
    total: int


class StoryLorebookLink(BaseModel):
    lorebook_id: uuid.UUID


ExtractedKind = Literal["character", "location", "item", "faction", "event"]


class ExtractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    story_id: uuid.UUID
    entity_types: list[ExtractedKind] = Field(
        default_factory=lambda: ["character", "location", "event"],  # type: ignore[arg-type]
        min_length=1,
        description="What to take: characters, locations, items, factions, events (arcs).",
    )
    branch_id: uuid.UUID | None = Field(
        default=None, description="The branch whose memory is read; the active one by default."
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)
    universe_name: str | None = Field(default=None, max_length=200)
    storage_tier: Tier = "warm"
