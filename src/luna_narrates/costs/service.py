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
    paid: Price,
    input_tokens: int,
    output_tokens: int,
    cached_tokens: int,
) -> Decimal:
    """What prompt caching saved on a call that `paid` this: its price had every input token
    been billed at the plain input rate, less what it paid (negative when a cache write cost
    more than it saved yet). `cached_tokens`: the call's cache reads and writes."""
    if not cached_tokens:
        return Decimal(0)
    plain = prices.price(spec, input_tokens, output_tokens)
    if not (paid.known and plain.known):
        return Decimal(0)
    return plain.cost_usd - paid.cost_usd
