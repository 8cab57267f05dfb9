"""Timelines logic: branch, switch, rename, delete, redo, and choose or write a turn's take.

Nothing here deletes a turn that another branch inherits, or rewrites a turn that later turns
build on; such requests are refused with what to do instead. Never commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.lineage import lineage_of
from luna_narrates.db.tables import Branch, Turn
from luna_narrates.errors import InvalidInput, NotFound
from luna_narrates.images import cleanup
from luna_narrates.memory import repository as memory
from luna_narrates.stories import repository as stories_repository
from luna_narrates.stories import service as stories
from luna_narrates.stories.errors import BranchNotFound, StoryNotFound, TurnNotFound
from luna_narrates.stories.jobs import PostTurnHook
from luna_narrates.stories.schemas import BranchOut, BranchRef, TurnOut
from luna_narrates.timelines import repository
from luna_narrates.timelines.errors import BranchConflict, HistoryConflict
from luna_narrates.timelines.schemas import (
    BranchCreate,
    BranchDeleted,
    BranchList,
    BranchNode,
    BranchStats,
    BranchTree,
    BranchUpdate,
    TurnEdit,
    TurnsDeleted,
    TurnVersion,
    TurnVersions,
)
from luna_narrates.timelines.tree import Tree


async def load_tree(session: AsyncSession, story_id: uuid.UUID) -> Tree:
    branches = await repository.story_branches(session, story_id)
    if not branches:  # every story has its Main branch
        raise StoryNotFound(story_id)
    return Tree.of(branches)


def pick(tree: Tree, story_id: uuid.UUID, branch_id: uuid.UUID | None) -> Branch:
    """The named branch, or the active one."""
    if branch_id is None:
        active = next((b for b in tree.branches.values() if b.is_active), None)
        if active is None:
            raise BranchConflict(
                f"Story {story_id} has no active branch; switch to one of its branches."
            )
        return active
    if branch_id not in tree.branches:
        raise BranchNotFound(story_id, branch_id)
    return tree.branches[branch_id]


async def create_branch(
    session: AsyncSession, story_id: uuid.UUID, data: BranchCreate
) -> BranchStats:
    tree = await load_tree(session, story_id)
    source = pick(tree, story_id, data.from_branch_id)
    last = await stories_repository.last_turn_number(session, source.id)
    if data.from_turn_number > last:
        raise InvalidInput(
            f"Branch {source.name!r} has turns 1–{last}; from_turn_number must be between 0 "
            f"and {last}.",
            field="from_turn_number",
        )
    _check_name_free(tree, data.branch_name)
    branch = fork(tree, source, data.from_turn_number, data.branch_name, data.description)
    session.add(branch)
    await session.flush()
    if data.make_active:
        await repository.set_active(session, story_id, branch.id)
    await session.refresh(branch)
    return _stats(branch, (0, None), 0)


def fork(tree: Tree, source: Branch, at: int, name: str, description: str | None) -> Branch:
    """A new, inactive branch whose past is `source`'s turns up to `at`, recorded on the branch
    that owns turn `at`; not stored yet."""
    return Branch(
        id=uuid.uuid4(),
        story_id=source.story_id,
        name=name,
        description=description,
        parent_branch_id=tree.owner_of(source, at).id,
        fork_turn_number=at,
        is_main=False,
        is_active=False,
    )


async def list_branches(session: AsyncSession, story_id: uuid.UUID) -> BranchList:
    tree = await load_tree(session, story_id)
    stats = await repository.own_turn_stats(session, story_id)
    items = [
        _stats(b, stats.get(b.id, (0, None)), len(tree.children.get(b.id, [])))
        for b in reversed(tree.subtree(tree.root))
    ]
    return BranchList(active_branch_id=pick(tree, story_id, None).id, items=items)


async def branch_tree(session: AsyncSession, story_id: uuid.UUID) -> BranchTree:
    listing = await list_branches(session, story_id)
    nodes: dict[uuid.UUID, BranchNode] = {}
    for item in listing.items:  # parents come before their children
        parent = nodes.get(item.parent_branch_id) if item.parent_branch_id else None
        node = BranchNode(
            **item.model_dump(),
            depth=parent.depth + 1 if parent else 0,
            path=[*parent.path, item.name] if parent else [item.name],
            children=[],
        )
        nodes[item.id] = node
        if parent is not None:
            parent.children.append(node)
    root = next(n for n in nodes.values() if n.depth == 0)
    return BranchTree(active_branch_id=listing.active_branch_id, branch_count=len(nodes), root=root)


async def switch_branch(
    session: AsyncSession, story_id: uuid.UUID, branch_id: uuid.UUID
) -> BranchOut:
    tree = await load_tree(session, story_id)
    branch = pick(tree, story_id, branch_id)
    await repository.set_active(session, story_id, branch.id)
    await session.refresh(branch)
    return BranchOut.model_validate(branch)


async def update_branch(
    session: AsyncSession, story_id: uuid.UUID, branch_id: uuid.UUID, data: BranchUpdate
) -> BranchOut:
    tree = await load_tree(session, story_id)
    branch = pick(tree, story_id, branch_id)
    if data.name is not None and data.name.casefold() != branch.name.casefold():
        _check_name_free(tree, data.name)
    for name in data.model_fields_set:
        setattr(branch, name, getattr(data, name))
    await session.flush()
    await session.refresh(branch)
    return BranchOut.model_validate(branch)


async def delete_branch(
    session: AsyncSession, story_id: uuid.UUID, branch_id: uuid.UUID, *, cascade: bool
) -> BranchDeleted:
    """Deletes the branch's own turns only; what it inherited stays where it belongs."""
    tree = await load_tree(session, story_id)
    branch = pick(tree, story_id, branch_id)
    if branch.is_main:
        raise BranchConflict(
            f"{branch.name!r} is where the story begins and cannot be deleted.",
            branch_id=str(branch.id),
        )
    doomed = tree.subtree(branch)
    descendants = [b for b in doomed if b.id != branch.id]
    if descendants and not cascade:
        raise BranchConflict(
            f"Branch {branch.name!r} has {len(descendants)} branch(es) growing from it "
            f"({_names(descendants)}); delete those first, or ask again with cascade=true to "
            "delete them all.",
            branch_id=str(branch.id),
            child_branches=[str(b.id) for b in descendants],
        )
    if active := next((b for b in doomed if b.is_active), None):
        raise BranchConflict(
            f"Branch {active.name!r} is the active branch; switch to another branch first.",
            branch_id=str(active.id),
        )
    await cleanup.release_turns(session, story_id, repository.turns_of([b.id for b in doomed]))
    turns = 0
    for victim in doomed:
        turns += await repository.delete_branch(session, victim.id)
    return BranchDeleted(
        deleted_branches=[BranchRef.model_validate(b) for b in doomed], deleted_turns=turns
    )


