"""`luna bench dreamer`'s simulation: what holds exactly, whatever the draws.

No assertion on how much waiting the Dreamer saves: that goes to docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from luna_narrates.bench.dreamer import (
    DreamerBenchConfig,
    draw_story,
    product_settings,
    run_dreamer_bench,
    simulate,
)
from luna_narrates.bench.dreamer_markdown import SECTION, render_markdown
from luna_narrates.bench.markdown import markers
from luna_narrates.cli.bench import bench_app

SMALL = DreamerBenchConfig(turns=30, runs=2, hit_rates=(0.5,))


def quiet(line: str) -> None:
    pass


def test_a_seed_gives_the_same_numbers_and_another_seed_others() -> None:
    first = run_dreamer_bench(SMALL, quiet)
    assert run_dreamer_bench(SMALL, quiet) == first
    assert run_dreamer_bench(replace(SMALL, seed=SMALL.seed + 100), quiet) != first


def test_every_hit_rate_plays_the_story_of_the_session_without_the_dreamer() -> None:
    story = draw_story(SMALL, 3)
    assert draw_story(SMALL, 3) == story
    without = simulate(SMALL, story, 3, None)
    for rate in (0.0, 0.5, 1.0):
        arm = simulate(SMALL, story, 3, rate)
        assert [t.number for t in arm.turns] == [t.number for t in without.turns]
        assert [t.things for t in arm.turns] == [len(t.things) for t in story]
    assert without.dreams == without.ideas == without.speculative_renders == 0


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    workers=st.integers(1, 2),
    max_concurrent=st.integers(1, 2),
)
def test_with_nothing_foreseen_speculation_delays_a_turn_by_one_render_at_most(
    seed: int, workers: int, max_concurrent: int
) -> None:
    """Speculative renders never preempt and queue behind turn images: one already drawing
    on a slot when the turn asks is all that can stand in its way."""
    config = replace(SMALL, workers=workers, max_concurrent=max_concurrent)
    story = draw_story(config, seed)
    without = simulate(config, story, seed, None)
    designed = simulate(config, story, seed, 0.0)
    longest = config.gpu_seconds[1]
    assert designed.realized == 0
    assert designed.speculative_renders > 0
    for alone, dreaming in zip(without.turns, designed.turns, strict=True):
        for part in ("foreseeable", "other"):
            assert getattr(alone, part) <= getattr(dreaming, part) <= getattr(alone, part) + longest


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_foreseeing_everything_with_ample_gpus_leaves_no_wait_for_new_things(seed: int) -> None:
    """Every idea drawn (threshold 0) on as many GPUs as needed, dreamed only after turns (so
    never while the turn that uses it is being written): a turn whose new things were all
    foreseen waits for none of their pictures."""
    settings = product_settings(
        dreamer_idle_interval_seconds=10**9, dreamer_confidence_threshold=0.0
    )
    config = replace(SMALL, workers=8, settings=settings)
    story = draw_story(config, seed)
    arm = simulate(config, story, seed, 1.0)
    foreseen = [t for t in arm.turns if t.things and t.foreseen == t.things]
    assert len(foreseen) > len(arm.turns) // 3
    assert [t.foreseeable for t in foreseen] == [0.0] * len(foreseen)
    # The first turn's things come before any dream.
    assert arm.turns[0].foreseen == 0 and arm.turns[0].foreseeable > 0


def test_with_idle_dreams_a_foreseen_picture_is_at_most_one_render_away() -> None:
    config = replace(SMALL, turns=100, workers=8)
    for seed in range(5):
        arm = simulate(config, draw_story(config, seed), seed, 1.0)
        for turn in arm.turns:
            if turn.things and turn.foreseen == turn.things and turn.number > 1:
                assert turn.foreseeable < config.gpu_seconds[1]


@pytest.mark.parametrize("rate", [0.25, 0.5, 1.0])
def test_the_realization_rate_is_the_things_foreseen_over_the_ideas_dreamed(rate: float) -> None:
    config = replace(SMALL, turns=60)
    arm = simulate(config, draw_story(config, 5), 5, rate)
    foreseen = sum(t.foreseen for t in arm.turns)
    dreamed = arm.dreams * config.settings.dreamer_ideas_per_dream
    assert foreseen > 0
    assert arm.realization_rate == foreseen / dreamed
    assert arm.unused_renders <= arm.speculative_renders


def test_a_foreseen_thing_is_foreseen_at_every_higher_hit_rate() -> None:
    story = draw_story(SMALL, 9)
    counts = [
        sum(t.foreseen for t in simulate(SMALL, story, 9, rate).turns)
        for rate in (0.0, 0.3, 0.6, 1.0)
    ]
    assert counts == sorted(counts)
    assert counts[0] == 0


def test_the_section_has_its_markers_and_a_row_per_hit_rate() -> None:
    result = run_dreamer_bench(replace(SMALL, hit_rates=(0.25, 0.75)), quiet)
    section = render_markdown(result, "luna bench dreamer --turns 30", "2026-01-01 00:00 UTC")
    opening, closing = markers(SECTION)
    assert section.startswith(opening + "\n## luna bench dreamer\n")
    assert section.endswith(closing + "\n")
    assert "| with the Dreamer, hit rate 0.25 |" in section
    assert "| with the Dreamer, hit rate 0.75 |" in section
    assert "| without the Dreamer |" in section
    assert "~70 % less waiting" in section


def test_settings_follow_the_product_and_overrides_are_validated() -> None:
    assert product_settings().dreamer_confidence_threshold == 0.6
    assert product_settings(image_action_every_n_turns="5").image_action_every_n_turns == 5
    runner = CliRunner()
    refused = runner.invoke(
        bench_app, ["dreamer", "--no-write", "--setting", "dreamer_confidence_threshold=2"]
    )
    assert refused.exit_code == 2
    assert "dreamer_confidence_threshold: Input should be less" in refused.output
    unknown = runner.invoke(bench_app, ["dreamer", "--no-write", "--setting", "turn_speed=2"])
    assert unknown.exit_code == 2
    assert "turn_speed" in unknown.output
