"""Errors of the stories domain."""

from __future__ import annotations

import uuid

from luna_narrates.errors import NotFound


class StoryNotFound(NotFound):
    def __init__(self, story_id: uuid.UUID) -> None:
        super().__init__(f"No story with id {story_id}.", story_id=str(story_id))


class BranchNotFound(NotFound):
    def __init__(self, story_id: uuid.UUID, branch_id: uuid.UUID) -> None:
        super().__init__(
            f"Story {story_id} has no branch {branch_id}.",
            story_id=str(story_id),
            branch_id=str(branch_id),
        )


class TurnNotFound(NotFound):
    def __init__(self, story_id: uuid.UUID, turn_number: int, branch: str) -> None:
        super().__init__(
            f"Story {story_id} has no turn {turn_number} on branch {branch!r}.",
            story_id=str(story_id),
            turn_number=turn_number,
        )
