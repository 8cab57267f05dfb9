"""Writer run: prose from the plan, streamed delta by delta."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from luna_narrates.agents.frame import render_frame
from luna_narrates.agents.writer.schemas import WriterInput
from luna_narrates.kit.templates import bullet_list, render, tail_words
from luna_narrates.llm.calls import AgentModel, ModelCall, run_text_stream

HERE = Path(__file__).parent
NAME = "writer"
PREVIOUS_PASSAGE_WORDS = 120
WORDS_PER_TOKEN = 0.75
# Below this share of the target a passage reads as a stub; small models stop far too early.
MIN_SHARE_OF_TARGET = 0.5


def prompts(data: WriterInput) -> tuple[str, str]:
    plan = data.plan
    previous = (
        tail_words(data.previous_turn.narrative_text, PREVIOUS_PASSAGE_WORDS)
        if data.previous_turn
        else "(This is the opening passage.)"
    )
    system = render(HERE, "system.txt", frame=render_frame(data.story))
    user = render(
        HERE,
        "turn.txt",
        previous=previous,
        user_action=data.user_action,
        scene_location=plan.scene_location,
        tone=plan.tone,
        characters_present=", ".join(plan.characters_present) or "(only the protagonist)",
        beats=bullet_list(plan.beats),
        npc_reactions=bullet_list([f"{r.character}: {r.reaction}" for r in plan.npc_reactions]),
        consequences=bullet_list(plan.consequences),
        target_words=int(data.target_tokens * WORDS_PER_TOKEN),
    )
    return system, user


async def run(
    data: WriterInput, model: AgentModel, on_delta: Callable[[str], Awaitable[None]]
) -> tuple[str, ModelCall]:
    system, user = prompts(data)
    # A little headroom so the passage can finish its sentence past the target.
    call = model.call(
        NAME,
        system,
        user,
        max_tokens=int(data.target_tokens * 1.15),
        min_tokens=int(data.target_tokens * MIN_SHARE_OF_TARGET),
    )
    return await run_text_stream(call, on_delta)
