"""The rules a story's rows keep, checked on an archive before it is imported: the database
enforces types and references, but not that branches form one tree, that each lineage is
numbered 1…N with one selected take per turn, or that memory hangs off selected takes."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from typing import Any

from luna_narrates.db.tables import TURN_MEMORY_TABLES

Row = dict[str, Any]


# JSON documents whose shape the code relies on.
JSON_SHAPES = {
    ("turns", "briefing"): dict,
    ("turns", "plan"): dict,
    ("agent_runs", "prompt"): list,
    ("agent_runs", "input"): dict,
}


def problems(tables: dict[str, list[Row]]) -> list[str]:
    """What is wrong, as "where: what" sentences; empty when the story holds together."""
    found = _branches(tables["branches"])
    if not found:
        found = _turns(tables["branches"], tables["turns"])
    found += _memory(tables)
    found += _shapes(tables)
    return found


def _branches(branches: list[Row]) -> list[str]:
    roots = [b for b in branches if b.get("parent_branch_id") is None]
    if len(roots) != 1 or not roots[0].get("is_main"):
        return ["branches: a story has exactly one Main branch, the only one without a parent."]
    if roots[0].get("fork_turn_number") is not None:
        return ["branches: Main starts the story; its fork_turn_number must be null."]
    if sum(bool(b.get("is_main")) for b in branches) != 1:
        return ["branches: only Main may be marked is_main."]
    if sum(bool(b.get("is_active")) for b in branches) != 1:
        return ["branches: exactly one branch is the active one."]
    by_id = {b["id"]: b for b in branches}
    for index, branch in enumerate(branches):
        seen: set[uuid.UUID] = set()
        current = branch
        while current.get("parent_branch_id") is not None:
            if current["id"] in seen:
                return [f"branches[{index}]: its parents go round in a circle."]
            seen.add(current["id"])
            current = by_id[current["parent_branch_id"]]
        fork = branch.get("fork_turn_number")
        if branch is not roots[0] and (fork is None or fork < 0):
            return [f"branches[{index}].fork_turn_number: a fork needs a turn number ≥ 0."]
    return []


def _turns(branches: list[Row], turns: list[Row]) -> list[str]:
    selected = Counter((t["branch_id"], t["turn_number"]) for t in turns if t.get("is_selected"))
    for index, turn in enumerate(turns):
        if selected[(turn["branch_id"], turn["turn_number"])] != 1:
            return [f"turns[{index}]: turn {turn['turn_number']} needs exactly one selected take."]
    own: dict[uuid.UUID, list[int]] = defaultdict(list)
    for branch_id, number in selected:
        own[branch_id].append(number)
    by_id = {b["id"]: b for b in branches}
    last: dict[uuid.UUID, int] = {}
    for index, branch in enumerate(branches):
        fork = branch.get("fork_turn_number") or 0
        numbers = sorted(own[branch["id"]])
        if numbers != list(range(fork + 1, fork + 1 + len(numbers))):
            return [
                f"branches[{index}]: its own turns must be numbered from {fork + 1} on without "
                f"gaps, not {numbers[:5]}…"
            ]
        last[branch["id"]] = numbers[-1] if numbers else fork
    for index, branch in enumerate(branches):
        parent = by_id.get(branch.get("parent_branch_id"))
        if parent is None:
            continue
        fork = branch.get("fork_turn_number") or 0
        # The parent's own turns, or for Main also turn 0 (a fork before the first turn).
        first = (parent.get("fork_turn_number") or 0) + 1 if parent.get("parent_branch_id") else 0
        if not first <= fork <= last[parent["id"]]:
            return [
                f"branches[{index}].fork_turn_number: {fork} is not one of its parent's own "
                "turns (a fork is recorded on the branch that wrote the turn it forks from)."
            ]
    return []


def _memory(tables: dict[str, list[Row]]) -> list[str]:
    turns = {t["id"]: t for t in tables["turns"]}
    for name in TURN_MEMORY_TABLES:
        for index, row in enumerate(tables[name]):
            turn = turns.get(row["turn_id"])
            if turn is None or not turn.get("is_selected"):
                return [f"{name}[{index}]: memory belongs to a selected take of a turn."]
            if (row["branch_id"], row["turn_number"]) != (turn["branch_id"], turn["turn_number"]):
                return [f"{name}[{index}]: its branch and turn number are not its turn's."]
    return []


def _shapes(tables: dict[str, list[Row]]) -> list[str]:
    for (name, column), shape in JSON_SHAPES.items():
        for index, row in enumerate(tables[name]):
            if column in row and not isinstance(row[column], shape):
                kind = "an object" if shape is dict else "an array"
                return [f"{name}[{index}].{column}: must be {kind}."]
    return []
