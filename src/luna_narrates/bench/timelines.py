"""`luna bench timelines`: how fast the timeline read endpoints answer on a long lineage and on
a wide tree of branches, through the real app on the embedded database.

Requests go through FastAPI in-process (routing, validation, SQL, serialisation; no network),
one after another. Every answer is checked while it is timed, so a fast wrong answer cannot
pass for a result.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from luna_narrates.app import create_app
from luna_narrates.bench.campaign import generate
from luna_narrates.bench.summary import median, p95
from luna_narrates.bench.timelines_load import (
    LoadedStory,
    PlannedBranch,
    load_stories,
    plan_chain,
    plan_tree,
)
from luna_narrates.bench.turn import BenchError
from luna_narrates.config import AGENTS, Settings
from luna_narrates.errors import ConfigurationError
from luna_narrates.services import open_services

Progress = Callable[[str], None]
Check = Callable[[Any], None]
PAGE = 100  # the API's largest page
CAMPAIGN_TURNS = 500  # distinct passages; longer stories reuse them in turn


@dataclass(frozen=True)
class TimelinesBenchConfig:
    turns: int = 10_000
    branches: int = 200
    depth: int = 5
    repeats: int = 50
    runs: int = 3
    warmup: int = 5
    seed: int = 7
    data_dir: Path = Path("/tmp/luna-bench")

    def settings(self) -> Settings:
        return offline_settings(self.data_dir)


def offline_settings(data_dir: Path) -> Settings:
    """Embedded database under `data_dir`; no agent runs, so every model is `test`."""
    values: dict[str, object] = {"database_url": None, "luna_data_dir": data_dir}
    for agent in AGENTS:
        values[f"{agent}_model"] = "test"
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RunStats:
    """One run of one case, in milliseconds."""

    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> RunStats:
        return cls(median(samples_ms), p95(samples_ms), max(samples_ms))


@dataclass(frozen=True)
class Request:
    path: str
    params: dict[str, str | int]
    check: Check


@dataclass
class CaseResult:
    name: str
    detail: str
    runs: list[RunStats] = field(default_factory=list)
    response_bytes: list[int] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(r.p50 for r in self.runs)

    @property
    def p95(self) -> float:
        return statistics.median(r.p95 for r in self.runs)

    @property
    def max(self) -> float:
        return max(r.max for r in self.runs)

    @property
    def kilobytes(self) -> float:
        return statistics.median(self.response_bytes) / 1024


@dataclass(frozen=True)
class Case:
    name: str
    detail: str
    next_request: Callable[[], Request]


@dataclass(frozen=True)
class TimelinesBenchResult:
    config: TimelinesBenchConfig
    tree_depth: int
    tree_turns: int
    load_seconds: float
    cases: list[CaseResult]
    checked: int  # answers found correct; every timed and warm-up request is checked


def fail(case: str, problem: str) -> BenchError:
    return BenchError(f"{case}: {problem}")


def page_check(story: LoadedStory, first: int) -> Check:
    """Turns first…first+99 in order, each from the branch that owns it, with its forks."""
    total = story.plan[-1].last
    forks = {
        (story.branch_ids[b.parent], b.fork): [str(story.branch_ids[b.index])]
        for b in story.plan
        if b.parent is not None
    }

    def check(body: Any) -> None:
        items = body["items"]
        numbers = [t["turn_number"] for t in items]
        if numbers != list(range(first, min(first + PAGE - 1, total) + 1)):
            raise fail(f"page from {first}", f"turns {numbers[:3]}…{numbers[-3:]}")
        if body["total"] != total:
            raise fail(f"page from {first}", f"total {body['total']}, not {total}")
        for turn in items:
            owner = story.owner_of(turn["turn_number"])
            expected = forks.get((owner, turn["turn_number"]), [])
            if turn["branch_id"] != str(owner) or [f["id"] for f in turn["forks"]] != expected:
                raise fail(f"page from {first}", f"turn {turn['turn_number']} is {turn}")

    return check


def expected_stats(story: LoadedStory) -> dict[str, tuple[int, int, int]]:
    """Per branch id: lineage length, own turns, children."""
    children = [0] * len(story.plan)
    for b in story.plan:
        if b.parent is not None:
            children[b.parent] += 1
    return {
        str(story.branch_ids[b.index]): (b.last, b.last - b.first + 1, children[b.index])
        for b in story.plan
    }


def nodes(node: Any) -> Iterator[Any]:
    yield node
    for child in node["children"]:
        yield from nodes(child)


def stats_of(items: Any) -> dict[str, tuple[int, int, int]]:
    return {i["id"]: (i["turn_count"], i["own_turns"], i["child_count"]) for i in items}


def tree_check(story: LoadedStory) -> Check:
    expected = expected_stats(story)
    depths = {str(story.branch_ids[b.index]): b.depth for b in story.plan}

    def check(body: Any) -> None:
        found = list(nodes(body["root"]))
        if body["branch_count"] != len(expected) or stats_of(found) != expected:
            raise fail("tree", f"{len(found)} branches, not the {len(expected)} loaded")
        if {n["id"]: n["depth"] for n in found} != depths:
            raise fail("tree", "depths differ from the loaded tree")

    return check


def list_check(story: LoadedStory) -> Check:
    expected = expected_stats(story)

    def check(body: Any) -> None:
        if stats_of(body["items"]) != expected:
            raise fail("branch list", f"{len(body['items'])} items, not the {len(expected)} loaded")

    return check


def page_request(story: LoadedStory, first: int) -> Request:
    params: dict[str, str | int] = {"branch_id": str(story.active), "from": first, "limit": PAGE}
    return Request(f"/stories/{story.story_id}/turns", params, page_check(story, first))


def cases(config: TimelinesBenchConfig, long: LoadedStory, wide: LoadedStory) -> list[Case]:
    total = long.plan[-1].last
    middle, last = max(1, total // 2), max(1, total - PAGE + 1)
    rng = random.Random(config.seed)
    lineage = f"{total:,} turns, {len(long.plan)} branches"
    tree = f"{len(wide.plan)} branches"
    return [
        Case("lineage page from=1", lineage, lambda: page_request(long, 1)),
        Case(f"lineage page from={middle}", lineage, lambda: page_request(long, middle)),
        Case(f"lineage page from={last}", lineage, lambda: page_request(long, last)),
        Case(
            "lineage page, random from=", lineage, lambda: page_request(long, rng.randint(1, last))
        ),
        Case(
            "branch tree",
            tree,
            lambda: Request(f"/stories/{wide.story_id}/branches/tree", {}, tree_check(wide)),
        ),
        Case(
            "branch list with stats",
            tree,
            lambda: Request(f"/stories/{wide.story_id}/branches", {}, list_check(wide)),
        ),
    ]


async def measure(
    client: httpx.AsyncClient, case: Case, result: CaseResult, config: TimelinesBenchConfig
) -> int:
    """One run of one case: warm-up requests, then the timed ones; answers how many it checked."""
    samples: list[float] = []
    for index in range(config.warmup + config.repeats):
        request = case.next_request()
        started = time.perf_counter()
        response = await client.get(request.path, params=request.params)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise fail(case.name, f"HTTP {response.status_code}: {response.text[:300]}")
        request.check(response.json())
        if index >= config.warmup:
            samples.append(elapsed)
            result.response_bytes.append(len(response.content))
    result.runs.append(RunStats.of(samples))
    return config.warmup + config.repeats


def tree_turns(tree: list[PlannedBranch]) -> int:
    return sum(b.last - b.first + 1 for b in tree)


async def run_timelines_bench_async(
    config: TimelinesBenchConfig, progress: Progress
) -> TimelinesBenchResult:
    settings = config.settings()
    campaign = generate(CAMPAIGN_TURNS, seed=config.seed)
    tree = plan_tree(config.branches, config.seed)
    async with open_services(settings, run_worker=False) as services:
        started = time.perf_counter()
        long, wide = await load_stories(
            services, campaign, plan_chain(config.turns, config.depth), tree
        )
        load_seconds = time.perf_counter() - started
        progress(f"loaded {config.turns:,} + {tree_turns(tree):,} turns in {load_seconds:.0f} s")
        # Start-up loads the embedder in the background; none of this needs it, but its
        # import must not run during the measurement.
        with contextlib.suppress(ConfigurationError):
            await asyncio.to_thread(services.embedder.warm)
        app = create_app(settings, run_worker=False)
        app.state.services = services
        transport = httpx.ASGITransport(app=app)
        suite = cases(config, long, wide)
        results = [CaseResult(c.name, c.detail) for c in suite]
        checked = 0
        gc.collect()
        gc.freeze()  # keep the collector off the loaded plans and campaign
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://luna.bench") as c:
                for run in range(1, config.runs + 1):
                    for case, result in zip(suite, results, strict=True):
                        checked += await measure(c, case, result, config)
                    p95s = ", ".join(f"{r.name} {r.runs[-1].p95:.1f}" for r in results)
                    progress(f"run {run}/{config.runs}: p95 ms {p95s}")
        finally:
            gc.unfreeze()
    return TimelinesBenchResult(
        config=config,
        tree_depth=max(b.depth for b in tree),
        tree_turns=tree_turns(tree),
        load_seconds=load_seconds,
        cases=results,
        checked=checked,
    )


def run_timelines_bench(config: TimelinesBenchConfig, progress: Progress) -> TimelinesBenchResult:
    return asyncio.run(run_timelines_bench_async(config, progress))
