"""What a turn knows and where it goes: the placement of a new turn or of another take of one,
and the recent turns and memory packed for its action."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.agents.preprocessor.schemas import BriefingItem
from luna_narrates.agents.schemas import PastTurn, StoryFrame
from luna_narrates.characters.briefing import cast_briefing
from luna_narrates.db.lineage import Lineage, lineage_of
from luna_narrates.db.tables import Branch, Turn
from luna_narrates.dreamer import briefing as dream_briefing
from luna_narrates.lore import briefing as lore_briefing
from luna_narrates.lore.briefing import LoreQuery
from luna_narrates.memory import service as memory
from luna_narrates.memory.retrieval import Query
from luna_narrates.memory.schemas import MemoryBriefing
from luna_narrates.memory.text import recent_context
from luna_narrates.narration.schemas import TurnRequest
from luna_narrates.stories import repository
from luna_narrates.stories import service as stories
from luna_narrates.timelines import repository as timelines_repository
from luna_narrates.timelines import service as timelines


@dataclass
class Placement:
    """Where a turn will be written: after the lineage's last turn, as another take of a turn
    (`replaces` its selected version), or first on a branch created with it."""

    branch_id: uuid.UUID
    turn_number: int
    version: int = 1
    replaces: Turn | None = None
    new_branch: Branch | None = None

    def describe(self) -> str:
        if self.new_branch is not None:
            return (
                f"Another take of turn {self.turn_number}, on the new branch "
                f"{self.new_branch.name!r}: later turns build on the first."
            )
        if self.version > 1:
            return f"Turn {self.turn_number}, take {self.version}."
        return f"Turn {self.turn_number}."


@dataclass
class Snapshot:
    """What the agents may know of the story, read in one short session."""

    story_id: uuid.UUID
    placement: Placement
    frame: StoryFrame
    recent: list[PastTurn]
    memory: list[BriefingItem]


async def place(
    session: AsyncSession, request: TurnRequest, regenerate: int | None
) -> tuple[Placement, Lineage]:
    """Where the turn goes, and the past it is written after."""
    if regenerate is None:
        branch = await stories.resolve_branch(session, request.story_id, request.branch_id)
        last = await repository.last_turn_number(session, branch.id)
        return Placement(branch.id, last + 1), await lineage_of(session, branch.id)
    placement = await retake(session, request, regenerate)
    # A new branch is not stored yet: its parent holds the same past.
    new = placement.new_branch
    home = new.parent_branch_id if new else placement.branch_id
    assert home is not None
    return placement, await lineage_of(session, home, upto=regenerate - 1)


async def retake(session: AsyncSession, request: TurnRequest, turn_number: int) -> Placement:
    """Where another take of turn N goes: beside the others, unless later turns or other
    branches build on it; then first on a new branch from turn N-1."""
    position = await timelines.locate(session, request.story_id, turn_number, request.branch_id)
    version = await timelines_repository.next_version(session, position.owner.id, turn_number)
    if not await position.settled(session):
        return Placement(position.owner.id, turn_number, version, replaces=position.turn)
    branch = timelines.fork(
        position.tree,
        position.owner,
        turn_number - 1,
        timelines.unique_name(position.tree, f"Turn {turn_number}, take {version}"),
        f"Another take of turn {turn_number} of {position.owner.name!r}.",
    )
    return Placement(branch.id, turn_number, new_branch=branch)


async def recall(
    session: AsyncSession,
    lineage: Lineage,
    action: str,
    vector: list[float],
    *,
    window: int,
    budget: int,
    count_tokens: Callable[[str], int],
) -> tuple[Sequence[Turn], MemoryBriefing]:
    """The recent turns and the memory packed for the action: one code path for a turn
    and for the briefing preview, so the preview is what a turn would send."""
    recent = await repository.recent_turns(session, lineage, window)
    context = recent_context((t.user_action, t.narrative_text) for t in recent)
    query = Query(action, vector, context)
    cast = await cast_briefing(session, lineage.story_id, action, context)
    messages = [action]
    for turn in reversed(recent):
        messages += [turn.narrative_text, turn.user_action]
    last = recent[-1:] or await repository.recent_turns(session, lineage, 1)

    async def history(turns: int) -> dict[str, list[int]]:
        if turns <= 0:
            return {}
        earlier = await repository.recent_turns(session, lineage, turns)
        return lore_briefing.history_of([(t.turn_number, t.briefing) for t in earlier])

    lore_query = LoreQuery(
        lineage.story_id,
        messages,
        turn_number=(last[-1].turn_number if last else 0) + 1,
        vector=vector,
        history=history,
        character_books=cast.books,
        user_name=cast.user_name,
    )
    extra = [
        *cast.candidates,
        *await lore_briefing.candidates(session, lore_query),
        *await dream_briefing.candidates(session, lineage.story_id, messages, vector),
    ]
    return recent, await memory.briefing(session, lineage, query, budget, count_tokens, extra)
