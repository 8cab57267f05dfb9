"""Dreamer run: a few new ideas from the story so far, with the repeats dropped."""

from __future__ import annotations

import re
from pathlib import Path

from luna_narrates.agents.dreamer.schemas import Dream, DreamerInput, KnownThing
from luna_narrates.agents.frame import render_frame, render_turns
from luna_narrates.agents.schemas import PastTurn
from luna_narrates.kit.templates import bullet_list, render
from luna_narrates.llm.calls import AgentModel, ModelCall, run_structured

HERE = Path(__file__).parent
NAME = "dreamer"
# Room for five ideas at their longest, so a grammar-bound answer is never cut off mid-JSON:
# English prose filling every bound is 2,000-2,250 SmolLM2 tokens (measured), plus headroom.
MAX_DREAM_TOKENS = 2400
# The per-turn part is bounded whatever the caller passes (about 850 tokens at most), so that
# it and the longest answer leave the story's frame some 600 of the embedded model's 4,096.
RECENT_TURNS = 2
ACTION_CHARS = 160
KNOWN_THINGS = 10
NAME_CHARS = 40
KIND_CHARS = 20
SUMMARY_CHARS = 120
THREADS = 3
THREAD_CHARS = 100
DREAMED_NAMES_CHARS = 300


def clipped(text: str, chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[:chars].rsplit(" ", 1)[0] + " …"


def turns_text(turns: list[PastTurn]) -> str:
    # A passage is already cut to its end by render_turns; an imported action may be long.
    return render_turns(
        [
            turn.model_copy(update={"user_action": clipped(turn.user_action, ACTION_CHARS)})
            for turn in turns[-RECENT_TURNS:]
        ]
    )


def world_text(world: list[KnownThing]) -> str:
    lines = [
        f"{clipped(thing.name, NAME_CHARS)} ({clipped(thing.kind, KIND_CHARS)}): "
        f"{clipped(thing.summary, SUMMARY_CHARS)}"
        for thing in world[:KNOWN_THINGS]
    ]
    return bullet_list(lines, empty="(nothing written down yet)")


def dreamed_text(names: list[str]) -> str:
    """Cut between names: whatever is left out and dreamed again is dropped after the answer."""
    text = ", ".join(names)
    if len(text) > DREAMED_NAMES_CHARS:
        text = text[:DREAMED_NAMES_CHARS].rsplit(", ", 1)[0] + ", …"
    return text or "(nothing yet)"


def prompts(data: DreamerInput) -> tuple[str, str]:
    system = render(HERE, "system.txt", frame=render_frame(data.story))
    user = render(
        HERE,
        "dream.txt",
        recent_turns=turns_text(data.recent_turns),
        world=world_text(data.world),
        open_threads=bullet_list([clipped(t, THREAD_CHARS) for t in data.open_threads[:THREADS]]),
        already_dreamed=dreamed_text(data.already_dreamed),
        wanted="one idea" if data.wanted == 1 else f"{data.wanted} ideas",
    )
    return system, user


def same_name(name: str) -> str:
    """What two spellings of one name share: case, spacing, underscores and punctuation aside
    ("The_Drowned_Bell" is "the drowned bell": SmolLM2 writes names both ways)."""
    return re.sub(r"[\W_]+", " ", name).casefold().strip()


def fresh(dream: Dream, already_dreamed: list[str], wanted: int) -> Dream:
    """The ideas whose name was not dreamed before or earlier in this answer, at most
    `wanted` of them."""
    seen = {same_name(name) for name in already_dreamed}
    kept = []
    for idea in dream.ideas:
        key = same_name(idea.name)
        if key not in seen:
            seen.add(key)
            kept.append(idea)
    return Dream(ideas=kept[:wanted])


async def dream(data: DreamerInput, model: AgentModel) -> tuple[Dream, ModelCall]:
    """The record keeps the model's whole answer, repeats included: what it said, not what
    was kept."""
    system, user = prompts(data)
    answer, record = await run_structured(model.call(NAME, system, user, MAX_DREAM_TOKENS), Dream)
    return fresh(answer, data.already_dreamed, data.wanted), record