async def delete_turns_after(
    session: AsyncSession, story_id: uuid.UUID, after: int, branch_id: uuid.UUID | None = None
) -> TurnsDeleted:
    """Redo from turn `after`: the branch's turns after it go. Before the branch's own fork
    point, the branch simply forks earlier: its parent's turns are the parent's."""
    tree = await load_tree(session, story_id)
    branch = pick(tree, story_id, branch_id)
    last = await stories_repository.last_turn_number(session, branch.id)
    if after >= last:
        return TurnsDeleted(
            branch_id=branch.id,
            deleted_turns=0,
            last_turn_number=last,
            fork_turn_number=branch.fork_turn_number,
        )
    if inheritors := tree.inheritors(branch, after):
        first = min(b.fork_turn_number or 0 for b in inheritors)
        raise HistoryConflict(
            f"Turns {after + 1}–{first} of branch {branch.name!r} are also the past of "
            f"{_names(inheritors)}; nothing was deleted. Delete those branches first, or create "
            f"a branch from turn {after} to take another path.",
            branch_id=str(branch.id),
            inheriting_branches=[str(b.id) for b in inheritors],
        )
    await cleanup.release_turns(session, story_id, repository.turns_of([branch.id], after))
    deleted = await repository.delete_turns_after(session, branch.id, after)
    if branch.fork_turn_number is not None and after < branch.fork_turn_number:
        branch.parent_branch_id = tree.owner_of(branch, after).id
        branch.fork_turn_number = after
    await stories_repository.touch_branch(session, branch.id)
    await session.flush()
    return TurnsDeleted(
        branch_id=branch.id,
        deleted_turns=deleted,
        last_turn_number=after,
        fork_turn_number=branch.fork_turn_number,
    )


@dataclass
class Position:
    """Turn N as a branch tells it: the branch that owns it and its selected version."""

    tree: Tree
    branch: Branch
    owner: Branch
    turn: Turn

    async def settled(self, session: AsyncSession) -> list[str]:
        """What builds on this turn: later turns of its branch, and branches inheriting it."""
        reasons = []
        if await repository.has_turns_after(session, self.owner.id, self.turn.turn_number):
            reasons.append(f"later turns of branch {self.owner.name!r}")
        if inheritors := self.tree.inheritors(self.owner, self.turn.turn_number - 1):
            reasons.append(f"branch(es) {_names(inheritors)}")
        return reasons


async def locate(
    session: AsyncSession, story_id: uuid.UUID, turn_number: int, branch_id: uuid.UUID | None
) -> Position:
    tree = await load_tree(session, story_id)
    branch = pick(tree, story_id, branch_id)
    lineage = await lineage_of(session, branch.id)
    turn = await stories_repository.lineage_turn(session, lineage, turn_number)
    if turn is None:
        raise TurnNotFound(story_id, turn_number, branch.name)
    return Position(tree, branch, tree.branches[turn.branch_id], turn)


