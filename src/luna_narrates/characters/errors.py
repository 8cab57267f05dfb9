"""Errors of the characters domain."""

from __future__ import annotations

import uuid

from luna_narrates.errors import Conflict, InvalidInput, NotFound


class CharacterNotFound(NotFound):
    def __init__(self, character_id: uuid.UUID) -> None:
        super().__init__(f"No character with id {character_id}.", character_id=str(character_id))


class CardRefused(InvalidInput):
    """A card file or edit that cannot be stored as it is; says which part and why."""

    code = "invalid_card"


class CastConflict(Conflict):
    """The story already has a protagonist, or already has this character."""
