"""Prices come from genai-prices; local models are free; an unknown price is said to be unknown."""

from __future__ import annotations

from decimal import Decimal

from genai_prices import Usage, calc_price

from luna_narrates.costs.service import price
from luna_narrates.llm.registry import ModelSpec


def test_cloud_model_is_priced_by_genai_prices() -> None:
    spec = ModelSpec("anthropic", "claude-sonnet-4-5")
    expected = calc_price(
        Usage(input_tokens=1_000, output_tokens=500), "claude-sonnet-4-5", provider_id="anthropic"
    ).total_price
    result = price(spec, 1_000, 500)
    assert result.known
    assert result.cost_usd == expected
    assert result.cost_usd > 0


def test_models_on_the_players_hardware_cost_nothing() -> None:
    for spec in (
        ModelSpec("local", "smollm2"),
        ModelSpec("ollama", "llama3.1"),
        ModelSpec("test", "x"),
    ):
        assert price(spec, 10_000, 10_000).cost_usd == Decimal(0)
        assert price(spec, 10_000, 10_000).known


def test_unknown_price_is_not_passed_off_as_free() -> None:
    result = price(ModelSpec("openai-compatible", "my-private-model"), 1_000, 1_000)
    assert not result.known
