"""Loads a long synthetic story straight into the memory tables, for latency measurements.

The rows are the ones the memory jobs would write (the same ledger planner, the same passage
chunks); only the embeddings are precomputed stand-ins (seeded random unit vectors), because
embedding 10,000 turns would take the benchmark's whole budget. Random vectors are the hard
case for an HNSW index, so the latency is, if anything, pessimistic.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.bench.campaign import Campaign
from luna_narrates.db.tables import (
    LOCAL_OWNER_ID,
    Base,
    CharacterEvolutionSnapshot,
    Entity,
    EntityAlias,
    Fact,
    MemoryChunk,
    Relationship,
    Turn,
    TurnSummary,
)
from luna_narrates.llm.embeddings import DIMENSIONS, EMBEDDER_NAME
from luna_narrates.memory import ledger
from luna_narrates.memory.ledger import NameBook, TurnRef
from luna_narrates.memory.text import actor, passage_documents
from luna_narrates.services import Services
from luna_narrates.stories import service as stories
from luna_narrates.stories.schemas import StoryCreate, StoryOut

BATCH = 2_000


def unit_vectors(rng: np.random.Generator, n: int) -> list[list[float]]:
    vectors = rng.standard_normal((n, DIMENSIONS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [v.tolist() for v in vectors]


def row(obj: Base) -> dict[str, Any]:
    columns = type(obj).__table__.columns
    return {
        c.key: getattr(obj, c.key)
        for c in columns
        if getattr(obj, c.key, None) is not None and not c.computed
    }


async def insert_rows(session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await session.execute(insert(table), rows[start : start + BATCH])


async def analyze(services: Services) -> None:
    """What autovacuum does for a database that grew turn by turn: fresh planner statistics.
    Right after a bulk load the planner would still think the story is small."""
    async with services.db.transaction() as session:
        for table in ("turns", "memory_chunks", "facts", "entity_aliases", "relationships"):
            await session.execute(text(f"ANALYZE {table}"))


async def create_story(services: Services, campaign: Campaign) -> StoryOut:
    async with services.db.transaction() as session:
        return await stories.create_story(
            session, StoryCreate(**campaign.frame.model_dump(exclude_none=True)), LOCAL_OWNER_ID
        )


async def load_synthetic(
    services: Services, campaign: Campaign
) -> tuple[uuid.UUID, list[list[float]]]:
    """The story's branch id, and one precomputed query vector per probe."""
    rng = np.random.default_rng(len(campaign.turns))
    story = await create_story(services, campaign)
    branch_id = story.active_branch.id
    book = NameBook()
    tables: dict[Any, list[dict[str, Any]]] = {
        t: []
        for t in (
            Turn,
            Entity,
            EntityAlias,
            Fact,
            Relationship,
            CharacterEvolutionSnapshot,
            TurnSummary,
            MemoryChunk,
        )
    }
    documents: list[tuple[TurnRef, str, uuid.UUID | None, str]] = []
    for turn in campaign.turns:
        ref = TurnRef(story.id, branch_id, uuid.uuid4(), turn.turn_number)
        tables[Turn].append(
            {
                "id": ref.turn_id,
                "story_id": story.id,
                "branch_id": branch_id,
                "turn_number": turn.turn_number,
                "user_action": turn.user_action,
                "narrative_text": turn.narrative_text,
                "briefing": {},
                "plan": {},
                "total_cost_usd": Decimal(0),
                "total_execution_time_seconds": 0.0,
                "origin": "imported",
            }
        )
        write = ledger.plan(ref, turn.memory, book)
        tables[Entity] += [row(e) for e in write.entities]
        tables[EntityAlias] += write.aliases
        tables[Fact] += [row(f) for f in write.facts]
        tables[Relationship] += [row(r) for r in write.relationships]
        tables[CharacterEvolutionSnapshot] += [row(s) for s in write.snapshots]
        tables[TurnSummary].append(row(write.summary))
        documents += [(ref, d.kind, d.source_id, d.text) for d in write.documents]
        documents += [
            (ref, "passage", None, text)
            for text in passage_documents(
                turn.turn_number,
                actor(campaign.frame.protagonist),
                turn.user_action,
                turn.narrative_text,
            )
        ]
    vectors = unit_vectors(rng, len(documents))
    tables[MemoryChunk] = [
        {
            "id": uuid.uuid4(),
            "kind": kind,
            "source_id": source,
            "text": text,
            "embedder": f"{EMBEDDER_NAME} (synthetic)",
            "embedding": vector,
            **ref.columns(),
        }
        for (ref, kind, source, text), vector in zip(documents, vectors, strict=True)
    ]
    async with services.db.transaction() as session:
        for table, rows in tables.items():
            await insert_rows(session, table, rows)
    await analyze(services)
    return branch_id, unit_vectors(rng, len(campaign.probes))
