"""A branch's lineage: its own turns plus its parent's up to the fork, recursively.

Every query of a story's past joins on it, so a fact created on one branch is invisible on
another and a fork sees exactly the past it grew from.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, Uuid, and_, func, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.tables import Turn

OPEN_END = 2**31 - 1
MAX_DEPTH = 10_000

# Joins `alias` (any table with branch_id and turn_number) to the lineage; bind it with
# Lineage.params().
LINEAGE_JOIN = (
    "JOIN unnest(CAST(:lineage_branches AS uuid[]), CAST(:lineage_upto AS int[])) "
    "AS lineage(branch_id, upto) "
    "ON {alias}.branch_id = lineage.branch_id AND {alias}.turn_number <= lineage.upto"
)

# One query however deep the tree: the branch, then each parent with what it passes down.
CHAIN = text(
    """
    WITH RECURSIVE chain AS (
        SELECT id, story_id, parent_branch_id, fork_turn_number,
               CAST(:upto AS int) AS upto, 0 AS depth
        FROM branches WHERE id = :branch_id
        UNION ALL
        SELECT b.id, b.story_id, b.parent_branch_id, b.fork_turn_number,
               LEAST(c.upto, COALESCE(c.fork_turn_number, 0)), c.depth + 1
        FROM branches b JOIN chain c ON b.id = c.parent_branch_id
        WHERE c.depth < :max_depth  -- a guard: the service never makes a cycle
    )
    SELECT id, story_id, upto FROM chain ORDER BY depth
    """
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


def join_turns(alias: str) -> str:
    """The lineage's turns as the story tells them: only the selected version of each."""
    return f"{join(alias)} AND {alias}.is_selected"


def select_turns(lineage: Lineage) -> Select[Turn]:
    """The lineage's selected turns, for the ORM; add ordering and bounds."""
    segments = (
        func.unnest(
            literal([b for b, _ in lineage.segments], ARRAY(Uuid)),
            literal([u for _, u in lineage.segments], ARRAY(Integer)),
        )
        .table_valued("branch_id", "upto")
        .render_derived(name="lineage")
    )
    return (
        select(Turn)
        .join(
            segments,
            and_(Turn.branch_id == segments.c.branch_id, Turn.turn_number <= segments.c.upto),
        )
        .where(Turn.is_selected)
    )


async def lineage_of(session: AsyncSession, branch_id: uuid.UUID, upto: int = OPEN_END) -> Lineage:
    """`upto` limits the branch's own turns: the story as it stood after that turn."""
    rows = (
        await session.execute(CHAIN, {"branch_id": branch_id, "upto": upto, "max_depth": MAX_DEPTH})
    ).all()
    if not rows:
        raise LookupError(f"branch {branch_id} does not exist")
    return Lineage(rows[0].story_id, branch_id, tuple((row.id, row.upto) for row in rows))
