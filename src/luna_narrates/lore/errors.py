"""Errors of the lore domain."""

from __future__ import annotations

import uuid

from luna_narrates.errors import InvalidInput, NotFound


class LorebookNotFound(NotFound):
    def __init__(self, lorebook_id: uuid.UUID) -> None:
        super().__init__(f"No lorebook with id {lorebook_id}.", lorebook_id=str(lorebook_id))


class EntryNotFound(NotFound):
    def __init__(self, lorebook_id: uuid.UUID, entry_id: uuid.UUID) -> None:
        super().__init__(
            f"Lorebook {lorebook_id} has no entry {entry_id}.",
            lorebook_id=str(lorebook_id),
            entry_id=str(entry_id),
        )


class LorebookRefused(InvalidInput):
    """A lorebook file or entry that cannot be stored as it is; says which part and why."""

    code = "invalid_lorebook"
