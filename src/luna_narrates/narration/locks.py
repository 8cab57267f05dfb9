"""Serialises turns of one story: an in-process lock, then a lease row for other processes.

No database connection is held while the models run: the lease is a timestamped claim on
the story row, taken and released in short transactions. The unique (branch, turn number)
constraint is the last line of defence if a lease ever expires under a slow turn.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from luna_narrates.db.engine import Database
from luna_narrates.errors import Busy
from luna_narrates.stories import repository

POLL_SECONDS = 0.1


class StoryLocks:
    def __init__(self, db: Database, *, lease: timedelta, wait_seconds: float) -> None:
        self.db = db
        self.lease = lease
        self.wait_seconds = wait_seconds
        self._local: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def _local_lock(self, story_id: uuid.UUID) -> asyncio.Lock:
        lock = self._local.get(story_id)
        if lock is None:
            lock = asyncio.Lock()
            self._local[story_id] = lock
        return lock

    @asynccontextmanager
    async def hold(self, story_id: uuid.UUID) -> AsyncIterator[uuid.UUID]:
        """Yields the lease id; the turn's commit must release it in the same transaction."""
        lock = self._local_lock(story_id)
        acquired = False
        try:
            async with asyncio.timeout(self.wait_seconds):
                acquired = await lock.acquire()
                lease_id = await self._take_lease(story_id)
        except BaseException as error:
            if acquired:
                lock.release()
            if not isinstance(error, TimeoutError):
                raise
            raise Busy(
                f"Story {story_id} is still generating another turn; try again in a moment.",
                story_id=str(story_id),
            ) from None
        try:
            yield lease_id
        finally:
            try:
                # Shielded: a turn cancelled by a departing client may be cancelled again
                # while it cleans up, and an unreleased lease would block the story.
                await asyncio.shield(self._release_lease(story_id, lease_id))
            finally:
                lock.release()

    async def _release_lease(self, story_id: uuid.UUID, lease_id: uuid.UUID) -> None:
        async with self.db.transaction() as session:
            await repository.release_turn_lease(session, story_id, lease_id)

    async def _take_lease(self, story_id: uuid.UUID) -> uuid.UUID:
        lease_id = uuid.uuid4()
        while True:
            async with self.db.transaction() as session:
                if await repository.try_take_turn_lease(session, story_id, lease_id, self.lease):
                    return lease_id
            await asyncio.sleep(POLL_SECONDS)
