"""Strategist run: a typed plan (ResponseTemplate) from the briefing and the player's action."""

from __future__ import annotations

from pathlib import Path

from luna_narrates.agents.frame import render_frame
from luna_narrates.agents.preprocessor.agent import briefing_text
from luna_narrates.agents.strategist.schemas import ResponseTemplate, StrategistInput
from luna_narrates.kit.templates import render
from luna_narrates.llm.calls import AgentModel, ModelCall, run_structured

HERE = Path(__file__).parent
NAME = "strategist"
# Room for the widest plan the schema allows: a grammar-bound answer cut off mid-JSON fails.
MAX_PLAN_TOKENS = 800


def prompts(data: StrategistInput) -> tuple[str, str]:
    system = render(HERE, "system.txt", frame=render_frame(data.story))
    user = render(
        HERE, "turn.txt", briefing=briefing_text(data.briefing), user_action=data.user_action
    )
    return system, user


async def run(data: StrategistInput, model: AgentModel) -> tuple[ResponseTemplate, ModelCall]:
    system, user = prompts(data)
    return await run_structured(model.call(NAME, system, user, MAX_PLAN_TOKENS), ResponseTemplate)
