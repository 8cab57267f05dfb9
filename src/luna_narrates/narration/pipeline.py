"""Runs one turn: read a short snapshot, run the three agents with no connection held,
then commit the turn, its agent runs, its costs and its post-turn jobs in one transaction.

The turn runs as a task that publishes events to a queue; whoever listens (the JSON route,
the SSE route, the terminal) reads the queue. A listener that goes away cancels the task,
and a cancelled turn has written nothing.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.agents.preprocessor import agent as preprocessor
from luna_narrates.agents.preprocessor.schemas import PreprocessorInput
from luna_narrates.agents.schemas import PastTurn, StoryFrame
from luna_narrates.agents.strategist import agent as strategist
from luna_narrates.agents.strategist.schemas import StrategistInput
from luna_narrates.agents.writer import agent as writer
from luna_narrates.agents.writer.schemas import WriterInput
from luna_narrates.config import AGENTS, AgentName, Settings
from luna_narrates.costs import pricing
from luna_narrates.db.engine import Database
from luna_narrates.db.lineage import lineage_of
from luna_narrates.db.tables import Turn
from luna_narrates.errors import Conflict, LunaError, ProviderError
from luna_narrates.images import cleanup
from luna_narrates.llm.calls import AgentModel, ModelCall
from luna_narrates.llm.embeddings import Embedder
from luna_narrates.llm.registry import ModelRegistry
from luna_narrates.llm.tokens import token_counter
from luna_narrates.memory.schemas import MemoryBriefing
from luna_narrates.narration import imports
from luna_narrates.narration import snapshot as snapshots
from luna_narrates.narration.estimate import estimate
from luna_narrates.narration.locks import StoryLocks
from luna_narrates.narration.records import PricedCall, agent_run_row, price_call
from luna_narrates.narration.schemas import (
    ImportResult,
    RegenerateRequest,
    TurnEvent,
    TurnImport,
    TurnRequest,
    TurnResponse,
)
from luna_narrates.narration.snapshot import Snapshot
from luna_narrates.stories import repository
from luna_narrates.stories import service as stories
from luna_narrates.stories.errors import StoryNotFound
from luna_narrates.stories.jobs import PostTurnHook
from luna_narrates.stories.schemas import BranchRef
from luna_narrates.timelines import repository as timelines_repository
from luna_narrates.timelines import service as timelines

T = TypeVar("T")

FOREIGN_KEY_VIOLATION = "23503"  # the story was deleted while its turn was generated


@dataclass
class TurnDraft:
    """Everything a turn produced before it is committed."""

    snapshot: Snapshot
    user_action: str
    prices: pricing.PriceBook  # read with the snapshot: the turn is priced as it started
    estimate: dict[str, Any]  # the `cost_estimate` event, before any agent ran
    background_models: dict[str, str] = field(default_factory=dict)  # the jobs' overrides
    calls: list[tuple[ModelCall, dict[str, Any], PricedCall]] = field(default_factory=list)
    briefing: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    narrative_text: str = ""


@dataclass
class PreparedTurn:
    request: TurnRequest
    models: dict[AgentName, AgentModel]
    regenerate: int | None = None  # the turn number to write another take of


class Narrator:
    def __init__(
        self,
        db: Database,
        registry: ModelRegistry,
        settings: Settings,
        embedder: Embedder,
        enqueue_post_turn: PostTurnHook,
    ) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings
        self.embedder = embedder
        self.enqueue_post_turn = enqueue_post_turn
        self.locks = StoryLocks(
            db,
            lease=timedelta(seconds=settings.model_timeout_seconds * len(AGENTS) + 60),
            wait_seconds=settings.turn_wait_seconds,
        )

    def resolve_models(self, request: TurnRequest) -> dict[AgentName, AgentModel]:
        """Fails fast (422) on a malformed override before anything runs."""
        overrides = request.overrides()
        for value in overrides.values():
            if value:
                self.registry.spec(value)
        models: dict[AgentName, AgentModel] = {}
        for agent in AGENTS:
            override = overrides[f"{agent}_model_override"]
            try:
                models[agent] = AgentModel.for_role(self.registry, agent, agent, override)
            except ProviderError:
                raise
            except LunaError as error:
                if error.status_code == 422:
                    raise
                spec = override or self.settings.model_for(agent)
                raise ProviderError(
                    f"the {agent} ({spec}) cannot start: {error.message}",
                    agent=agent,
                    model=spec,
                ) from error
        return models

    async def prepare(self, request: TurnRequest) -> PreparedTurn:
        """Everything that can be refused before a turn starts: bad models (422), no story (404).
        The caller has refreshed the settings (every HTTP request does; so does `luna play`)."""
        models = self.resolve_models(request)
        async with self.db.sessions() as session:
            await stories.require_story(session, request.story_id)
        return PreparedTurn(request, models)

    async def prepare_regeneration(
        self, story_id: uuid.UUID, turn_number: int, data: RegenerateRequest
    ) -> PreparedTurn:
        """Another take of turn N, with the same action unless a new one is given."""
        action = data.user_action
        if action is None:
            async with self.db.sessions() as session:
                position = await timelines.locate(session, story_id, turn_number, data.branch_id)
            action = position.turn.user_action
        request = TurnRequest(
            story_id=story_id,
            user_action=action,
            branch_id=data.branch_id,
            **data.overrides(),
        )
        prepared = await self.prepare(request)
        prepared.regenerate = turn_number
        return prepared

    async def held(self, story_id: uuid.UUID, change: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Runs a change to the story's structure in one transaction while the story is held as
        for a turn, so no turn is being written on a branch as it changes; the image files the
        change released go once it committed."""
        async with self.db.sessions() as session:
            await stories.require_story(session, story_id)  # 404 now, not after the lock
        async with self.locks.hold(story_id):
            async with self.db.transaction() as session:
                result = await change(session)
                released = cleanup.doomed(session)
            cleanup.remove(self.settings.luna_data_dir, released)  # only once committed
            return result

    async def import_turns(self, story_id: uuid.UUID, data: TurnImport) -> ImportResult:
        return await imports.import_turns(
            self.db, self.locks, self.enqueue_post_turn, story_id, data
        )

    async def run(self, request: TurnRequest) -> TurnResponse:
        return await self.run_prepared(await self.prepare(request))

    async def run_prepared(self, prepared: PreparedTurn) -> TurnResponse:
        async for event in self.events(prepared):
            if event.type == "done":
                return TurnResponse.model_validate(event.data["turn"])
        raise AssertionError("a turn's event stream ends with done or raises")

    async def events(self, prepared: PreparedTurn) -> AsyncIterator[TurnEvent]:
        """Raises the turn's LunaError after the events that preceded it."""
        queue: asyncio.Queue[TurnEvent | BaseException | None] = asyncio.Queue()
        task = asyncio.create_task(self._turn(prepared, queue))
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if not task.done():
                task.cancel()
            # wait(), unlike gather(), does not cancel the task again if we are cancelled here.
            await asyncio.wait([task])

    async def _turn(
        self, prepared: PreparedTurn, queue: asyncio.Queue[TurnEvent | BaseException | None]
    ) -> None:
        request, models = prepared.request, prepared.models

        async def emit(kind: str, **data: Any) -> None:
            queue.put_nowait(TurnEvent(type=kind, data=data))

        try:
            started = time.perf_counter()
            await emit("status", stage="waiting", message="Waiting for the story to be free.")
            async with self.locks.hold(request.story_id):
                snapshot, prices = await self._snapshot(
                    request, models["strategist"], prepared.regenerate
                )
                await emit("status", stage="planning", message=snapshot.placement.describe())
                expected = estimate(snapshot, models, self.settings, prices)
                await emit("cost_estimate", **expected)
                draft = TurnDraft(
                    snapshot, request.user_action, prices, expected, request.background()
                )
                await self._run_agents(draft, models, emit)
                await emit("status", stage="saving", message="Saving the turn.")
                response = await self._commit(draft, time.perf_counter() - started)
            await emit("done", turn=response.model_dump(mode="json"))
        except BaseException as error:  # handed to the listener, which re-raises it
            queue.put_nowait(error)
            if not isinstance(error, Exception):
                raise
        finally:
            queue.put_nowait(None)

    async def _snapshot(
        self, request: TurnRequest, reader: AgentModel, regenerate: int | None
    ) -> tuple[Snapshot, pricing.PriceBook]:
        """The story, its recent turns and what memory holds for this action, packed for the
        model that reads the briefing (the Strategist), and the prices, in one short read."""
        [vector] = await asyncio.to_thread(self.embedder.embed, [request.user_action])
        async with self.db.sessions() as session:
            story = await stories.require_story(session, request.story_id)
            placement, lineage = await snapshots.place(session, request, regenerate)
            recent, remembered = await snapshots.recall(
                session,
                lineage,
                request.user_action,
                vector,
                window=self.settings.recent_turns_window,
                budget=self.settings.briefing_token_budget,
                count_tokens=reader.count_tokens,
            )
            prices = await pricing.load(session)
        snapshot = Snapshot(
            story_id=story.id,
            placement=placement,
            frame=StoryFrame.model_validate(story, from_attributes=True),
            recent=[PastTurn.model_validate(t, from_attributes=True) for t in recent],
            memory=list(remembered.items),
        )
        return snapshot, prices

    async def preview_briefing(
        self,
        story_id: uuid.UUID,
        action: str,
        budget: int | None = None,
        branch_id: uuid.UUID | None = None,
    ) -> MemoryBriefing:
        """The memory part of the briefing this action would get now; nothing is generated."""
        spec = self.registry.spec(self.settings.model_for("strategist"))
        [vector] = await asyncio.to_thread(self.embedder.embed, [action])
        async with self.db.sessions() as session:
            branch = await stories.resolve_branch(session, story_id, branch_id)
            _, remembered = await snapshots.recall(
                session,
                await lineage_of(session, branch.id),
                action,
                vector,
                window=self.settings.recent_turns_window,
                budget=budget or self.settings.briefing_token_budget,
                count_tokens=token_counter(self.registry, spec),
            )
        return remembered

    async def _run_agents(
        self, draft: TurnDraft, models: dict[AgentName, AgentModel], emit: Any
    ) -> None:
        snapshot = draft.snapshot

        async def started(agent: AgentName) -> None:
            chain = models[agent].chain
            await emit(
                "agent_start",
                agent=agent,
                provider=chain[0].provider,
                model=chain[0].name,
                chain=[str(spec) for spec in chain],
            )

        async def completed(record: ModelCall, agent_input: Any) -> None:
            priced = price_call(record, draft.prices)
            draft.calls.append((record, agent_input.model_dump(mode="json"), priced))
            await emit(
                "agent_complete", **priced.report.model_dump(mode="json"), output=record.output
            )

        await started("preprocessor")
        pre_input = PreprocessorInput(
            story=snapshot.frame,
            recent_turns=snapshot.recent,
            user_action=draft.user_action,
            token_budget=self.settings.briefing_token_budget,
            memory=snapshot.memory,
        )
        briefing, record = await preprocessor.run(
            pre_input, models["preprocessor"], models["strategist"].count_tokens
        )
        draft.briefing = briefing.model_dump(mode="json")
        await completed(record, pre_input)

        await started("strategist")
        strat_input = StrategistInput(
            story=snapshot.frame, briefing=briefing, user_action=draft.user_action
        )
        plan, record = await strategist.run(strat_input, models["strategist"])
        draft.plan = plan.model_dump(mode="json")
        await completed(record, strat_input)

        await started("writer")
        writer_input = WriterInput(
            story=snapshot.frame,
            previous_turn=snapshot.recent[-1] if snapshot.recent else None,
            user_action=draft.user_action,
            plan=plan,
            target_tokens=self.settings.writer_target_tokens,
        )

        async def on_delta(text: str) -> None:
            await emit("token", agent="writer", text=text)

        draft.narrative_text, record = await writer.run(writer_input, models["writer"], on_delta)
        await completed(record, writer_input)

    async def _commit(self, draft: TurnDraft, seconds: float) -> TurnResponse:
        snapshot = draft.snapshot
        placement = snapshot.placement
        reports = [priced.report for _, _, priced in draft.calls]
        total = sum((r.cost_usd for r in reports), Decimal(0))
        turn_id = uuid.uuid4()
        turn = Turn(
            id=turn_id,
            story_id=snapshot.story_id,
            branch_id=placement.branch_id,
            turn_number=placement.turn_number,
            version=placement.version,
            is_selected=True,
            user_action=draft.user_action,
            narrative_text=draft.narrative_text,
            briefing=draft.briefing,
            plan=draft.plan,
            total_cost_usd=total,
            total_execution_time_seconds=seconds,
            agent_runs=[
                agent_run_row(position, record, agent_input, priced, snapshot.story_id, turn_id)
                for position, (record, agent_input, priced) in enumerate(draft.calls)
            ],
        )
        try:
            async with self.db.transaction() as session:
                if placement.new_branch is not None:
                    session.add(placement.new_branch)
                    await session.flush()
                    await timelines_repository.set_active(
                        session, snapshot.story_id, placement.new_branch.id
                    )
                if placement.replaces is not None:
                    await timelines.replace_take(
                        session, placement.replaces, turn, self.enqueue_post_turn
                    )
                else:
                    await repository.add_turn(session, turn)
                    await self.enqueue_post_turn(
                        session,
                        turn.story_id,
                        turn.id,
                        images=self.settings.images_enabled,
                        dreams=self.settings.dreamer_continuous_generation,
                        models=draft.background_models,
                    )
        except IntegrityError as error:
            if getattr(error.orig, "sqlstate", None) == FOREIGN_KEY_VIOLATION:
                raise StoryNotFound(snapshot.story_id) from error
            raise Conflict(
                f"Turn {turn.turn_number} of this story was saved by another request while "
                "this one was being generated; nothing was saved. Try the action again.",
                story_id=str(snapshot.story_id),
            ) from error
        return TurnResponse(
            story_id=snapshot.story_id,
            branch_id=placement.branch_id,
            turn_id=turn.id,
            turn_number=turn.turn_number,
            user_action=turn.user_action,
            narrative_text=turn.narrative_text,
            total_cost_usd=total,
            total_execution_time_seconds=seconds,
            cost_complete=all(r.price_known for r in reports),
            estimated_cost_usd=Decimal(draft.estimate["estimated_cost_usd"]),
            cache_saving_usd=sum((r.cache_saving_usd for r in reports), Decimal(0)),
            agents=reports,
            briefing=draft.briefing,
            plan=draft.plan,
            version=placement.version,
            branch_created=(
                BranchRef.model_validate(placement.new_branch) if placement.new_branch else None
            ),
        )