async def list_versions(
    session: AsyncSession, story_id: uuid.UUID, turn_number: int, branch_id: uuid.UUID | None
) -> TurnVersions:
    position = await locate(session, story_id, turn_number, branch_id)
    return await _versions(session, position.owner, turn_number)


async def select_version(
    session: AsyncSession,
    story_id: uuid.UUID,
    turn_number: int,
    version: int,
    branch_id: uuid.UUID | None,
    jobs: PostTurnHook,
) -> TurnVersions:
    position = await locate(session, story_id, turn_number, branch_id)
    target = await repository.version(session, position.owner.id, turn_number, version)
    if target is None:
        takes = await repository.versions(session, position.owner.id, turn_number)
        raise NotFound(
            f"Turn {turn_number} has versions 1–{len(takes)}, not {version}.",
            turn_number=turn_number,
            version=version,
        )
    if not target.is_selected:
        if reasons := await position.settled(session):
            raise HistoryConflict(
                f"Turn {turn_number} is built on by {' and '.join(reasons)}, so its selected "
                f"take stays; regenerate it to branch from turn {turn_number - 1} instead.",
                turn_number=turn_number,
            )
        await replace_take(session, position.turn, target, jobs)
    return await _versions(session, position.owner, turn_number)


async def edit_turn(
    session: AsyncSession,
    story_id: uuid.UUID,
    turn_number: int,
    data: TurnEdit,
    branch_id: uuid.UUID | None,
    jobs: PostTurnHook,
) -> TurnOut:
    """The player's own take: a new version, selected, with the old one kept. Allowed on any
    turn (it corrects the story rather than taking another path); memory is rebuilt for it."""
    position = await locate(session, story_id, turn_number, branch_id)
    current = position.turn
    action = data.user_action or current.user_action
    text = data.narrative_text or current.narrative_text
    if (action, text) == (current.user_action, current.narrative_text):
        return await stories.get_turn(session, story_id, turn_number, position.branch.id)
    edited = Turn(
        id=uuid.uuid4(),
        story_id=story_id,
        branch_id=position.owner.id,
        turn_number=turn_number,
        version=await repository.next_version(session, position.owner.id, turn_number),
        is_selected=True,
        user_action=action,
        narrative_text=text,
        briefing=current.briefing,
        plan=current.plan,
        total_cost_usd=Decimal(0),
        total_execution_time_seconds=0.0,
        origin="edited",
    )
    await replace_take(session, current, edited, jobs)
    return await stories.get_turn(session, story_id, turn_number, position.branch.id)


async def replace_take(session: AsyncSession, old: Turn, new: Turn, jobs: PostTurnHook) -> None:
    """Makes `new` (a stored take, or one to store) the selected version in place of `old`,
    and moves memory to it: the old take's rows retire, the new take's jobs are deferred."""
    await memory.lock_story_memory(session, new.story_id)  # before any memory job sees either
    await repository.deselect(session, old.id)  # first: one selected take per turn, row by row
    new.is_selected = True
    session.add(new)
    await session.flush()
    await stories_repository.touch_story(session, new.story_id)
    await stories_repository.touch_branch(session, new.branch_id)
    arcs = await memory.retire_version(session, old.id, new.id)
    await jobs(session, new.story_id, new.id, arcs)


async def _versions(session: AsyncSession, owner: Branch, turn_number: int) -> TurnVersions:
    takes = await repository.versions(session, owner.id, turn_number)
    return TurnVersions(
        branch_id=owner.id,
        turn_number=turn_number,
        selected_version=next(t.version for t in takes if t.is_selected),
        items=[TurnVersion.model_validate(t) for t in takes],
    )


def _stats(branch: Branch, own: tuple[int, int | None], children: int) -> BranchStats:
    count, last = own
    return BranchStats(
        **BranchOut.model_validate(branch).model_dump(),
        turn_count=last if last is not None else (branch.fork_turn_number or 0),
        own_turns=count,
        child_count=children,
    )


def _check_name_free(tree: Tree, name: str) -> None:
    if any(b.name.casefold() == name.casefold() for b in tree.branches.values()):
        raise BranchConflict(f"This story already has a branch named {name!r}.", name=name)


def unique_name(tree: Tree, wanted: str) -> str:
    taken = {b.name.casefold() for b in tree.branches.values()}
    name, n = wanted, 2
    while name.casefold() in taken:
        name, n = f"{wanted} ({n})", n + 1
    return name


def _names(branches: list[Branch]) -> str:
    return ", ".join(repr(b.name) for b in branches)
