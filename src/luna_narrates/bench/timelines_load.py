"""Two synthetic stories for `luna bench timelines`, planned in memory and bulk-inserted.

One story has a long lineage: a chain of branches, each forking from the previous one's last
turn, so its active branch's past runs through every one of them. The other has a wide tree of
short branches forking at random turns, the shape a player leaves after a long campaign of
"what if". Both keep the invariants the timelines service keeps: a fork is recorded on the
branch that owns the fork turn, a lineage is numbered 1…N without gaps, each turn has one
version, selected, and each story has one active branch.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from luna_narrates.bench.campaign import Campaign
from luna_narrates.bench.memory_load import create_story, insert_rows
from luna_narrates.db.tables import Branch, Turn
from luna_narrates.services import Services
from luna_narrates.timelines import repository as timelines

MAX_TREE_DEPTH = 20
FOLLOW_NEWEST = 0.4  # how often a new branch grows from the newest one, as a player exploring
MAIN_TURNS = (20, 40)
OWN_TURNS = (1, 8)


@dataclass(frozen=True)
class PlannedBranch:
    """A branch and the turns it owns, `first`…`last` (both included)."""

    index: int
    parent: int | None
    fork: int | None
    first: int
    last: int
    depth: int

    @property
    def name(self) -> str:
        return "Main" if self.parent is None else f"Branch {self.index}"


def plan_chain(turns: int, depth: int) -> list[PlannedBranch]:
    """`depth` branches sharing `turns` turns evenly (the last takes the remainder)."""
    if not 1 <= depth <= turns:
        raise ValueError(f"a chain of {depth} branches cannot share {turns} turns")
    share = turns // depth
    chain: list[PlannedBranch] = []
    for index in range(depth):
        first = index * share + 1
        last = turns if index == depth - 1 else first + share - 1
        parent = chain[-1] if chain else None
        chain.append(
            PlannedBranch(
                index=index,
                parent=parent.index if parent else None,
                fork=parent.last if parent else None,
                first=first,
                last=last,
                depth=index,
            )
        )
    return chain


def plan_tree(branches: int, seed: int) -> list[PlannedBranch]:
    """Main, then branches forking at a random turn of a random branch's own turns."""
    rng = random.Random(seed)
    tree = [PlannedBranch(0, None, None, 1, rng.randint(*MAIN_TURNS), 0)]
    for index in range(1, branches):
        eligible = [b for b in tree if b.depth < MAX_TREE_DEPTH]
        parent = eligible[-1] if rng.random() < FOLLOW_NEWEST else rng.choice(eligible)
        fork = rng.randint(parent.first, parent.last)
        tree.append(
            PlannedBranch(
                index=index,
                parent=parent.index,
                fork=fork,
                first=fork + 1,
                last=fork + rng.randint(*OWN_TURNS),
                depth=parent.depth + 1,
            )
        )
    return tree


@dataclass(frozen=True)
class LoadedStory:
    story_id: uuid.UUID
    branch_ids: list[uuid.UUID]  # in the plan's order
    plan: list[PlannedBranch]

    @property
    def active(self) -> uuid.UUID:
        return self.branch_ids[-1]

    def owner_of(self, turn_number: int) -> uuid.UUID:
        """The branch owning a turn of the last branch's lineage."""
        branch = self.plan[-1]
        while turn_number < branch.first:
            assert branch.parent is not None
            branch = self.plan[branch.parent]
        return self.branch_ids[branch.index]


async def load_story(
    services: Services, campaign: Campaign, plan: list[PlannedBranch], started: datetime
) -> LoadedStory:
    """Main comes from the product's story creation; the rest is bulk-inserted, and the last
    planned branch is made active."""
    story = await create_story(services, campaign)
    ids = [story.active_branch.id, *(uuid.uuid4() for _ in plan[1:])]
    branches = [
        {
            "id": ids[b.index],
            "story_id": story.id,
            "name": b.name,
            "parent_branch_id": ids[b.parent],
            "fork_turn_number": b.fork,
            "is_main": False,
            "is_active": False,
            "created_at": started + timedelta(minutes=b.index),
            "updated_at": started + timedelta(minutes=b.index),
        }
        for b in plan
        if b.parent is not None
    ]
    turns = [
        turn_row(story.id, ids[b.index], number, campaign)
        for b in plan
        for number in range(b.first, b.last + 1)
    ]
    async with services.db.transaction() as session:
        await insert_rows(session, Branch, branches)
        await insert_rows(session, Turn, turns)
        await timelines.set_active(session, story.id, ids[-1])
    return LoadedStory(story.id, ids, plan)


def turn_row(
    story_id: uuid.UUID, branch_id: uuid.UUID, number: int, campaign: Campaign
) -> dict[str, Any]:
    """Passages of realistic length: the campaign's, reused in turn."""
    source = campaign.turns[(number - 1) % len(campaign.turns)]
    return {
        "id": uuid.uuid4(),
        "story_id": story_id,
        "branch_id": branch_id,
        "turn_number": number,
        "version": 1,
        "is_selected": True,
        "user_action": source.user_action,
        "narrative_text": source.narrative_text,
        "briefing": {},
        "plan": {},
        "total_cost_usd": Decimal(0),
        "total_execution_time_seconds": 0.0,
        "origin": "imported",
    }


async def load_stories(
    services: Services, campaign: Campaign, lineage: list[PlannedBranch], tree: list[PlannedBranch]
) -> tuple[LoadedStory, LoadedStory]:
    """Both stories, then fresh planner statistics, as autovacuum would have gathered on a
    database that grew turn by turn."""
    started = datetime.now(UTC) - timedelta(days=1)
    long = await load_story(services, campaign, lineage, started)
    wide = await load_story(services, campaign, tree, started)
    async with services.db.transaction() as session:
        await session.execute(text("ANALYZE branches, turns"))
    return long, wide
