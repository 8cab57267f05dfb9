"""The cost of a turn estimated before it runs, from the prompt sizes each agent will see."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from luna_narrates.agents.frame import render_turns
from luna_narrates.agents.preprocessor import agent as preprocessor
from luna_narrates.config import AgentName, Settings
from luna_narrates.costs.pricing import PriceBook
from luna_narrates.kit.money import plain
from luna_narrates.llm.calls import AgentModel
from luna_narrates.llm.tokens import estimate_tokens
from luna_narrates.narration.snapshot import Snapshot

PLAN_TOKENS_ESTIMATE = 300


def estimate(
    snapshot: Snapshot,
    models: dict[AgentName, AgentModel],
    settings: Settings,
    prices: PriceBook,
) -> dict[str, Any]:
    """What the turn is expected to cost before it runs: the `cost_estimate` event."""
    frame = estimate_tokens(snapshot.frame.model_dump_json())
    history = estimate_tokens(render_turns(snapshot.recent))
    budget = settings.briefing_token_budget
    expected: dict[AgentName, tuple[int, int]] = {
        "preprocessor": (frame + history, preprocessor.scene_budget(budget)),
        "strategist": (frame + budget, PLAN_TOKENS_ESTIMATE),
        "writer": (frame + PLAN_TOKENS_ESTIMATE, settings.writer_target_tokens),
    }
    per_agent = []
    total = Decimal(0)
    complete = True
    for agent, (tokens_in, tokens_out) in expected.items():
        spec = models[agent].spec
        price = prices.price(spec, tokens_in, tokens_out)
        total += price.cost_usd
        complete &= price.known
        per_agent.append(
            {
                "agent": agent,
                "model": str(spec),
                "estimated_input_tokens": tokens_in,
                "estimated_output_tokens": tokens_out,
                "estimated_cost_usd": plain(price.cost_usd),
                "price_known": price.known,
            }
        )
    return {"estimated_cost_usd": plain(total), "price_known": complete, "agents": per_agent}
