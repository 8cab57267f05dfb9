"""A lorebook made from a story: its characters, locations, items and factions with what is
true of them now, and its arcs as events. The extraction is the one the story's memory already
holds: after every turn the Preprocessor's model writes down who and what the turn mentions and
what changed, and every few turns it sums up the arc. So the book costs no new model call and
says what the story itself remembers, on the branch asked for."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.lineage import lineage_of
from luna_narrates.db.tables import Lorebook
from luna_narrates.formats import world_info
from luna_narrates.formats.world_info import checked_entry
from luna_narrates.lore import service
from luna_narrates.lore.schemas import ExtractRequest
from luna_narrates.memory import repository as memory_repository
from luna_narrates.memory import service as memory
from luna_narrates.memory.schemas import EntityOut
from luna_narrates.memory.text import fact_text
from luna_narrates.stories import service as stories

MAX_ARCS = 1_000


async def extract(session: AsyncSession, data: ExtractRequest, owner_id: uuid.UUID) -> Lorebook:
    story = await stories.require_story(session, data.story_id)
    branch = await stories.resolve_branch(session, data.story_id, data.branch_id)
    lineage = await lineage_of(session, branch.id)
    entries: list[dict[str, Any]] = []
    kinds = set(data.entity_types)
    entities = [e for e in await memory.world(session, lineage) if e.kind in kinds]
    names = {e.id: e.name for e in entities}
    for entity in sorted(entities, key=lambda e: (e.first_turn, e.name)):
        entries.append(_entity_entry(len(entries), entity, names))
    if "event" in kinds:
        arcs = await memory_repository.latest_arcs(session, lineage, MAX_ARCS)
        for arc in sorted(arcs, key=lambda a: a["turn_number"]):
            entries.append(_arc_entry(len(entries), arc, [e.name for e in entities]))
    book = world_info.Lorebook(
        entries,
        name=data.name or f"{story.title}: what the story remembers",
        description=f"Made from the memory of {story.title!r} on the branch {branch.name!r}.",
        source="sillytavern",
    )
    return await service.store(
        session,
        book,
        owner_id,
        universe_name=data.universe_name or story.title,
        tier=data.storage_tier,
    )


def _entity_entry(uid: int, entity: EntityOut, names: dict[uuid.UUID, str]) -> dict[str, Any]:
    lines = [entity.description] if entity.description else []
    lines += [fact_text(entity.name, f.key, f.value) + "." for f in entity.facts]
    for link in entity.relationships:
        other = link.target if link.source.id == entity.id else link.source
        lines.append(f"{entity.name} and {names.get(other.id, other.name)}: {link.disposition}.")
    return _entry(
        uid,
        [entity.name, *entity.aliases],
        entity.name,
        " ".join(lines) or f"{entity.name}, first met on turn {entity.first_turn}.",
        entity.kind,
        entity.first_turn,
    )


def _arc_entry(uid: int, arc: Any, known: Sequence[str]) -> dict[str, Any]:
    summary = str(arc["summary"])
    keys = [arc["title"], *(name for name in known if name.lower() in summary.lower())]
    turns = f"turns {arc['first_turn']}-{arc['turn_number']}"
    return _entry(uid, keys[:6], arc["title"], f"{summary} ({turns})", "event", arc["turn_number"])


def _entry(
    uid: int, keys: list[str], title: str, content: str, kind: str, turn: int
) -> dict[str, Any]:
    return checked_entry(
        {
            "uid": uid,
            "key": list(dict.fromkeys(keys)),
            "comment": title,
            "content": content,
            "selective": False,
            "extensions": {"luna": {"kind": kind, "since_turn": turn}},
        },
        "extracted",
    )
