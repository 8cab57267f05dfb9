"""The image pool's workers and the images stories asked for."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from luna_narrates.db.tables.base import Base, created_at, uuid_pk


class ImageWorker(Base):
    """A GPU worker from `LUNA_IMAGE_WORKERS`, with its health, load and statistics. A worker
    no longer in the settings stays (`configured` false) so its images keep their history."""

    __tablename__ = "image_workers"
    __table_args__ = (
        CheckConstraint("in_flight >= 0", name="in_flight_not_negative"),
        CheckConstraint("api_type IN ('comfyui', 'automatic1111')", name="api_type"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(80), unique=True)
    api_type: Mapped[str] = mapped_column(String(20))
    api_url: Mapped[str] = mapped_column(String(500))
    max_concurrent: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    configured: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    online: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    in_flight: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    images_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    images_failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    seconds_total: Mapped[float] = mapped_column(default=0.0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


class ImageWorkerSlot(Base):
    """A slot a render holds on a worker, until the render gives it back or the slot expires:
    one left by a process that crashed mid-render is taken back once expired."""

    __tablename__ = "image_worker_slots"

    id: Mapped[uuid.UUID] = uuid_pk()
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("image_workers.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class GeneratedImage(Base):
    """One image a story asked for: what was asked, of which worker, and where the file is.

    `status` goes pending → generating → complete or failed. A background reused from the
    cache is a row of its own for the turn that reused it, `source_image_id` naming the render
    whose file it shares. `speculative` images were drawn ahead of need (the Dreamer's)."""

    __tablename__ = "generated_images"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'generating', 'complete', 'failed')", name="status"),
        Index("ix_generated_images_story_id_cache_key", "story_id", "cache_key"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    story_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    turn_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("turns.id", ondelete="CASCADE"), index=True
    )
    image_type: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    negative_prompt: Mapped[str] = mapped_column(Text, default="", server_default="")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    variant: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cache_key: Mapped[str] = mapped_column(String(64))
    source_image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("generated_images.id", ondelete="SET NULL")
    )
    dreamer_content_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("dreamer_content.id", ondelete="CASCADE"),
        index=True,
        doc="The Dreamer's idea a speculative image shows.",
    )
    status: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    speculative: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    placeholder: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    worker_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("image_workers.id", ondelete="SET NULL")
    )
    worker_name: Mapped[str | None] = mapped_column(String(80))
    model: Mapped[str | None] = mapped_column(String(200))
    path: Mapped[str | None] = mapped_column(String(500))
    checksum: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[float | None]
    created_at: Mapped[datetime] = created_at()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
