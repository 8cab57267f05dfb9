"""The memory jobs: the Preprocessor's model writes down each turn, and every few turns the
arc; each model call leaves its agent-run and cost rows beside what it produced."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic import BaseModel

from luna_narrates.agents.preprocessor import remember
from luna_narrates.agents.preprocessor.memory_schemas import ArcInput, RememberInput
from luna_narrates.config import ModelRole, Settings
from luna_narrates.costs import pricing
from luna_narrates.db.engine import Database
from luna_narrates.db.tables import AgentRun, Turn
from luna_narrates.dreamer import service as dreams
from luna_narrates.images.pool import ImagePool
from luna_narrates.llm.calls import AgentModel, ModelCall
from luna_narrates.llm.embeddings import Embedder
from luna_narrates.llm.local import BACKGROUND_SLOT
from luna_narrates.llm.registry import ModelRegistry
from luna_narrates.memory import tasks
from luna_narrates.memory.ledger import TurnRef
from luna_narrates.narration.records import agent_run_row, price_call
from luna_narrates.settings.service import SettingsStore

# Its own llama.cpp context on the embedded model, so background work never evicts the
# prompt prefixes the turn's agents keep in theirs, and steps aside while a turn's call runs.
MEMORY_SLOT = BACKGROUND_SLOT
REMEMBER_POSITION = 10
ARC_POSITION = 11


@dataclass
class WorkerContext:
    """What tasks need; handed to the worker, never read from globals."""

    db: Database
    embedder: Embedder
    registry: ModelRegistry
    settings: Settings
    store: SettingsStore
    pool: ImagePool

    def memory_model(self, role: ModelRole, override: str | None = None) -> AgentModel:
        """The role's chain; `override` (a turn's) replaces the role's own model."""
        return AgentModel.for_role(self.registry, role, MEMORY_SLOT, override)


async def run_row(
    worker: WorkerContext,
    stage: str,
    position: int,
    record: ModelCall,
    data: BaseModel,
    ref: TurnRef,
) -> AgentRun:
    """The call's rows, priced as it ended (the prices read in a short session of their own)."""
    async with worker.db.sessions() as session:
        prices = await pricing.load(session)
    priced = price_call(record, prices)
    inputs = data.model_dump(mode="json")
    return agent_run_row(position, record, inputs, priced, ref.story_id, ref.turn_id, stage)


async def remember_turn(
    worker: WorkerContext, turn_id: uuid.UUID, model: str | None = None
) -> bool:
    """Summary, entities, facts, relationships and changes of one turn, and the Dreamer's
    ideas the turn used. True when an arc summary is due after it."""
    context = await tasks.read_turn(worker.db, turn_id, names=True)
    if context is None:
        return False
    data = RememberInput(
        story=context.frame,
        turn=context.turn,
        known_entities=list(dict.fromkeys(context.book.display.values())),
    )
    memory, record = await remember.remember(data, worker.memory_model("extractor", model))
    async with worker.db.sessions() as session:
        turn = await session.get(Turn, turn_id)
        used = await dreams.used_by(session, turn) if turn is not None else []
    memory = dreams.into_memory(memory, [idea for idea, _ in used])
    run = await run_row(worker, "remember", REMEMBER_POSITION, record, data, context.ref)
    if not await tasks.write_memory(worker.db, worker.embedder, context, memory, [run]):
        return False
    return tasks.arc_is_due(context.ref.turn_number, worker.settings.arc_length_turns)


async def summarize_arc(
    worker: WorkerContext, turn_id: uuid.UUID, model: str | None = None
) -> uuid.UUID | None:
    context = await tasks.read_arc(worker.db, turn_id, worker.settings.arc_length_turns)
    if context is None:
        return None
    data = ArcInput(
        story=context.turn.frame,
        first_turn=context.first_turn,
        last_turn=context.turn.ref.turn_number,
        turn_summaries=context.summaries,
    )
    arc, record = await remember.summarize_arc(data, worker.memory_model("summariser", model))
    run = await run_row(worker, "arc", ARC_POSITION, record, data, context.turn.ref)
    return await tasks.write_arc(worker.db, worker.embedder, context, arc, [run])
