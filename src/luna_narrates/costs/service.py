"""Prices model calls. Unknown prices are reported as unknown, never silently as zero."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from genai_prices import Usage, calc_price

from luna_narrates.llm.registry import ModelSpec

# Providers that run on the player's own hardware: their calls cost nothing.
FREE_PROVIDERS = frozenset({"local", "test", "ollama", "lmstudio", "llama-cpp-server"})
GENAI_PRICES_PROVIDER = {"openai": "openai", "anthropic": "anthropic", "google": "google"}


@dataclass(frozen=True)
class Price:
    cost_usd: Decimal
    known: bool


FREE = Price(Decimal(0), True)
UNKNOWN = Price(Decimal(0), False)


def price(
    spec: ModelSpec,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> Price:
    if spec.provider in FREE_PROVIDERS:
        return FREE
    try:
        calculation = calc_price(
            Usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cache_read_tokens=cache_read_tokens or None,
                cache_write_tokens=cache_write_tokens or None,
            ),
            spec.name,
            provider_id=GENAI_PRICES_PROVIDER.get(spec.provider, spec.provider),
        )
    except LookupError:
        return UNKNOWN
    return Price(Decimal(calculation.total_price), True)


def cache_saving(
    spec: ModelSpec,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int,
    cache_write_tokens: int,
) -> Decimal:
    """What prompt caching saved on a call: its price had every input token been billed at
    the plain input rate, less its price (negative when a cache write cost more than it saved
    yet)."""
    if not (cache_read_tokens or cache_write_tokens):
        return Decimal(0)
    cached = price(spec, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
    plain = price(spec, input_tokens, output_tokens)
    if not (cached.known and plain.known):
        return Decimal(0)
    return plain.cost_usd - cached.cost_usd


def estimate(spec: ModelSpec, input_tokens: int, output_tokens: int) -> Price:
    """The cost of a call that has not happened yet, from expected token counts."""
    return price(spec, input_tokens, output_tokens)
