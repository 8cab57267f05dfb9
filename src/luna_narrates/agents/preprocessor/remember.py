"""The Preprocessor's memory work after a turn: what to write down, and every few turns the
arc so far. Runs in the background job, on the Preprocessor's model."""

from __future__ import annotations

from pathlib import Path

from luna_narrates.agents.frame import render_frame
from luna_narrates.agents.preprocessor.memory_schemas import (
    ArcInput,
    ArcSummary,
    RememberInput,
    TurnMemory,
)
from luna_narrates.kit.templates import bullet_list, render
from luna_narrates.llm.calls import AgentModel, ModelCall, run_structured

HERE = Path(__file__).parent
# The roles whose models write memory: each turn is extracted, each arc summarised.
EXTRACTOR = "extractor"
SUMMARISER = "summariser"
# Room for the widest answers the schemas allow (a grammar-bound answer cut off mid-JSON fails).
MAX_MEMORY_TOKENS = 1150
MAX_ARC_TOKENS = 300
# Both keep the prompt inside the embedded model's 4k context with room for the answer.
KNOWN_NAMES_CHARS = 600
# A longer passage (an imported one) is remembered from its opening and its end, where the
# turn's events usually are; the search index still covers all of it.
MAX_PASSAGE_WORDS = 500


def shortened(text: str, max_words: int) -> str:
    words = text.split()
    if len(words) <= max_words:
        return text.strip()
    half = max_words // 2
    return " ".join(words[:half]) + " … " + " ".join(words[-half:])


def known_names(names: list[str]) -> str:
    shown: list[str] = []
    for name in names:
        if sum(len(n) + 2 for n in shown) + len(name) > KNOWN_NAMES_CHARS:
            break
        shown.append(name)
    return ", ".join(shown) or "(none yet)"


def remember_prompts(data: RememberInput) -> tuple[str, str]:
    system = render(HERE, "remember_system.txt", frame=render_frame(data.story))
    user = render(
        HERE,
        "remember_turn.txt",
        known=known_names(data.known_entities),
        turn_number=data.turn.turn_number,
        user_action=data.turn.user_action,
        passage=shortened(data.turn.narrative_text, MAX_PASSAGE_WORDS),
    )
    return system, user


async def remember(data: RememberInput, model: AgentModel) -> tuple[TurnMemory, ModelCall]:
    system, user = remember_prompts(data)
    # Record-keeping, not storytelling: the same turn should give the same memory.
    call = model.call(EXTRACTOR, system, user, MAX_MEMORY_TOKENS, temperature=0.0)
    return await run_structured(call, TurnMemory)


def arc_prompts(data: ArcInput) -> tuple[str, str]:
    system = render(HERE, "arc_system.txt", frame=render_frame(data.story))
    user = render(
        HERE,
        "arc_turn.txt",
        first_turn=data.first_turn,
        last_turn=data.last_turn,
        summaries=bullet_list(data.turn_summaries),
    )
    return system, user


async def summarize_arc(data: ArcInput, model: AgentModel) -> tuple[ArcSummary, ModelCall]:
    system, user = arc_prompts(data)
    call = model.call(SUMMARISER, system, user, MAX_ARC_TOKENS, temperature=0.0)
    return await run_structured(call, ArcSummary)
