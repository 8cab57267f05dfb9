"""Post-turn memory work, run by the job worker after the turn commits.

Each job reads in a short session, computes (embeddings, and in jobs/ the model call) with no
connection held, then writes in one transaction that first removes what an earlier run of the
same job wrote: running a job twice leaves its rows once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.agents.preprocessor.memory_schemas import ArcSummary, TurnMemory
from luna_narrates.agents.schemas import PastTurn, StoryFrame
from luna_narrates.db.engine import Database
from luna_narrates.db.lineage import Lineage, lineage_of
from luna_narrates.db.tables import Base, MemoryChunk, Story, StoryArc, Turn, story_arc_turns
from luna_narrates.llm.embeddings import Embedder
from luna_narrates.memory import ledger, repository
from luna_narrates.memory.errors import StaleMemory
from luna_narrates.memory.ledger import Document, NameBook, TurnRef
from luna_narrates.memory.text import actor, passage_documents

# What a re-run of the memory job replaces; entities, their names and their documents stay
# (later turns may refer to them, and a re-run finds them again instead of re-creating them).
LEDGER_KINDS = ("summary", "fact", "relationship")


@dataclass
class TurnContext:
    """A committed turn as the memory jobs need it."""

    ref: TurnRef
    frame: StoryFrame
    turn: PastTurn
    lineage: Lineage
    book: NameBook


async def read_turn(db: Database, turn_id: uuid.UUID, *, names: bool = False) -> TurnContext | None:
    """None when the turn was deleted, or another version of it selected, before its job ran:
    there is nothing to remember.
    `names` reads the lineage's names too, which only the ledger writer needs."""
    async with db.sessions() as session:
        turn = await session.get(Turn, turn_id)
        if turn is None or not turn.is_selected:
            return None
        story = await session.get(Story, turn.story_id)
        assert story is not None  # a turn's story is deleted with it
        lineage = await lineage_of(session, turn.branch_id, upto=turn.turn_number)
        book = NameBook.from_rows(await repository.names(session, lineage) if names else [])
    return TurnContext(
        ref=TurnRef(turn.story_id, turn.branch_id, turn.id, turn.turn_number),
        frame=StoryFrame.model_validate(story, from_attributes=True),
        turn=PastTurn.model_validate(turn, from_attributes=True),
        lineage=lineage,
        book=book,
    )


def chunk_rows(
    ref: TurnRef, documents: Sequence[Document], vectors: list[list[float]], embedder: Embedder
) -> list[MemoryChunk]:
    return [
        MemoryChunk(
            kind=document.kind,
            source_id=document.source_id,
            text=document.text,
            embedder=embedder.name,
            embedding=vector,
            **ref.columns(),
        )
        for document, vector in zip(documents, vectors, strict=True)
    ]


async def embedded_rows(
    ref: TurnRef, documents: Sequence[Document], embedder: Embedder
) -> list[MemoryChunk]:
    """Embeds off the event loop, with no connection held."""
    vectors = await asyncio.to_thread(embedder.embed, [d.text for d in documents])
    return chunk_rows(ref, documents, vectors, embedder)


async def index_turn(db: Database, embedder: Embedder, turn_id: uuid.UUID) -> bool:
    """Indexes the passage in chunks, each headed by who acted and when. False when the turn
    no longer exists."""
    context = await read_turn(db, turn_id)
    if context is None:
        return False
    turn = context.turn
    documents = [
        Document("passage", None, text)
        for text in passage_documents(
            turn.turn_number,
            actor(context.frame.protagonist),
            turn.user_action,
            turn.narrative_text,
        )
    ]
    rows = await embedded_rows(context.ref, documents, embedder)
    async with db.transaction() as session:
        if not await repository.hold_current_turn(session, context.ref.story_id, turn_id):
            return False
        await repository.forget_passages(session, turn_id)
        session.add_all(rows)
    return True


