"""`luna bench memory`'s machinery on a tiny scale: scoring rules, result shape, the section.

No assertion on recall or timing values: those go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from luna_narrates.agents.preprocessor.schemas import BriefingItem, Citation
from luna_narrates.bench.campaign import Needle, Probe, ProbeFact
from luna_narrates.bench.memory import (
    SYSTEMS,
    MemoryBenchConfig,
    Score,
    run_memory_bench,
    score_probe,
)
from luna_narrates.bench.memory_markdown import render_markdown
from luna_narrates.db.embedded import stop_embedded_postgres

PROBE = Probe(
    after_turn=40,
    action="I go looking for the Obsidian Amulet.",
    facts=(
        ProbeFact(
            kind="handoff",
            planted_turn=20,
            current=Needle(("Obsidian Amulet", "Tomas")),
            stale=Needle(("Obsidian Amulet", "Mira")),
        ),
    ),
)


def item(kind: str, text: str) -> BriefingItem:
    return BriefingItem(kind=kind, text=text, source=Citation(turn=1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("items", "found", "stale"),
    [
        ([item("fact", "Obsidian Amulet · held by: Tomas (before: Mira)")], 1, 0),
        ([item("fact", "Obsidian Amulet · held by: Mira")], 0, 1),
        ([item("passage", "Mira tucks the Obsidian Amulet away.")], 0, 1),
        (
            [
                item("passage", "Mira tucks the Obsidian Amulet away."),
                item("passage", "Mira hands the Obsidian Amulet to Tomas."),
            ],
            1,
            0,
        ),
        ([], 0, 0),
    ],
)
def test_scoring_counts_found_facts_and_stale_ones_shown_as_current(
    items: list[BriefingItem], found: int, stale: int
) -> None:
    score = Score()
    score_probe(score, PROBE, items, 10)
    assert (score.found, score.needed, score.stale_shown, score.stale_probes) == (
        found,
        1,
        stale,
        1,
    )


@pytest.mark.llm
async def test_memory_bench_tiny(data_dir: Path) -> None:
    config = MemoryBenchConfig(
        turns=40,
        compression_at=(30,),
        latency_sizes=(60,),
        latency_queries=5,
        data_dir=data_dir / "bench-memory",
    )
    try:
        result = await asyncio.to_thread(run_memory_bench, config, lambda _: None)
    finally:
        # Before the session's temporary directory goes, or the server outlives it.
        stop_embedded_postgres(config.settings().embedded_database_dir)
    assert result.probes >= 1
    assert set(result.scores) == {(s, b) for s in SYSTEMS for b in config.budgets}
    needed = sum(result.probe_kinds.values())
    assert all(score.needed == needed for score in result.scores.values())
    briefing, history = result.compression[30]
    assert 0 < briefing < history
    assert all(len(samples) == 5 for samples in result.latency[60].samples_ms.values())
    section = render_markdown(result, "luna bench memory --turns 40", "2026-11-23 00:00 UTC")
    assert section.startswith("<!-- bench:memory:start -->\n## luna bench memory")
    for heading in (
        "### Fact recall",
        "### Superseded facts",
        "### Compression",
        "### Retrieval latency",
    ):
        assert heading in section
