"""Prices come from `model_pricing`, seeded from genai-prices at start-up and computed exactly
as genai-prices computes them; local models are free; an unknown price is said to be unknown."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from genai_prices import Usage, calc_price
from genai_prices.data_snapshot import get_snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from luna_narrates.costs import pricing, seeding
from luna_narrates.costs.pricing import PriceBook, Rate, tiers_of
from luna_narrates.costs.service import cache_saving
from luna_narrates.db.tables import ModelPricing
from luna_narrates.llm.registry import ModelSpec
from luna_narrates.services import Services

MILLION = 1_000_000
USAGE = {
    "input_tokens": 12_345,
    "output_tokens": 678,
    "cache_read_tokens": 4_000,
    "cache_write_tokens": 1_500,
}


def genai_prices(spec: ModelSpec, at: datetime, **usage: int) -> Decimal | None:
    try:
        found = calc_price(
            Usage(**usage), spec.name, provider_id=spec.provider, genai_request_timestamp=at
        )
    except LookupError:
        return None
    return found.total_price


def book_of_the_snapshot() -> PriceBook:
    """The book the seeding would write, without a database."""
    rates = [
        Rate(uuid.uuid4(), provider, model, "genai-prices", *period.prices,
             period.valid_from, period.valid_to, tiers_of(period.tiers))
        for (provider, model), history in seeding.periods(get_snapshot()).items()
        for period in history
    ]  # fmt: skip
    return PriceBook(rates, datetime.now(UTC))


SNAPSHOT_BOOK = book_of_the_snapshot()
PRICED = sorted(seeding.periods(get_snapshot()))


async def test_every_seeded_price_is_genai_prices_own_at_its_time(services: Services) -> None:
    async with services.db.sessions() as session:
        book = await pricing.load(session)
        rows = (
            await session.scalars(select(ModelPricing).where(ModelPricing.source == "genai-prices"))
        ).all()
    assert {(r.provider, r.model) for r in rows} == set(PRICED)
    assert {r.provider for r in rows} == {"openai", "anthropic", "google"}
    assert any(r.valid_to is not None for r in rows), "genai-prices' dated changes are history"
    for row in rows:
        spec = ModelSpec(row.provider, row.model)
        found = book.price(spec, **USAGE, at=row.valid_from)
        expected = genai_prices(spec, row.valid_from, **USAGE)
        if expected is None:  # e.g. `ft:gpt-4o`, which genai-prices matches no name to
            assert not found.known, row.model
            continue
        assert (found.cost_usd, found.known, found.pricing_id) == (expected, True, row.id), spec


@settings(max_examples=300, deadline=None)
@given(
    model=st.sampled_from(PRICED),
    input_tokens=st.integers(0, 2_000_000),  # past the tiers too (100,000 tokens and up)
    output_tokens=st.integers(0, 100_000),
    read=st.floats(0, 1),
    write=st.floats(0, 1),
)
def test_any_usage_costs_what_genai_prices_says(
    model: tuple[str, str], input_tokens: int, output_tokens: int, read: float, write: float
) -> None:
    """Input tokens include the cached ones, as pydantic-ai and genai-prices count them."""
    cache_read = int(input_tokens * read)
    cache_write = int((input_tokens - cache_read) * write)
    usage = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
    }
    spec = ModelSpec(*model)
    found = SNAPSHOT_BOOK.price(spec, **usage)
    expected = genai_prices(spec, SNAPSHOT_BOOK.as_of, **usage)
    assert found.cost_usd == (expected if expected is not None else 0)
    assert found.known is (expected is not None)


def test_dated_names_find_their_model_and_the_cache_saving_is_against_plain_input() -> None:
    dated = ModelSpec("anthropic", "claude-sonnet-4-5-20250929")
    price = SNAPSHOT_BOOK.price(dated, 10_000, 500, 8_000, 0)
    assert price.known and price.cost_usd == genai_prices(
        dated, SNAPSHOT_BOOK.as_of, input_tokens=10_000, output_tokens=500, cache_read_tokens=8_000
    )
    plain = SNAPSHOT_BOOK.price(dated, 10_000, 500)
    assert cache_saving(SNAPSHOT_BOOK, dated, price, 10_000, 500, 8_000) == plain.cost_usd - (
        price.cost_usd
    )
    assert cache_saving(SNAPSHOT_BOOK, dated, plain, 10_000, 500, 0) == 0


def test_past_a_tier_every_token_of_its_kind_pays_the_tier_price() -> None:
    tiered = [
        (key, period)
        for key, history in seeding.periods(get_snapshot()).items()
        for period in history
        if period.tiers and "input" in period.tiers
    ]
    assert tiered, "genai-prices tiers some prices above 128,000 or 200,000 input tokens"
    for (provider, model), period in tiered:
        above, tier_price = tiers_of(period.tiers)["input"][0]
        spec, at = ModelSpec(provider, model), period.valid_from
        base = SNAPSHOT_BOOK.price(spec, above, 0, at=at).cost_usd
        past = SNAPSHOT_BOOK.price(spec, above + 1, 0, at=at).cost_usd
        assert (base, past) == (
            period.prices[0] * above / MILLION,
            tier_price * (above + 1) / MILLION,
        )


def test_models_on_the_players_hardware_cost_nothing() -> None:
    for spec in (
        ModelSpec("local", "smollm2"),
        ModelSpec("ollama", "llama3.1"),
        ModelSpec("test", "x"),
    ):
        assert SNAPSHOT_BOOK.price(spec, 10_000, 10_000) == pricing.FREE


def test_unknown_price_is_not_passed_off_as_free() -> None:
    for spec in (
        ModelSpec("openai-compatible", "my-private-model"),
        ModelSpec("anthropic", "claude-that-does-not-exist"),
        ModelSpec("openai", "whisper-1"),  # priced per audio hour: no token price to keep
    ):
        result = SNAPSHOT_BOOK.price(spec, 1_000, 1_000)
        assert not result.known and result.pricing_id is None
