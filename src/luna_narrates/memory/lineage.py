"""A branch's lineage: its own turns plus its parent's up to the fork, recursively.

Every memory query joins on it, so a fact created on one branch is invisible on another and a
fork sees exactly the past it grew from.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.tables import Branch

OPEN_END = 2**31 - 1

# Joins `alias` (any FromTurn table) to the lineage; bind it with Lineage.params().
LINEAGE_JOIN = (
    "JOIN unnest(CAST(:lineage_branches AS uuid[]), CAST(:lineage_upto AS int[])) "
    "AS lineage(branch_id, upto) "
    "ON {alias}.branch_id = lineage.branch_id AND {alias}.turn_number <= lineage.upto"
)


@dataclass(frozen=True)
class Lineage:
    story_id: uuid.UUID
    branch_id: uuid.UUID
    segments: tuple[tuple[uuid.UUID, int], ...]

    def params(self) -> dict[str, Any]:
        return {
            "story_id": self.story_id,
            "lineage_branches": [branch for branch, _ in self.segments],
            "lineage_upto": [upto for _, upto in self.segments],
        }

    def sees(self, branch_id: uuid.UUID, turn_number: int) -> bool:
        return any(branch_id == b and turn_number <= upto for b, upto in self.segments)


def join(alias: str) -> str:
    return LINEAGE_JOIN.format(alias=alias)


async def lineage_of(session: AsyncSession, branch_id: uuid.UUID, upto: int = OPEN_END) -> Lineage:
    """`upto` limits the branch's own turns: memory as it stood after that turn."""
    segments: list[tuple[uuid.UUID, int]] = []
    current: uuid.UUID | None = branch_id
    limit = upto
    story_id: uuid.UUID | None = None
    while current is not None:
        branch = await session.get(Branch, current)
        if branch is None:
            break
        story_id = branch.story_id
        segments.append((branch.id, limit))
        if branch.parent_branch_id is None:
            break
        limit = min(limit, branch.fork_turn_number or 0)
        current = branch.parent_branch_id
    if story_id is None:
        raise LookupError(f"branch {branch_id} does not exist")
    return Lineage(story_id, branch_id, tuple(segments))
