"""Preprocessor run: the model reads the scene, retrieval's memory items join it, and the
whole briefing is held to its token budget."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from luna_narrates.agents.frame import render_frame, render_turns
from luna_narrates.agents.preprocessor.schemas import (
    PreprocessorInput,
    SceneReading,
    StrategistBriefing,
)
from luna_narrates.kit.templates import bullet_list, render
from luna_narrates.llm.calls import AgentModel, ModelCall, run_structured

HERE = Path(__file__).parent
NAME = "preprocessor"


def scene_budget(token_budget: int) -> int:
    """The share of the briefing the scene reading may take; memory items get the rest."""
    return max(40, min(120, token_budget // 4))


def memory_budget(token_budget: int) -> int:
    """What retrieval may always spend, however long the scene reading turns out."""
    return token_budget - scene_budget(token_budget)


# Room for the widest scene reading the schema allows, so a grammar-bound answer is never cut
# off mid-JSON (which costs a retry); the budget is then enforced by fit_to_budget.
MAX_SCENE_TOKENS = 220


def prompts(data: PreprocessorInput) -> tuple[str, str]:
    system = render(HERE, "system.txt", frame=render_frame(data.story))
    user = render(
        HERE,
        "turn.txt",
        recent_turns=render_turns(data.recent_turns),
        user_action=data.user_action,
        token_budget=scene_budget(data.token_budget),
    )
    return system, user


def memory_text(briefing: StrategistBriefing) -> str:
    return "\n".join(item.line() for item in briefing.memory) or "(nothing yet)"


def briefing_text(briefing: StrategistBriefing) -> str:
    """The briefing exactly as the Strategist reads it; its tokens are what the budget counts."""
    return (
        f"Situation: {briefing.situation}\n"
        f"Player intent: {briefing.player_intent}\n"
        f"Open threads:\n{bullet_list(briefing.open_threads)}\n"
        f"What the story remembers:\n{memory_text(briefing)}"
    )


def fit_to_budget(
    briefing: StrategistBriefing, budget: int, count_tokens: Callable[[str], int]
) -> StrategistBriefing:
    """Drops the least important parts until the briefing fits.

    Order of sacrifice: the lowest-ranked memory items (retrieval ranked them), then open
    threads, then the situation and intent are shortened: the Strategist cannot plan without
    those, and memory was packed to leave them their share.
    """
    fitted = briefing.model_copy(deep=True)

    def over() -> bool:
        return count_tokens(briefing_text(fitted)) > budget

    while fitted.memory and over():
        fitted.memory.pop()
    while fitted.open_threads and over():
        fitted.open_threads.pop()
    while over() and len(fitted.situation) > 40:
        fitted.situation = fitted.situation[: int(len(fitted.situation) * 0.8)].rstrip() + "…"
    while over() and len(fitted.player_intent) > 40:
        fitted.player_intent = fitted.player_intent[: int(len(fitted.player_intent) * 0.8)] + "…"
    return fitted


async def run(
    data: PreprocessorInput, model: AgentModel, count_tokens: Callable[[str], int] | None = None
) -> tuple[StrategistBriefing, ModelCall]:
    """`count_tokens` is the tokenizer of the model that reads the briefing (the Strategist's);
    the Preprocessor's own by default."""
    system, user = prompts(data)
    # Reading, not storytelling: a cooler temperature keeps it short and on the facts.
    call = model.call(NAME, system, user, max_tokens=MAX_SCENE_TOKENS, temperature=0.3)
    scene, record = await run_structured(call, SceneReading)
    briefing = StrategistBriefing(**scene.model_dump(), memory=data.memory)
    fitted = fit_to_budget(briefing, data.token_budget, count_tokens or model.count_tokens)
    record.output = fitted.model_dump(mode="json")
    return fitted, record
