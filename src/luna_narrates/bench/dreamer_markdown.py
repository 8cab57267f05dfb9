"""`luna bench dreamer` as tables (for rich and for markdown) and as a docs section."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from luna_narrates.bench.dreamer import (
    CURVE,
    IDEA_KINDS,
    SETTINGS,
    ArmResult,
    DreamerBenchResult,
    Part,
    reduction,
)
from luna_narrates.bench.markdown import Table, markdown_table, markers, number
from luna_narrates.bench.summary import median

SECTION = "dreamer"
SEED_CLAIM = 0.7  # the seed's "~70 % less waiting"
PARTS: tuple[Part, Part] = ("foreseeable", "other")

Pair = tuple[ArmResult, ArmResult]  # one run: without the Dreamer, with it
Show = Callable[[float], str]
WAIT: tuple[Callable[[ArmResult], float], ...] = (
    ArmResult.mean,
    ArmResult.p95,
    lambda arm: arm.total() / 60,
)


def percent(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{round(value, 2) + 0.0:.0%}"  # never "-0%"


def seconds(value: float) -> str:
    return number(value, 1)


def spread(values: Iterable[float], show: Show) -> tuple[str, str]:
    """The median over runs, and each run's value."""
    values = list(values)
    return show(median(values)), " · ".join(show(v) for v in values)


def pairs(result: DreamerBenchResult, rate: float) -> list[Pair]:
    return [(run.without, run.dreaming[rate]) for run in result.runs]


def label(rate: float) -> str:
    return f"with the Dreamer, hit rate {rate:g}"


def wait_table(result: DreamerBenchResult) -> Table:
    without = [run.without for run in result.runs]
    rows: list[tuple[str, ...]] = [
        (
            "without the Dreamer",
            *(seconds(median(stat(arm) for arm in without)) for stat in WAIT),
            "",
            spread((arm.mean() for arm in without), seconds)[1],
        )
    ]
    for rate in result.config.hit_rates:
        runs = pairs(result, rate)
        rows.append(
            (
                label(rate),
                *(seconds(median(stat(arm) for _, arm in runs)) for stat in WAIT),
                *spread((reduction(*pair) for pair in runs), percent),
            )
        )
    return Table(
        "Player-visible image wait per turn (s)",
        ("session", "mean", "p95", "per session (min)", "less waiting", "per run"),
        rows,
        "From the passage's end until the turn's last image is ready (0 when all were). Per "
        "run: the mean without the Dreamer, and the share of the waiting saved with it on the "
        "same story in the same run.",
    )


def part_cells(runs: list[Pair], part: Part) -> tuple[str, str, str]:
    """With the Dreamer: the median total, the median share saved, each run's share saved."""
    total = seconds(median(arm.total(part) for _, arm in runs))
    return (total, *spread((reduction(*pair, part) for pair in runs), percent))


def parts_table(result: DreamerBenchResult) -> Table:
    without = [run.without for run in result.runs]
    new, rest = (spread((arm.total(part) for arm in without), seconds) for part in PARTS)
    rows: list[tuple[str, ...]] = [
        ("without the Dreamer", new[0], "", new[1], rest[0], "", rest[1])
    ]
    for rate in result.config.hit_rates:
        runs = pairs(result, rate)
        rows.append((label(rate), *part_cells(runs, "foreseeable"), *part_cells(runs, "other")))
    return Table(
        "Where the waiting is: pictures of new things, and the rest (s per session)",
        ("session", "new things", "less waiting", "per run", "the rest", "less waiting", "per run"),
        rows,
        "New things: the backgrounds of new locations and the portraits of new characters, "
        "which the Dreamer can foresee. The rest: action images (they depend on the player's "
        "action) and backgrounds of known locations drawn again once their cache ran out; "
        "they gain from the Dreamer only when a foreseen picture that was ahead of them in "
        "the queue is no longer drawn. Per run: the total without the Dreamer, the share "
        "saved with it.",
    )


def count(values: Iterable[float]) -> str:
    return f"{median(values):.0f}"


def dreamer_table(result: DreamerBenchResult) -> Table:
    rows: list[tuple[str, ...]] = []
    without = [run.without for run in result.runs]
    for rate in result.config.hit_rates:
        arms = [run.dreaming[rate] for run in result.runs]
        rows.append(
            (
                f"{rate:g}",
                f"{count(sum(t.foreseen for t in arm.turns) for arm in arms)} of "
                f"{count(sum(t.things for t in arm.turns) for arm in arms)}",
                count(arm.ideas for arm in arms),
                count(arm.realized for arm in arms),
                *spread((arm.realization_rate for arm in arms), lambda v: f"{v:.1%}"),
                count(arm.speculative_renders for arm in arms),
                count(arm.unused_renders for arm in arms),
                f"{median(arm.gpu_busy for arm in without):.1%} → "
                f"{median(arm.gpu_busy for arm in arms):.1%}",
            )
        )
    return Table(
        "The Dreamer's side (medians over runs)",
        (
            "hit rate",
            "new things foreseen",
            "ideas dreamed",
            "realized",
            "realization rate",
            "per run",
            "speculative renders",
            "never used",
            "GPU busy without → with",
        ),
        rows,
        "Realization rate = realized ideas ÷ ideas dreamed, evicted ones included, as "
        "`/dreamer/stats` counts it. Speculative renders: begun (GPU time spent); never used: "
        "begun for an idea no turn used.",
    )


