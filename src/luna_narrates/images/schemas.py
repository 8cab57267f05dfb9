"""What a render asks for and what it gives back, the same for every kind of worker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

RANDOM_SEED = -1
# Seeds stay below 2**32 so that one draws alike on both servers (A1111 draws its own below it).
SEED_LIMIT = 2**32


class ImageRequest(BaseModel):
    """What to draw, in terms both ComfyUI and Automatic1111 understand."""

    model_config = ConfigDict(frozen=True)

    prompt: str
    negative_prompt: str = ""
    width: int = Field(default=512, ge=16, le=16384)
    height: int = Field(default=512, ge=16, le=16384)
    steps: int = Field(default=20, ge=1, le=10000)
    cfg: float = Field(default=7.0, ge=0.0, le=100.0)
    seed: int = Field(default=RANDOM_SEED, ge=RANDOM_SEED, lt=SEED_LIMIT)
    """`-1` draws one; `RenderedImage.seed` says which."""
    checkpoint: str | None = None
    """The model file: ComfyUI's `ckpt_name`, A1111's checkpoint title or name. `None` keeps the
    workflow's (ComfyUI) or the loaded one (A1111)."""
    sampler: str | None = None
    """In the server's own words (`euler` for ComfyUI, `Euler a` for A1111); `None` keeps the
    workflow's or the server's default."""


@dataclass(frozen=True)
class RenderedImage:
    png: bytes
    seed: int
    """The seed actually used."""
    model: str | None
    """The checkpoint it was drawn with, as the worker names it."""
    seconds: float
    worker_info: dict[str, Any] = field(default_factory=dict[str, Any])
    """What the server said: A1111's parsed `info`; ComfyUI's prompt id and output files."""


@dataclass(frozen=True)
class WorkerHealth:
    ok: bool
    detail: str


class ImageOut(BaseModel):
    """An image a story asked for, with where it stands."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    story_id: uuid.UUID
    turn_number: int | None = Field(description="The turn that asked for it.")
    image_type: str = Field(description="background, action, portrait, item or scene")
    subject: str
    prompt: str
    negative_prompt: str
    settings: dict[str, Any]
    seed: int | None
    variant: int
    status: str = Field(description="pending, generating, complete or failed")
    error: str | None
    speculative: bool
    placeholder: bool = Field(
        description="Drawn by the placeholder renderer (no image worker is configured)."
    )
    reused_from: uuid.UUID | None = Field(
        description="A background reused from the cache: the render whose picture it shows."
    )
    worker_name: str | None
    model: str | None
    width: int | None
    height: int | None
    size_bytes: int | None
    checksum: str | None
    seconds: float | None
    created_at: datetime
    completed_at: datetime | None
    url: str | None = Field(description="Where the picture is served, once complete.")
