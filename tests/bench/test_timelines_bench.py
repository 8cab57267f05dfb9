"""`luna bench timelines`'s machinery on a tiny scale: the planned stories keep the timelines'
invariants, every answer is checked, and the section renders.

No assertion on timing values: those go to docs/benchmarks.md.
"""

from __future__ import annotations

from pathlib import Path

from luna_narrates.bench.timelines import (
    CaseResult,
    RunStats,
    TimelinesBenchConfig,
    TimelinesBenchResult,
    run_timelines_bench,
)
from luna_narrates.bench.timelines_load import plan_chain, plan_tree
from luna_narrates.bench.timelines_markdown import render_markdown
from luna_narrates.db.embedded import stop_embedded_postgres

CASES = [  # for 300 turns
    "lineage page from=1",
    "lineage page from=150",
    "lineage page from=201",
    "lineage page, random from=",
    "branch tree",
    "branch list with stats",
]


def test_chain_forks_from_each_last_turn_and_numbers_without_gaps() -> None:
    chain = plan_chain(1_003, 4)
    assert [(b.first, b.last) for b in chain] == [(1, 250), (251, 500), (501, 750), (751, 1003)]
    assert [b.fork for b in chain] == [None, 250, 500, 750]
    assert [b.parent for b in chain] == [None, 0, 1, 2]


def test_tree_forks_at_its_parents_own_turns() -> None:
    tree = plan_tree(200, seed=7)
    assert len(tree) == 200 and tree[0].parent is None
    for branch in tree[1:]:
        assert branch.parent is not None
        parent = tree[branch.parent]
        assert branch.fork is not None and parent.first <= branch.fork <= parent.last
        assert branch.first == branch.fork + 1 and branch.last >= branch.first
        assert branch.depth == parent.depth + 1 <= 20


def test_timelines_bench_tiny(data_dir: Path) -> None:
    config = TimelinesBenchConfig(
        turns=300, branches=20, depth=3, repeats=5, runs=1, data_dir=data_dir / "bench-timelines"
    )
    try:
        result = run_timelines_bench(config, lambda _: None)
    finally:
        # Before the session's temporary directory goes, or the server outlives it.
        stop_embedded_postgres(config.settings().embedded_database_dir)
    assert [case.name for case in result.cases] == CASES
    assert result.checked == len(CASES) * (config.warmup + config.repeats)
    for case in result.cases:
        [run] = case.runs
        assert 0 < run.p50 <= run.p95 <= run.max
        assert len(case.response_bytes) == config.repeats
    assert result.cases[0].detail == "300 turns, 3 branches"
    assert result.tree_depth >= 1 and result.tree_turns >= 20


def result_of(p95_ms: float) -> TimelinesBenchResult:
    runs = [RunStats(p50=p95_ms / 2, p95=p95_ms, max=p95_ms * 2)] * 3
    return TimelinesBenchResult(
        config=TimelinesBenchConfig(),
        tree_depth=14,
        tree_turns=930,
        load_seconds=12.0,
        cases=[CaseResult(name, "size", runs, [2048]) for name in CASES],
        checked=1_980,
    )


def test_section_has_markers_a_row_per_case_and_the_verdict() -> None:
    section = render_markdown(result_of(12.0), "luna bench timelines", "2026-11-23 00:00 UTC")
    assert section.startswith("<!-- bench:timelines:start -->\n## luna bench timelines\n")
    assert section.endswith("<!-- bench:timelines:end -->\n")
    assert "| case | size | KiB | p50 | p95 | max | per run p50 / p95 | p95 target |" in section
    assert "| lineage page from=1 | size | 2 | 6.0 | 12.0 | 24.0 | 6.0 / 12.0 · " in section
    assert section.count("< 50: met") == len(CASES)
    assert "- Target: each answers in < 50 ms p95 — met." in section
    assert "< 50: missed" in render_markdown(result_of(60.0), "luna", "today")
