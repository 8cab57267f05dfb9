"""/pricing: what model calls cost per million tokens, from genai-prices or set by an operator
(whose price wins), with the history of each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from luna_narrates.api.deps import ServicesDep, SessionDep
from luna_narrates.costs import overrides
from luna_narrates.costs.schemas import ModelPriceOut, PriceOverride

router = APIRouter(prefix="/pricing", tags=["costs"])


@router.get("")
async def list_prices(
    session: SessionDep,
    provider: Annotated[str | None, Query(max_length=60)] = None,
    model: Annotated[
        str | None,
        Query(max_length=200, description="As written in provider:model; dated names match."),
    ] = None,
    include_history: Annotated[
        bool, Query(description="Every price each model has had, and any dated to come.")
    ] = False,
) -> list[ModelPriceOut]:
    """The prices in force now, each saying its source: an operator's wins over
    genai-prices'."""
    return await overrides.listed(session, provider, model, include_history)


@router.put("/{provider}/{model:path}")
async def set_price(
    provider: str, model: str, price: PriceOverride, services: ServicesDep, session: SessionDep
) -> ModelPriceOut:
    """The model's price from now on, over genai-prices' (ending the one set before). The
    model is named as in `provider:model`; a genai-prices id (`claude-sonnet-4-5`) covers
    its dated names too."""
    spec = services.registry.spec(f"{provider}:{model}")
    return await overrides.set_price(session, spec, price)


@router.delete("/{provider}/{model:path}")
async def end_price(
    provider: str, model: str, services: ServicesDep, session: SessionDep
) -> ModelPriceOut:
    """Ends the operator's price now (404 when none is in force): genai-prices' applies
    again."""
    spec = services.registry.spec(f"{provider}:{model}")
    return await overrides.end_price(session, spec)
