"""`luna bench turn`'s machinery on a tiny scale: result structure and the markdown section.

No assertion on any timing: benchmarks are commands, their numbers go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from luna_narrates.bench.markdown import (
    DOCUMENT_HEADER,
    SECTION_END,
    SECTION_START,
    render_markdown,
    replace_section,
    write_section,
)
from luna_narrates.bench.report import BenchReport, run_bench
from luna_narrates.bench.turn import BenchConfig, SseEvent, _Collector
from luna_narrates.db.embedded import stop_embedded_postgres

HEADINGS = (
    "## luna bench turn",
    "### Time per agent",
    "### Writer tokens/s",
    "### Time to first token over SSE",
    "### Orchestration overhead",
)


async def bench(config: BenchConfig) -> BenchReport:
    # On a thread: the bench runs its own event loops with asyncio.run.
    try:
        return await asyncio.to_thread(
            run_bench, config, "luna bench turn --turns 2", lambda _: None
        )
    finally:
        # Before the session's temporary directory goes, or the server outlives it.
        stop_embedded_postgres(config.data_dir / "pg")


def check_structure(report: BenchReport, config: BenchConfig) -> None:
    [result] = report.results
    assert [t.turn_number for t in result.turns] == list(range(1, config.turns + 1))
    assert len(result.overhead) == config.overhead_turns
    for turn in result.turns + result.overhead:
        assert set(turn.agent_seconds) == {"preprocessor", "strategist", "writer"}
        assert turn.writer_output_tokens > 0
        assert turn.first_token_seconds is not None
        assert turn.client_seconds > 0 and turn.server_seconds > 0
    summary = report.summary
    assert set(summary.agent_seconds) == {"preprocessor", "strategist", "writer"}
    assert not math.isnan(summary.ttft_ratio)
    assert not math.isnan(summary.overhead_client_median)
    section = render_markdown(report)
    assert section.startswith(SECTION_START) and section.rstrip().endswith(SECTION_END)
    for heading in HEADINGS:
        assert heading in section
    assert "`luna bench turn --turns 2`" in section
    assert "turn 2, the last, stands in for turn 20" in section


async def test_bench_on_the_test_model(data_dir: Path) -> None:
    config = BenchConfig(
        turns=2, runs=1, overhead_turns=2, data_dir=data_dir / "bench", model="test"
    )
    report = await bench(config)
    check_structure(report, config)
    assert report.results[0].raw == []  # no llama.cpp to compare with
    assert math.isnan(report.summary.tokens_per_second_ratio)
    assert "n/a" in render_markdown(report)


@pytest.mark.llm
async def test_bench_on_the_embedded_model_tiny(data_dir: Path) -> None:
    config = BenchConfig(
        turns=2,
        runs=1,
        overhead_turns=1,
        data_dir=data_dir / "bench",
        overrides={"writer_target_tokens": 60, "briefing_token_budget": 200},
    )
    report = await bench(config)
    check_structure(report, config)
    [raw] = report.results[0].raw
    assert raw.turn_number == 2 and raw.tokens >= 30  # min_tokens = half the target
    assert report.summary.tokens_per_second_ratio > 0
    assert report.settings["writer_target_tokens"] == "60"


def test_sse_events_fold_into_a_turn_timing() -> None:
    collector = _Collector(started=10.0)
    events = [
        SseEvent("agent_complete", '{"agent": "writer", "seconds": 2.0, "output_tokens": 7}', 11.0),
        SseEvent("token", '{"agent": "writer", "text": "a"}', 10.5),
        SseEvent("token", '{"agent": "writer", "text": "b"}', 10.9),
        SseEvent("done", '{"turn": {"turn_number": 3, "total_execution_time_seconds": 1.5}}', 12),
    ]
    for event in events:
        collector.add(event)
    timing = collector.timing()
    assert timing.turn_number == 3 and timing.client_seconds == 2.0
    assert timing.first_token_seconds == 0.5
    assert timing.writer_tokens_per_second == pytest.approx(7 / 0.4)


def test_the_section_replaces_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "benchmarks.md"
    first = f"{SECTION_START}\n## luna bench turn\nold\n{SECTION_END}\n"
    write_section(path, first)
    assert path.read_text().startswith(DOCUMENT_HEADER)
    other = "<!-- bench:other:start -->\n## other\n<!-- bench:other:end -->\n"
    path.write_text(path.read_text() + "\n" + other)
    write_section(path, first.replace("old", "new"))
    text = path.read_text()
    assert "new" in text and "old" not in text and other in text
    assert text.count(SECTION_START) == 1
    assert replace_section("", first).strip() == first.strip()
