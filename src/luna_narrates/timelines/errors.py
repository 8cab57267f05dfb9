"""Errors of timelines: each says what was refused and what the player can do instead."""

from __future__ import annotations

from luna_narrates.errors import Conflict


class BranchConflict(Conflict):
    code = "branch_conflict"


class HistoryConflict(Conflict):
    """The change would rewrite or delete turns that later turns or other branches build on."""

    code = "history_conflict"
