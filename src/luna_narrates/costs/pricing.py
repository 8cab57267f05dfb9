"""The price book: what a model call costs, from the `model_pricing` rows in force at the time
of the call. An operator's row wins over genai-prices' row; models on the player's own hardware
cost nothing; a model with no row has an unknown price, never a silent zero.

The arithmetic is genai-prices' own: input tokens are counted as the provider reports them,
cache reads and writes included (pydantic-ai's usage counts them so too), and those are billed
at their own prices where the model has them, the rest of the input at the input price. A
tiered price (a higher one once a call's input passes e.g. 200,000 tokens) bills every token
of its kind at the tier's price, as genai-prices does.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from genai_prices.data_snapshot import get_snapshot
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.costs import repository
from luna_narrates.llm.registry import ModelSpec

# Providers that run on the player's own hardware: their calls cost nothing.
FREE_PROVIDERS = frozenset(
    {"local", "test", "ollama", "ollama-native", "lmstudio", "llama-cpp-server"}
)
# Our paid providers, by the id genai-prices gives them.
GENAI_PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "google": "google"}
OURS = {theirs: ours for ours, theirs in GENAI_PROVIDERS.items()}
GENAI, OPERATOR = "genai-prices", "operator"
MILLION = Decimal(1_000_000)
Tiers = Mapping[str, tuple[tuple[int, Decimal], ...]]  # kind: (above input tokens, price), …


@dataclass(frozen=True)
class Price:
    cost_usd: Decimal
    known: bool
    pricing_id: uuid.UUID | None = None  # the model_pricing row it was computed from


FREE = Price(Decimal(0), True)
UNKNOWN = Price(Decimal(0), False)


@dataclass(frozen=True)
class Rate:
    """One row of `model_pricing`: USD per million tokens, in force from `valid_from` until
    `valid_to` (None: still)."""

    id: uuid.UUID
    provider: str
    model: str
    source: str
    input: Decimal
    output: Decimal
    cache_read: Decimal | None
    cache_write: Decimal | None
    valid_from: datetime
    valid_to: datetime | None
    tiers: Tiers

    @classmethod
    def of(cls, row: Any) -> Rate:
        return cls(
            id=row.id,
            provider=row.provider,
            model=row.model,
            source=row.source,
            input=row.input_usd_per_mtok,
            output=row.output_usd_per_mtok,
            cache_read=row.cache_read_usd_per_mtok,
            cache_write=row.cache_write_usd_per_mtok,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            tiers=tiers_of(row.tiers),
        )

    def holds_at(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)

    def cost(
        self, input_tokens: int, output_tokens: int, cache_read_tokens: int, cache_write_tokens: int
    ) -> Decimal:
        plain = input_tokens
        total = output_tokens * self._at("output", self.output, input_tokens)
        if self.cache_read is not None:
            plain -= cache_read_tokens
            total += cache_read_tokens * self._at("cache_read", self.cache_read, input_tokens)
        if self.cache_write is not None:
            plain -= cache_write_tokens
            total += cache_write_tokens * self._at("cache_write", self.cache_write, input_tokens)
        # A provider that counted its cached tokens outside the input would leave this below
        # zero; the cached tokens are then billed at their own prices and nothing more.
        return (max(plain, 0) * self._at("input", self.input, input_tokens) + total) / MILLION

    def _at(self, kind: str, base: Decimal, input_tokens: int) -> Decimal:
        """One kind's price in a call of `input_tokens`: past a tier, every token pays its."""
        for above, price in reversed(self.tiers.get(kind, ())):
            if input_tokens > above:
                return price
        return base


class PriceBook:
    """The prices as read at `as_of`; a call is priced at `as_of` unless told when it ran, so
    a turn's report and its cost rows, priced from one book, always agree."""

    def __init__(self, rates: Iterable[Rate], as_of: datetime) -> None:
        self.as_of = as_of
        self._rates: dict[tuple[str, str, str], list[Rate]] = defaultdict(list)
        for rate in rates:
            self._rates[(rate.source, rate.provider, rate.model)].append(rate)

    def rate(self, spec: ModelSpec, at: datetime | None = None) -> Rate | None:
        """The row that prices `spec` at `at`: the operator's for the name as written, then
        the operator's or genai-prices' for the model genai-prices matches the name to."""
        at = at or self.as_of
        candidates = [(OPERATOR, spec.provider, spec.name)]
        if matched := genai_model(spec.provider, spec.name):
            provider, model = matched
            candidates += [(OPERATOR, spec.provider, model), (GENAI, provider, model)]
        for key in candidates:
            for rate in self._rates.get(key, ()):
                if rate.holds_at(at):
                    return rate
        return None

    def price(
        self,
        spec: ModelSpec,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        at: datetime | None = None,
    ) -> Price:
        if spec.provider in FREE_PROVIDERS:
            return FREE
        rate = self.rate(spec, at)
        if rate is None:
            return UNKNOWN
        cost = rate.cost(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        return Price(cost, True, rate.id)


async def load(session: AsyncSession, as_of: datetime | None = None) -> PriceBook:
    """Every price row, history included (a few hundred rows: one short read)."""
    rows = await repository.price_rows(session)
    return PriceBook((Rate.of(row) for row in rows), as_of or datetime.now(UTC))


def tiers_of(stored: Mapping[str, list[dict[str, Any]]] | None) -> Tiers:
    """The `tiers` column read: each kind's tiers, lowest first."""
    return {
        kind: tuple(
            sorted((int(t["above_input_tokens"]), Decimal(t["usd_per_mtok"])) for t in tiers)
        )
        for kind, tiers in (stored or {}).items()
    }


@lru_cache(maxsize=4096)
def genai_model(provider: str, name: str) -> tuple[str, str] | None:
    """Our provider and genai-prices' model id for a name, by genai-prices' own matching, so
    that `claude-sonnet-4-5-20250929` finds `claude-sonnet-4-5`. A provider may price a model
    from another's list (Google falls back to Anthropic's): the row is then that provider's."""
    theirs = GENAI_PROVIDERS.get(provider)
    if theirs is None:
        return None
    snapshot = get_snapshot()
    try:
        found, model = snapshot.find_provider_model(name, None, theirs, None)
    except LookupError:
        return None
    owner = next((p.id for p in snapshot.providers if any(m is model for m in p.models)), found.id)
    ours = OURS.get(owner)
    return (ours, model.id) if ours else None
