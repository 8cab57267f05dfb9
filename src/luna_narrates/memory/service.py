"""Memory as the rest of the product asks for it: a briefing, a search, the world's state."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.agents.preprocessor.agent import memory_budget, scene_budget
from luna_narrates.db.lineage import Lineage
from luna_narrates.memory import repository
from luna_narrates.memory.errors import EntityNotFound
from luna_narrates.memory.ledger import NameBook
from luna_narrates.memory.packing import Candidate, pack
from luna_narrates.memory.retrieval import Ledger, Query, gather, hybrid_search, read_ledger
from luna_narrates.memory.schemas import (
    BriefingEntry,
    ChangeOut,
    EntityHistory,
    EntityOut,
    EntityRef,
    FactOut,
    MemoryBriefing,
    RelationshipOut,
    SearchHit,
    SearchResults,
)


async def name_book(session: AsyncSession, lineage: Lineage) -> NameBook:
    return NameBook.from_rows(await repository.names(session, lineage))


async def briefing(
    session: AsyncSession,
    lineage: Lineage,
    query: Query,
    token_budget: int,
    count_tokens: Callable[[str], int],
    extra: Sequence[Candidate] = (),
) -> MemoryBriefing:
    """The memory part of the briefing for this action, packed into what the scene reading
    leaves of the budget (agents/preprocessor/agent.py decides the split). `extra` are
    candidates from outside the story's memory (lore, the cast's cards) competing for it."""
    book = await name_book(session, lineage)
    candidates = [*await gather(session, lineage, query, book), *extra]
    packed = pack(candidates, memory_budget(token_budget), count_tokens)
    items = [
        BriefingEntry(**c.item.model_dump(), score=c.score, reason=c.reason) for c in packed.items
    ]
    text = "\n".join(c.item.line() for c in packed.items)
    return MemoryBriefing(
        action=query.action,
        token_budget=token_budget,
        scene_reserve_tokens=scene_budget(token_budget),
        tokens=count_tokens(text) if text else 0,
        candidates=packed.considered,
        items=items,
    )


async def search(
    session: AsyncSession, lineage: Lineage, q: str, vector: Sequence[float], k: int
) -> SearchResults:
    fused = (await hybrid_search(session, lineage, q, vector, k))[:k]
    fact_ids = [row["source_id"] for _, row in fused if row["kind"] == "fact"]
    subjects = {row["entity_id"] for row in await repository.facts_by_id(session, fact_ids)}
    ended = {
        fact["id"]: fact["ended_turn"]
        for fact in await repository.fact_history(session, lineage, sorted(subjects))
    }
    return SearchResults(
        query=q,
        hits=[
            SearchHit(
                kind=row["kind"],
                text=row["text"],
                score=round(score, 6),
                turn_number=row["turn_number"],
                source_id=row["source_id"],
                superseded_at_turn=ended.get(row["source_id"]) if row["kind"] == "fact" else None,
            )
            for score, row in fused
        ],
    )


def _entity(ledger: Ledger, entity_id: uuid.UUID, current_only: bool) -> EntityOut:
    card = ledger.book.cards[entity_id]
    name = ledger.name(entity_id)

    def ref(other: uuid.UUID) -> EntityRef:
        return EntityRef(id=other, name=ledger.name(other))

    facts = [
        FactOut(
            id=f["id"],
            key=f["key"],
            value=f["value"],
            since_turn=f["turn_number"],
            until_turn=f["ended_turn"],
        )
        for f in ledger.facts.get(entity_id, [])
        if not (current_only and f["ended_turn"] is not None)
    ]
    links = [
        RelationshipOut(
            id=r["id"],
            source=ref(r["source_entity_id"]),
            target=ref(r["target_entity_id"]),
            disposition=r["disposition"],
            score=r["score"],
            since_turn=r["turn_number"],
            until_turn=r["ended_turn"],
        )
        for r in ledger.relationships
        if entity_id in (r["source_entity_id"], r["target_entity_id"])
        and not (current_only and r["ended_turn"] is not None)
    ]
    return EntityOut(
        id=entity_id,
        kind=card.kind,
        name=name,
        aliases=[a for a in card.aliases if a != name],
        description=card.description,
        first_turn=card.first_turn,
        facts=facts,
        relationships=links,
    )


async def world(
    session: AsyncSession, lineage: Lineage, latest: int | None = None
) -> list[EntityOut]:
    """Every entity on the lineage with its current facts and relationships; with `latest`,
    the entities the story met or changed most recently, that many, newest first."""
    ids = await repository.entity_ids(session, lineage, latest)
    ledger = await read_ledger(session, lineage, set(ids), await name_book(session, lineage))
    return [_entity(ledger, entity_id, current_only=True) for entity_id in ids]


async def entity_history(session: AsyncSession, lineage: Lineage, ref: str) -> EntityHistory:
    """An entity by id or by any of its names, with every fact, relationship and change."""
    book = await name_book(session, lineage)
    entity_id = book.find(ref)
    if entity_id is None:
        try:
            candidate = uuid.UUID(ref)
        except ValueError:
            candidate = None
        if candidate in book.display:
            entity_id = candidate
    if entity_id is None:
        raise EntityNotFound(lineage.story_id, ref)
    ledger = await read_ledger(session, lineage, {entity_id}, book)
    base = _entity(ledger, entity_id, current_only=False)
    changes = [
        ChangeOut(turn_number=c["turn_number"], change=c["change"])
        for c in ledger.changes.get(entity_id, [])
    ]
    return EntityHistory(**base.model_dump(), changes=changes)
