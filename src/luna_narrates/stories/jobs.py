"""What a change to a story asks of the job queue: its memory rebuilt for a turn."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class PostTurnHook(Protocol):
    """Defers a turn's memory jobs on the caller's session, so they commit with the change or
    not at all; `arcs` are last turns of arcs to sum up again afterwards; `images` plans the
    turn's images too; `models` are this turn's model overrides of the background roles
    (extractor, summariser, dreamer). Answers the job ids."""

    async def __call__(
        self,
        session: AsyncSession,
        story_id: uuid.UUID,
        turn_id: uuid.UUID,
        arcs: Sequence[uuid.UUID] = (),
        *,
        images: bool = False,
        dreams: bool = False,
        models: Mapping[str, str] | None = None,
    ) -> list[int]: ...
