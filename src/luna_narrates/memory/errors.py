"""Errors of the memory domain."""

from __future__ import annotations

import uuid

from luna_narrates.errors import NotFound


class EntityNotFound(NotFound):
    def __init__(self, story_id: uuid.UUID, entity: str) -> None:
        super().__init__(
            f"Story {story_id} knows no entity {entity!r} on its active branch.",
            story_id=str(story_id),
            entity=entity,
        )
