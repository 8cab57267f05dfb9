"""Request and response bodies of the community asset library, and what a tag may be."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

AssetSort = Literal["relevance", "popular", "newest", "oldest", "downloads"]
MAX_TAGS = 20
TAG_CHARS = 40
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=4000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Trimmed (inner spaces folded) and lower-case, each once in the order given, empty ones
    dropped. A ValueError names a tag that is too long or holds a comma (the separator of
    `?tags=`), or says there are too many."""
    found: list[str] = []
    for tag in tags:
        tag = " ".join(tag.split()).lower()
        if "," in tag:
            raise ValueError(f"the tag {tag[:60]!r} holds a comma, which separates tags")
        if len(tag) > TAG_CHARS:
            raise ValueError(f"the tag {tag[:60]!r}… is longer than {TAG_CHARS} characters")
        if tag and tag not in found:
            found.append(tag)
    if len(found) > MAX_TAGS:
        raise ValueError(f"an asset has at most {MAX_TAGS} tags, not {len(found)}")
    return found


class _Edit(BaseModel):
    """What is left out stays as it is; `null` is refused rather than read as "leave it"."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null: leave it out to keep it")
        return self


class AssetEdit(_Edit):
    name: Name | None = None
    description: Description | None = None
    tags: list[str] | None = Field(default=None, description=f"At most {MAX_TAGS}; replaces all.")
    is_public: bool | None = Field(default=None, description="Shown to every player.")

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        return None if tags is None else normalise_tags(tags)


class AssetOut(BaseModel):
    """An asset with the card's fields, as the viewer sees it."""

    id: uuid.UUID
    owner_id: uuid.UUID
    mine: bool = Field(description="Yours to edit, share and delete.")
    content_type: str = Field(description="character, location, background, action, item, scene")
    name: str
    description: str
    attributes: dict[str, Any]
    generation: dict[str, Any] = Field(description="How the card says the pixels were made.")
    license: str
    created_by: str
    tags: list[str]
    is_public: bool
    downloads: int
    vote_score: int
    my_vote: Literal[-1, 0, 1] = Field(description="Your vote; 0 when you have not voted.")
    report_count: int
    checksum: str = Field(description="SHA-256 of the PNG.")
    size_bytes: int
    width: int
    height: int
    source_image_id: uuid.UUID | None = Field(description="The story image it was taken from.")
    created_at: datetime
    updated_at: datetime
    url: str = Field(description="The PNG, with its card.")
    similarity: float | None = Field(
        default=None, description="Cosine similarity to `q` (1 is the same meaning)."
    )


class AssetImported(AssetOut):
    already_in_library: bool = Field(
        description="You had imported this very file before: this is that asset, unchanged."
    )


class AssetPage(BaseModel):
    items: list[AssetOut]
    total: int


class Vote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Literal[-1, 0, 1] = Field(description="1 up, -1 down, 0 withdraws your vote.")


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class ReportOut(BaseModel):
    id: uuid.UUID
    asset_id: uuid.UUID
    reason: str
    created_at: datetime
    report_count: int = Field(description="The asset's reports, this one included.")


class CollectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description = ""
    is_public: bool = False


class CollectionEdit(_Edit):
    name: Name | None = None
    description: Description | None = None
    is_public: bool | None = None


class CollectionOut(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    mine: bool
    name: str
    description: str
    is_public: bool
    asset_count: int = Field(description="The assets in it that you may see.")
    created_at: datetime
    updated_at: datetime
    download_url: str = Field(description="A zip of its PNGs and a `collection.json`.")


class CollectionDetail(CollectionOut):
    assets: list[AssetOut] = Field(description="In the collection's order.")
