"""Image files go when the last row that shows them goes, and only once that is committed.

Deleting turns (redo from a turn, a deleted branch) releases their images in the deleting
transaction: the Dreamer's pictures those turns had realized go back to the pool, speculative
again (the idea is unrealized again too); the other rows go with the turns, and their files are
marked doomed unless a row that stays shows the same file (a background that a turn of another
branch reused). Whoever committed the transaction then removes the doomed files (`remove`): a
deletion that rolls back leaves every file in place. A whole story's files go with its
directory (storage.remove_story).

Planning a turn's images takes the same per-story lock, so no new row can start sharing a file
between the moment it is doomed and the commit.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Select, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.tables import DreamerContent, GeneratedImage
from luna_narrates.images import storage

DOOMED = "luna.doomed_images"  # session.info key: relative paths to remove after the commit


async def lock_story_images(session: AsyncSession, story_id: uuid.UUID) -> None:
    """Serialises changes to which rows show which files, until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"luna-images:{story_id}"},
    )


async def release_turns(session: AsyncSession, story_id: uuid.UUID, turn_ids: Select[Any]) -> None:
    """Call before the turns are deleted, in the same transaction."""
    await lock_story_images(session, story_id)
    of_turns = GeneratedImage.turn_id.in_(turn_ids)
    unrealized = select(DreamerContent.id).where(DreamerContent.realized_in_turn.in_(turn_ids))
    await session.execute(
        update(GeneratedImage)
        .where(
            GeneratedImage.dreamer_content_id.is_not(None),
            of_turns | GeneratedImage.dreamer_content_id.in_(unrealized),
        )
        .values(turn_id=None, speculative=True)
    )
    await session.execute(
        update(DreamerContent)
        .where(DreamerContent.realized_in_turn.in_(turn_ids))
        .values(realized_in_turn=None, realized_by=None, realized_at=None)
    )
    paths = set(
        await session.scalars(
            select(GeneratedImage.path).where(of_turns, GeneratedImage.path.is_not(None))
        )
    )
    if not paths:
        return
    kept = await session.scalars(
        select(GeneratedImage.path).where(
            GeneratedImage.path.in_(paths),
            or_(GeneratedImage.turn_id.is_(None), GeneratedImage.turn_id.not_in(turn_ids)),
        )
    )
    session.info.setdefault(DOOMED, set()).update(paths - set(kept))


def doomed(session: AsyncSession) -> set[str]:
    """The files the session's transaction released; read it before the session closes."""
    return set(session.info.get(DOOMED, ()))


def remove(data_dir: Path, paths: set[str]) -> None:
    """After the commit: the released files."""
    for path in paths:
        storage.locate(data_dir, path).unlink(missing_ok=True)