CURVES: tuple[tuple[str, Part], ...] = (
    ("every image", "wait"),
    ("new things' pictures", "foreseeable"),
)


def curve_table(result: DreamerBenchResult) -> Table:
    return Table(
        "Less waiting by hit rate (median over runs)",
        ("", *(f"{rate:g}" for rate in CURVE)),
        [(name, *(percent(v) for v in result.curve(part).values())) for name, part in CURVES],
        "Turn images go first in the images queue (`jobs.queue`), and a foreseen place's "
        "background or character's first portrait is the Dreamer's picture "
        "(`images.service`).",
    )


def tables(result: DreamerBenchResult) -> list[Table]:
    return [wait_table(result), parts_table(result), dreamer_table(result), curve_table(result)]


def reach(result: DreamerBenchResult, part: Part) -> str:
    needed = result.hit_rate_for(SEED_CLAIM, part)
    if needed is None:
        return f"not reached ({result.curve(part)[CURVE[-1]]:.0%} at hit rate 1)"
    return f"a hit rate of about {needed:.2f}"


def verdict(result: DreamerBenchResult) -> str:
    return (
        f"for the whole wait, {reach(result, 'wait')}; for the pictures of new things alone, "
        f"{reach(result, 'foreseeable')} (hit rates interpolated on the last table). Action "
        "images depend on the player's action: no Dreamer saves their wait."
    )


def assumptions(result: DreamerBenchResult) -> list[str]:
    config, story = result.config, result.config.story
    kinds = ", ".join(f"{kind} {share:.0%}" for kind, share in IDEA_KINDS.items())
    settings = ", ".join(f"{name}={getattr(config.settings, name)}" for name in SETTINGS)
    low, high = config.gpu_seconds
    dreams = median(arm.dreams for run in result.runs for arm in run.dreaming.values())
    dreams /= config.turns
    return [
        f"Settings (`Settings` defaults unless overridden): {settings}.",
        f"A turn's text: {config.turn_seconds:g} s, the median whole turn of `luna bench "
        "turn` above; images are asked for at the passage's end.",
        f"Think time: uniform {story.think_seconds[0]:g}–{story.think_seconds[1]:g} s, the "
        'issue\'s "typically 1–10 minutes a turn"; the session ends after the last one.',
        f"GPU time per image: uniform {low:g}–{high:g} s, an assumption (SDXL at 1024² and ~30 "
        "steps on a consumer GPU; LUNA's default 768×512 at 20 steps draws faster); "
        f"{config.workers} worker(s) × max_concurrent {config.max_concurrent}, each slot "
        "drawing at full speed whatever the others do.",
        f"The story (assumptions): the first turn brings a location and "
        f"{story.opening_characters} characters; then each turn moves with chance "
        f"{story.location_change:g} (back to a known place with chance "
        f"{story.known_location_return:g}), brings a new character with chance "
        f"{story.new_character:g} and a notable item with chance {story.new_item:g}. Images "
        "as `images.planning` asks for them: a background unless one of the place was drawn "
        "within the cache duration, an action image every N turns, a portrait on a "
        "character's first appearance (no appearance changes); no item images.",
        f"The Dreamer: a dream after each turn and every idle interval while the player "
        f"thinks (as `jobs.queue`; {dreams:.1f} dreams a turn here), one at a time, each "
        f"taking {config.dream_seconds:g} s (an assumption, about the "
        f"Writer's time); ideas by kind {kinds}; confidence uniform "
        f"{story.confidence[0]:g}–{story.confidence[1]:g} (assumptions); images and eviction "
        "as `dreamer.service` (plot twists get none); speculative renders queue behind turn "
        "images and never preempt one.",
        "Hit rate: the share of new things (locations, characters, items) the Dreamer had "
        "foreseen — its model's accuracy, which a simulation cannot know, so it is swept. A "
        "foreseen thing is one of the pool's ideas of its kind (picked in proportion to "
        "confidence; none of its kind, not foreseen); its picture is there if its render "
        "has ended, the player waits the rest if it is being drawn, and the turn draws it "
        "when it has not begun or the idea was under the threshold. Scenes and plot twists "
        "are dreamed but never used here, so realization rates are low by that much.",
    ]


def render_markdown(result: DreamerBenchResult, command: str, date: str) -> str:
    config = result.config
    seeds = f"{config.seed}…{config.seed + config.runs - 1}" if config.runs > 1 else config.seed
    lines = [
        f"- Command: `{command}`",
        f"- Date: {date}",
        f"- Simulated, not measured: {config.runs} run(s) (seeds {seeds}) of a "
        f"{config.turns}-turn session on a virtual clock (simpy), with fake workers that hold "
        "a slot for each image's GPU time, so the machine does not matter. Each run plays "
        "the same story (turns, think times, GPU times) without the Dreamer and with it at "
        "each hit rate; the tables give the median over runs and each run's value.",
        f'- The seed\'s "~70 % less waiting": {verdict(result)}',
        "- Assumptions, and where each number comes from:",
        *(f"  - {line}" for line in assumptions(result)),
    ]
    opening, closing = markers(SECTION)
    parts = [opening, "## luna bench dreamer", "", "\n".join(lines)]
    parts += ["\n" + markdown_table(table) for table in tables(result)]
    return "\n".join(parts) + "\n" + closing + "\n"
