"""The prices an operator sees and sets: what is in force (and was), a model's own price from
now on, and its end, after which genai-prices' price applies again. A change never rewrites
the past: the previous row is ended, so every cost row still points at the price it used.
The caller commits."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.costs import repository
from luna_narrates.costs.errors import NoOverride
from luna_narrates.costs.pricing import FREE_PROVIDERS, OPERATOR, genai_model
from luna_narrates.costs.schemas import ModelPriceOut, PriceOverride
from luna_narrates.errors import InvalidInput
from luna_narrates.llm.registry import ModelSpec


async def listed(
    session: AsyncSession,
    provider: str | None = None,
    model: str | None = None,
    include_history: bool = False,
    now: datetime | None = None,
) -> list[ModelPriceOut]:
    """Prices in force now (every row with `include_history`). `model` is matched as written
    and as the genai-prices model it names, so a dated name shows the price it gets."""
    names: list[str] = []
    if model is not None:
        names.append(model)
        if provider is not None and (matched := genai_model(provider, model)):
            names.append(matched[1])
    rows = await repository.listed(
        session,
        now or datetime.now(UTC),
        provider=provider,
        models=names,
        history=include_history,
    )
    return [ModelPriceOut.model_validate(row) for row in rows]


async def set_price(
    session: AsyncSession, spec: ModelSpec, price: PriceOverride, now: datetime | None = None
) -> ModelPriceOut:
    """The operator's price for `spec` from now on, ending the one they set before."""
    if spec.provider in FREE_PROVIDERS:
        raise InvalidInput(
            f"{spec} runs on your own hardware, and its calls cost nothing: there is no price "
            "to set."
        )
    now = now or datetime.now(UTC)
    previous = await repository.open_row(session, spec.provider, spec.name, OPERATOR)
    if previous is not None:
        await repository.end(session, [previous.id], now)
    row = {
        "provider": spec.provider,
        "model": spec.name,
        **price.model_dump(),
        "valid_from": now,
        "valid_to": None,
        "source": OPERATOR,
    }
    [added] = await repository.add(session, [row])
    return ModelPriceOut(id=added, **row)


async def end_price(
    session: AsyncSession, spec: ModelSpec, now: datetime | None = None
) -> ModelPriceOut:
    """Ends the operator's price for `spec` now; NoOverride (404) when none is in force."""
    row = await repository.open_row(session, spec.provider, spec.name, OPERATOR)
    if row is None:
        raise NoOverride(spec)
    now = now or datetime.now(UTC)
    ended = ModelPriceOut.model_validate(row).model_copy(update={"valid_to": now})
    await repository.end(session, [row.id], now)
    return ended