async def write_memory(
    db: Database,
    embedder: Embedder,
    context: TurnContext,
    memory: TurnMemory,
    records: Sequence[Base] = (),
) -> bool:
    """Stores one turn's memory (and the model-call rows that produced it) in one transaction.
    False when the turn went or stopped being the selected version while the model ran."""
    write = ledger.plan(context.ref, memory, context.book)
    chunks = await embedded_rows(context.ref, write.documents, embedder)
    async with db.transaction() as session:
        if not await repository.hold_current_turn(
            session, context.ref.story_id, context.ref.turn_id
        ):
            return False
        if not await repository.entities_exist(session, write.existing_entity_ids()):
            raise StaleMemory(
                f"Turn {context.ref.turn_number}'s memory names an entity that another take's "
                "change removed meanwhile; the job runs again with what memory holds now."
            )
        await repository.forget_turn(session, context.ref.turn_id, LEDGER_KINDS)
        session.add_all(write.entities)
        await session.flush()
        await repository.add_aliases(session, write.aliases)
        session.add_all([*write.facts, *write.relationships, *write.snapshots, write.summary])
        session.add_all(chunks)
        session.add_all(records)
    return True


@dataclass
class ArcContext:
    turn: TurnContext
    first_turn: int
    turn_ids: list[uuid.UUID]
    summaries: list[str]


def arc_is_due(turn_number: int, arc_length: int) -> bool:
    return turn_number % arc_length == 0


async def read_arc(db: Database, turn_id: uuid.UUID, arc_length: int) -> ArcContext | None:
    """The run of turns ending at this one, each as its summary (its raw start if the summary
    is not written yet)."""
    context = await read_turn(db, turn_id)
    if context is None:
        return None
    last = context.ref.turn_number
    first = max(1, last - arc_length + 1)
    async with db.sessions() as session:
        rows = await repository.summaries(session, context.lineage, first, last)
    return ArcContext(
        turn=context,
        first_turn=first,
        turn_ids=[row["id"] for row in rows],
        summaries=[
            f"Turn {row['turn_number']}: "
            + (row["summary"] or f"{row['user_action']} {row['narrative_text'][:200]}")
            for row in rows
        ],
    )


async def write_arc(
    db: Database,
    embedder: Embedder,
    context: ArcContext,
    arc: ArcSummary,
    records: Sequence[Base] = (),
) -> uuid.UUID | None:
    """None when the arc's last turn went or was replaced by another version meanwhile (its
    own memory job sums the arc up again); StaleMemory when another turn of the arc was."""
    ref = context.turn.ref
    arc_id = uuid.uuid4()
    chunks = await embedded_rows(
        ref, [Document("arc", arc_id, f"{arc.title}: {arc.summary}")], embedder
    )
    async with db.transaction() as session:
        if not await repository.hold_current_turn(session, ref.story_id, ref.turn_id):
            return None
        if not await repository.all_selected(session, context.turn_ids):
            raise StaleMemory(
                f"A turn of the arc ending at turn {ref.turn_number} got another take while it "
                "was summed up; the job runs again on the turns the story tells now."
            )
        await _forget_arc(session, ref, context.first_turn)
        row = StoryArc(
            id=arc_id,
            first_turn=context.first_turn,
            title=arc.title,
            summary=arc.summary,
            **ref.columns(),
        )
        session.add(row)
        await session.flush()
        await session.execute(
            story_arc_turns.insert(), [{"arc_id": row.id, "turn_id": t} for t in context.turn_ids]
        )
        session.add_all([*chunks, *records])
    return row.id


async def _forget_arc(session: AsyncSession, ref: TurnRef, first_turn: int) -> None:
    old = await session.scalar(
        select(StoryArc.id).where(
            StoryArc.branch_id == ref.branch_id,
            StoryArc.first_turn == first_turn,
            StoryArc.turn_number == ref.turn_number,
        )
    )
    if old is not None:
        await session.execute(delete(MemoryChunk).where(MemoryChunk.source_id == old))
        await session.execute(delete(StoryArc).where(StoryArc.id == old))
