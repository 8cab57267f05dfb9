"""A story's branches as a tree, in memory: who inherits which turns from whom.

A branch inherits its parent's turns up to its fork point and owns the turns after it. Forks
are always recorded on the branch that owns the fork turn, so "which branches fork from this
turn" is a lookup, and a branch depends only on the branches it really inherits from.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from luna_narrates.db.tables import Branch


@dataclass
class Tree:
    branches: dict[uuid.UUID, Branch]
    children: dict[uuid.UUID, list[Branch]] = field(default_factory=dict)

    @classmethod
    def of(cls, branches: Iterable[Branch]) -> Tree:
        ordered = sorted(branches, key=lambda b: (b.created_at, b.id))
        tree = cls({b.id: b for b in ordered})
        for branch in ordered:
            if branch.parent_branch_id is not None:
                tree.children.setdefault(branch.parent_branch_id, []).append(branch)
        return tree

    @property
    def root(self) -> Branch:
        return next(b for b in self.branches.values() if b.parent_branch_id is None)

    def owner_of(self, branch: Branch, turn_number: int) -> Branch:
        """The branch in `branch`'s lineage that owns turn `turn_number` (the root for 0)."""
        while branch.parent_branch_id is not None and turn_number <= (branch.fork_turn_number or 0):
            branch = self.branches[branch.parent_branch_id]
        return branch

    def inheritors(self, branch: Branch, after: int) -> list[Branch]:
        """Branches that inherit some of `branch`'s turns numbered above `after`."""
        return [c for c in self.children.get(branch.id, []) if (c.fork_turn_number or 0) > after]

    def subtree(self, branch: Branch) -> list[Branch]:
        """The branch and its descendants, deepest first: the order they can be deleted in."""
        return list(reversed(list(self._walk(branch))))

    def _walk(self, branch: Branch) -> Iterator[Branch]:
        stack = [branch]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(reversed(self.children.get(current.id, [])))
