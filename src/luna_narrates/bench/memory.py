"""`luna bench memory`: recall of the briefing on a long planted campaign, superseded facts,
compression, and retrieval latency, for LUNA's memory and two baselines run by the same code.

The campaign's turns go through the product's own write path (the passage index job and the
ledger writer); only the extraction model is replaced by the campaign's ground truth, so the
numbers measure retrieval and packing, not a model's extraction quality. Probes are asked
against memory as it stood after their turn (the lineage's `upto`), with the recent turns as
context, exactly as the Preprocessor asks during a turn.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from luna_narrates.agents.preprocessor.agent import memory_budget
from luna_narrates.agents.preprocessor.schemas import BriefingItem, Citation
from luna_narrates.bench.campaign import Campaign, CampaignTurn, Probe, generate
from luna_narrates.bench.memory_load import analyze, create_story, load_synthetic
from luna_narrates.config import Settings
from luna_narrates.db.lineage import lineage_of
from luna_narrates.llm.tokens import token_counter
from luna_narrates.memory import repository, tasks
from luna_narrates.memory import service as memory
from luna_narrates.memory.packing import Candidate, pack
from luna_narrates.memory.retrieval import Query
from luna_narrates.memory.text import recent_context
from luna_narrates.narration.schemas import ImportedTurn, TurnImport
from luna_narrates.services import Services, open_services

Progress = Callable[[str], None]
Count = Callable[[str], int]
SYSTEMS = ("LUNA memory", "recency window", "vector top-k")
RECENT_CONTEXT_TURNS = 3


@dataclass(frozen=True)
class MemoryBenchConfig:
    turns: int = 300
    seed: int = 7
    budgets: tuple[int, ...] = (400, 1_500, 4_000)
    compression_at: tuple[int, ...] = (100, 300)
    latency_sizes: tuple[int, ...] = (100, 1_000, 10_000)
    latency_queries: int = 40
    data_dir: Path = Path("/tmp/luna-bench")

    def settings(self) -> Settings:
        """Embedded database under `data_dir`; the Strategist's tokenizer is the embedded
        model's, which is what counts the briefing in a default install."""
        values: dict[str, object] = {"database_url": None, "luna_data_dir": self.data_dir}
        for agent in ("preprocessor", "strategist", "writer"):
            values[f"{agent}_model"] = "local:smollm2"
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@dataclass
class Score:
    """One system at one budget over all probes."""

    found: int = 0
    needed: int = 0
    stale_shown: int = 0
    stale_probes: int = 0
    tokens: list[int] = field(default_factory=list)
    by_kind: dict[str, list[int]] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.found / self.needed if self.needed else 0.0


@dataclass
class Latency:
    samples_ms: dict[str, list[float]] = field(default_factory=dict)

    def p(self, system: str, quantile: float) -> float:
        values = sorted(self.samples_ms[system])
        return values[min(len(values) - 1, round(quantile * (len(values) - 1)))]


@dataclass
class MemoryBenchResult:
    config: MemoryBenchConfig
    probes: int
    probe_kinds: dict[str, int]
    scores: dict[tuple[str, int], Score]
    compression: dict[int, tuple[int, int]]  # turn → (briefing tokens, full-history tokens)
    latency: dict[int, Latency]
    embed_ms: float
    build_seconds: float


def item_text_is_current(item: BriefingItem) -> str:
    """The part of an item that asserts something as true now: a fact's "(before: …)" tail is
    history and says so."""
    return item.text.split(" (before: ")[0] if item.kind == "fact" else item.text


def score_probe(score: Score, probe: Probe, items: Sequence[BriefingItem], tokens: int) -> None:
    score.tokens.append(tokens)
    for fact in probe.facts:
        found = any(fact.current.found_in(item.text) for item in items)
        score.found += found
        score.needed += 1
        score.by_kind.setdefault(fact.kind, [0, 0])
        score.by_kind[fact.kind][0] += found
        score.by_kind[fact.kind][1] += 1
        if fact.stale is None:
            continue
        score.stale_probes += 1
        stale = [i for i in items if fact.stale.found_in(item_text_is_current(i))]
        structured = any(i.kind in ("fact", "relationship") for i in stale)
        # Raw text that only mentions the old state misleads only when nothing newer is there.
        score.stale_shown += bool(structured or (stale and not found))


