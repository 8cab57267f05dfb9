"""Strategist run: a typed plan (ResponseTemplate) from the briefing and the player's action."""

from __future__ import annotations

from pathlib import Path

from luna_narrates.agents.frame import render_frame
from luna_narrates.agents.strategist.schemas import ResponseTemplate, StrategistInput
from luna_narrates.kit.templates import bullet_list, render
from luna_narrates.llm.calls import AgentModel, ModelCall, run_structured

HERE = Path(__file__).parent
NAME = "strategist"
# Room for the widest plan the schema allows: a grammar-bound answer cut off mid-JSON fails.
MAX_PLAN_TOKENS = 800


def prompts(data: StrategistInput) -> tuple[str, str]:
    briefing = data.briefing
    system = render(HERE, "system.txt", frame=render_frame(data.story))
    user = render(
        HERE,
        "turn.txt",
        situation=briefing.situation,
        player_intent=briefing.player_intent,
        relevant_facts=bullet_list(briefing.relevant_facts),
        characters=bullet_list(briefing.characters),
        open_threads=bullet_list(briefing.open_threads),
        user_action=data.user_action,
    )
    return system, user


async def run(data: StrategistInput, model: AgentModel) -> tuple[ResponseTemplate, ModelCall]:
    system, user = prompts(data)
    return await run_structured(model.call(NAME, system, user, MAX_PLAN_TOKENS), ResponseTemplate)
