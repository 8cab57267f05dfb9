"""Preprocessor run: the model condenses memory into a briefing, then the budget is enforced."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from luna_narrates.agents.frame import render_frame, render_turns
from luna_narrates.agents.preprocessor.schemas import PreprocessorInput, StrategistBriefing
from luna_narrates.kit.templates import render
from luna_narrates.llm.calls import AgentModel, ModelCall, run_structured

HERE = Path(__file__).parent
NAME = "preprocessor"


def answer_limit(token_budget: int) -> int:
    """Room for the widest briefing the schema allows, so a grammar-bound answer is never cut
    off mid-JSON (which costs a retry); the budget is then enforced exactly by fit_to_budget."""
    return token_budget * 2


def prompts(data: PreprocessorInput) -> tuple[str, str]:
    system = render(HERE, "system.txt", frame=render_frame(data.story))
    user = render(
        HERE,
        "turn.txt",
        recent_turns=render_turns(data.recent_turns),
        user_action=data.user_action,
        token_budget=data.token_budget,
    )
    return system, user


def briefing_text(briefing: StrategistBriefing) -> str:
    return briefing.model_dump_json()


def fit_to_budget(
    briefing: StrategistBriefing, budget: int, count_tokens: Callable[[str], int]
) -> StrategistBriefing:
    """Drops the least important items, then shortens the situation, until the briefing fits.

    Order of sacrifice: open threads, then characters, then the oldest relevant facts; the
    situation and the player's intent go last because the Strategist cannot plan without them.
    """
    fitted = briefing.model_copy(deep=True)
    for field in ("open_threads", "characters", "relevant_facts"):
        items: list[str] = getattr(fitted, field)
        while items and count_tokens(briefing_text(fitted)) > budget:
            items.pop()
    while count_tokens(briefing_text(fitted)) > budget and len(fitted.situation) > 40:
        fitted.situation = fitted.situation[: int(len(fitted.situation) * 0.8)].rstrip() + "…"
    while count_tokens(briefing_text(fitted)) > budget and len(fitted.player_intent) > 40:
        fitted.player_intent = fitted.player_intent[: int(len(fitted.player_intent) * 0.8)] + "…"
    return fitted


async def run(data: PreprocessorInput, model: AgentModel) -> tuple[StrategistBriefing, ModelCall]:
    system, user = prompts(data)
    call = model.call(NAME, system, user, max_tokens=answer_limit(data.token_budget))
    briefing, record = await run_structured(call, StrategistBriefing)
    fitted = fit_to_budget(briefing, data.token_budget, model.count_tokens)
    record.output = fitted.model_dump(mode="json")
    return fitted, record