def turn_text(turn: CampaignTurn) -> str:
    return f"Player: {turn.user_action} Story: {turn.narrative_text}"


def context_of(campaign: Campaign, upto: int) -> str:
    recent = campaign.turns_up_to(upto)[-RECENT_CONTEXT_TURNS:]
    return recent_context((t.user_action, t.narrative_text) for t in recent)


def recency_items(campaign: Campaign, upto: int, budget: int, count: Count) -> list[BriefingItem]:
    """The newest turns, whole, as many as fit: what a plain chat history would send."""
    candidates = [
        Candidate(
            float(turn.turn_number),
            f"turn:{turn.turn_number}",
            BriefingItem(
                kind="passage", text=turn_text(turn), source=Citation(turn=turn.turn_number)
            ),
            "recency",
        )
        for turn in campaign.turns_up_to(upto)[-40:]
    ]
    return [c.item for c in pack(candidates, budget, count).items]


async def vector_items(
    services: Services,
    branch_id: uuid.UUID,
    upto: int,
    vector: Sequence[float],
    budget: int,
    count: Count,
) -> list[BriefingItem]:
    """Plain vector top-k over the passage chunks, nearest first, as many as fit."""
    async with services.db.sessions() as session:
        lineage = await lineage_of(session, branch_id, upto=upto)
        rows = await repository.vector_search(session, lineage, vector, 40, kinds=("passage",))
    candidates = [
        Candidate(
            -float(row["distance"]),
            f"chunk:{row['id']}",
            BriefingItem(
                kind="passage", text=row["text"], source=Citation(turn=row["turn_number"])
            ),
            "vector",
        )
        for row in rows
    ]
    return [c.item for c in pack(candidates, budget, count).items]


async def luna_items(
    services: Services,
    branch_id: uuid.UUID,
    upto: int,
    query: Query,
    budget: int,
    count: Count,
) -> tuple[list[BriefingItem], int]:
    async with services.db.sessions() as session:
        lineage = await lineage_of(session, branch_id, upto=upto)
        found = await memory.briefing(session, lineage, query, budget, count)
    return list(found.items), found.tokens


async def build_campaign(
    services: Services, campaign: Campaign, progress: Progress
) -> tuple[uuid.UUID, uuid.UUID]:
    """Imports the turns and builds their memory through the product's write path."""
    story = await create_story(services, campaign)
    imported = await services.narrator.import_turns(
        story.id,
        TurnImport(
            turns=[
                ImportedTurn(user_action=t.user_action, narrative_text=t.narrative_text)
                for t in campaign.turns
            ]
        ),
    )
    async with services.db.sessions() as session:
        rows = await repository.turn_ids(session, imported.branch_id)
    for turn in campaign.turns:
        turn_id = rows[turn.turn_number]
        await tasks.index_turn(services.db, services.embedder, turn_id)
        context = await tasks.read_turn(services.db, turn_id, names=True)
        assert context is not None
        await tasks.write_memory(services.db, services.embedder, context, turn.memory)
        if turn.turn_number % 50 == 0:
            progress(f"remembered {turn.turn_number}/{len(campaign.turns)} turns")
    return story.id, imported.branch_id


async def measure_recall(
    services: Services,
    config: MemoryBenchConfig,
    campaign: Campaign,
    branch_id: uuid.UUID,
    count: Count,
    progress: Progress,
) -> tuple[dict[tuple[str, int], Score], float]:
    scores = {(system, b): Score() for system in SYSTEMS for b in config.budgets}
    embed_ms: list[float] = []
    for index, probe in enumerate(campaign.probes, start=1):
        started = time.perf_counter()
        [vector] = await asyncio.to_thread(services.embedder.embed, [probe.action])
        embed_ms.append((time.perf_counter() - started) * 1000)
        query = Query(probe.action, vector, context_of(campaign, probe.after_turn))
        for budget in config.budgets:
            items, tokens = await luna_items(
                services, branch_id, probe.after_turn, query, budget, count
            )
            score_probe(scores[("LUNA memory", budget)], probe, items, tokens)
            # Baselines get the whole budget: LUNA's items get what the scene reading leaves.
            recent = recency_items(campaign, probe.after_turn, budget, count)
            score_probe(scores[("recency window", budget)], probe, recent, budget)
            nearest = await vector_items(
                services, branch_id, probe.after_turn, vector, budget, count
            )
            score_probe(scores[("vector top-k", budget)], probe, nearest, budget)
        if index % 10 == 0:
            progress(f"probed {index}/{len(campaign.probes)}")
    return scores, statistics.median(embed_ms)


