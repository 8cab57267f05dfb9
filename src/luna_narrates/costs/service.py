"""Prices model calls from a price book: what a call cost, what its cache saved, and what a
call that has not happened yet should cost. Unknown prices are reported as unknown, never
silently as zero."""

from __future__ import annotations

from decimal import Decimal

from luna_narrates.costs.pricing import Price, PriceBook
from luna_narrates.llm.registry import ModelSpec


def cache_saving(
    prices: PriceBook,
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
    cached = prices.price(spec, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
    plain = prices.price(spec, input_tokens, output_tokens)
    if not (cached.known and plain.known):
        return Decimal(0)
    return plain.cost_usd - cached.cost_usd


def estimate(prices: PriceBook, spec: ModelSpec, input_tokens: int, output_tokens: int) -> Price:
    """The cost of a call that has not happened yet, from expected token counts."""
    return prices.price(spec, input_tokens, output_tokens)
