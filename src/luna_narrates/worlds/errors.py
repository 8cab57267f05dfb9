"""Errors of the worlds domain."""

from __future__ import annotations

import uuid

from luna_narrates.errors import InvalidInput, NotFound


class WorldNotFound(NotFound):
    def __init__(self, world_id: uuid.UUID) -> None:
        super().__init__(f"No world with id {world_id}.", world_id=str(world_id))


class TemplateNotFound(InvalidInput):
    def __init__(self, template_id: str, known: list[str]) -> None:
        super().__init__(
            f"No story template {template_id!r}; the templates are: {', '.join(known)}.",
            template_id=template_id,
        )


class StartRefused(InvalidInput):
    code = "invalid_story"