async def measure_compression(
    services: Services,
    config: MemoryBenchConfig,
    campaign: Campaign,
    branch_id: uuid.UUID,
    count: Count,
) -> dict[int, tuple[int, int]]:
    """Briefing tokens (memory items plus the scene reading's full reserve, at the default
    budget) against every turn's text up to that point, in the same tokenizer."""
    budget = config.budgets[0]
    result: dict[int, tuple[int, int]] = {}
    for at in config.compression_at:
        if at > len(campaign.turns):
            continue
        history = sum(count(turn_text(t)) for t in campaign.turns_up_to(at))
        actions = [p.action for p in campaign.probes][:20]
        vectors = await asyncio.to_thread(services.embedder.embed, actions)
        sizes = []
        for action, vector in zip(actions, vectors, strict=True):
            query = Query(action, vector, context_of(campaign, at))
            _, tokens = await luna_items(services, branch_id, at, query, budget, count)
            sizes.append(tokens + (budget - memory_budget(budget)))
        result[at] = (int(statistics.median(sizes)), history)
    return result


async def measure_latency(
    services: Services, config: MemoryBenchConfig, count: Count, progress: Progress
) -> dict[int, Latency]:
    result: dict[int, Latency] = {}
    for size in config.latency_sizes:
        started = time.perf_counter()
        campaign = generate(size, seed=config.seed + size)
        branch_id, vectors = await load_synthetic(services, campaign)
        progress(f"loaded a synthetic {size}-turn story in {time.perf_counter() - started:.0f} s")
        # The benchmark's own 10,000-turn campaign in memory would otherwise make the garbage
        # collector pause mid-query and bill its pauses to retrieval.
        gc.collect()
        gc.freeze()
        latency = Latency({system: [] for system in SYSTEMS})
        probes = [p for p in campaign.probes][-config.latency_queries :] or list(campaign.probes)
        for probe, vector in zip(probes, vectors, strict=False):
            query = Query(probe.action, vector, context_of(campaign, size))
            for system in SYSTEMS:
                started = time.perf_counter()
                if system == "LUNA memory":
                    await luna_items(services, branch_id, size, query, config.budgets[0], count)
                elif system == "vector top-k":
                    await vector_items(services, branch_id, size, vector, config.budgets[0], count)
                else:
                    async with services.db.sessions() as session:
                        await repository.turns_to_show(
                            session, await lineage_of(session, branch_id)
                        )
                    recency_items(campaign, size, config.budgets[0], count)
                latency.samples_ms[system].append((time.perf_counter() - started) * 1000)
        result[size] = latency
    return result


async def run_memory_bench_async(
    config: MemoryBenchConfig, progress: Progress
) -> MemoryBenchResult:
    settings = config.settings()
    async with open_services(settings, run_worker=False) as services:
        spec = services.registry.spec(settings.model_for("strategist"))
        count = token_counter(services.registry, spec)
        campaign = generate(config.turns, seed=config.seed)
        started = time.perf_counter()
        _, branch_id = await build_campaign(services, campaign, progress)
        await analyze(services)
        build_seconds = time.perf_counter() - started
        progress(f"built memory for {config.turns} turns in {build_seconds:.0f} s")
        scores, embed_ms = await measure_recall(
            services, config, campaign, branch_id, count, progress
        )
        compression = await measure_compression(services, config, campaign, branch_id, count)
        latency = await measure_latency(services, config, count, progress)
    kinds: dict[str, int] = {}
    for probe in campaign.probes:
        for fact in probe.facts:
            kinds[fact.kind] = kinds.get(fact.kind, 0) + 1
    return MemoryBenchResult(
        config=config,
        probes=len(campaign.probes),
        probe_kinds=kinds,
        scores=scores,
        compression=compression,
        latency=latency,
        embed_ms=embed_ms,
        build_seconds=build_seconds,
    )


def run_memory_bench(config: MemoryBenchConfig, progress: Progress) -> MemoryBenchResult:
    return asyncio.run(run_memory_bench_async(config, progress))
