"""The rows a finished turn leaves: the turn, one agent run per model call, one cost row each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from luna_narrates.costs import service as costs
from luna_narrates.costs.pricing import PriceBook
from luna_narrates.db.tables import AgentRun, CostLog
from luna_narrates.llm.calls import ModelCall
from luna_narrates.narration.schemas import AgentReport, FallbackReport


@dataclass(frozen=True)
class PricedCall:
    """A model call's report, and the price row (if any) its cost was computed from."""

    report: AgentReport
    pricing_id: uuid.UUID | None


def agent_run_row(
    position: int,
    record: ModelCall,
    agent_input: dict[str, Any],
    priced: PricedCall,
    story_id: uuid.UUID | None,
    turn_id: uuid.UUID | None,
    stage: str = "turn",
    character_id: uuid.UUID | None = None,
) -> AgentRun:
    """The agent's row, with its cost-ledger row attached; `stage` says whether the call was
    made during the turn, by a memory job after it, or outside any story (a character)."""
    report = priced.report
    usage = {
        "agent": record.agent,
        "provider": record.spec.provider,
        "model": record.spec.name,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cache_read_tokens": record.cache_read_tokens,
        "cache_write_tokens": record.cache_write_tokens,
    }
    cost = CostLog(
        story_id=story_id,
        turn_id=turn_id,
        cost_usd=report.cost_usd,
        price_known=report.price_known,
        pricing_id=priced.pricing_id,
        **usage,
    )
    return AgentRun(
        turn_id=turn_id,
        character_id=character_id,
        stage=stage,
        position=position,
        prompt=record.prompt,
        prompt_hash=record.prompt_hash,
        tokens_estimated=record.tokens_estimated,
        input=agent_input,
        output=record.output,
        seconds=record.seconds,
        fallbacks=[attempt.as_json() for attempt in record.fallbacks],
        cost_usd=report.cost_usd if report.price_known else None,
        cost_log=cost,
        **usage,
    )


def price_call(record: ModelCall, prices: PriceBook) -> PricedCall:
    tokens = (
        record.input_tokens,
        record.output_tokens,
        record.cache_read_tokens,
        record.cache_write_tokens,
    )
    price = prices.price(record.spec, *tokens)
    report = AgentReport(
        agent=record.agent,
        provider=record.spec.provider,
        model=record.spec.name,
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        cache_read_tokens=record.cache_read_tokens,
        cache_write_tokens=record.cache_write_tokens,
        fallbacks=[FallbackReport(**attempt.as_json()) for attempt in record.fallbacks],
        tokens_estimated=record.tokens_estimated,
        seconds=round(record.seconds, 4),
        cost_usd=price.cost_usd,
        price_known=price.known,
        cache_saving_usd=costs.cache_saving(
            prices, record.spec, price, *tokens[:2], sum(tokens[2:])
        ),
    )
    return PricedCall(report, price.pricing_id)
