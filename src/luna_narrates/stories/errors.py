"""Errors of the stories domain."""

from __future__ import annotations

import uuid

from luna_narrates.errors import NotFound


class StoryNotFound(NotFound):
    def __init__(self, story_id: uuid.UUID) -> None:
        super().__init__(f"No story with id {story_id}.", story_id=str(story_id))


class TurnNotFound(NotFound):
    def __init__(self, story_id: uuid.UUID, turn_number: int) -> None:
        super().__init__(
            f"Story {story_id} has no turn {turn_number} on its active branch.",
            story_id=str(story_id),
            turn_number=turn_number,
        )
