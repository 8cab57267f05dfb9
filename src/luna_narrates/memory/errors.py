"""Errors of the memory domain."""

from __future__ import annotations

import uuid

from luna_narrates.errors import Conflict, NotFound


class EntityNotFound(NotFound):
    def __init__(self, story_id: uuid.UUID, entity: str) -> None:
        super().__init__(
            f"Story {story_id} knows no entity {entity!r} on its active branch.",
            story_id=str(story_id),
            entity=entity,
        )


class StaleMemory(Conflict):
    """A memory job's work was overtaken by a change to the story (another take of a turn);
    raised so that the job runs again on what memory holds now."""

    code = "stale_memory"
