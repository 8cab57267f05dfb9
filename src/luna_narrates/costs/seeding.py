"""Keeps genai-prices' rows of `model_pricing` in step with the installed genai-prices, at
start-up: one row per price of each model of our paid providers, over the time it holds.

A model seen for the first time gets genai-prices' whole history (its dated price changes
become rows, the first valid since always). Afterwards what was recorded stays recorded: when
a newer genai-prices prices a model differently, the price in force is ended now and the new
one starts now; a change genai-prices dates ahead ends it on that date instead. Nothing
changed, nothing written. A model genai-prices stops listing keeps its last price.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from genai_prices.data_snapshot import DataSnapshot, get_snapshot
from genai_prices.types import (
    ModelInfo,
    ModelPrice,
    StartDateConstraint,
    TieredPrices,
    TimeOfDateConstraint,
)
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.costs import repository
from luna_narrates.costs.pricing import GENAI, OURS, tiers_of
from luna_narrates.db.tables import ModelPricing

BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)  # genai-prices' first price of a model has no start
PLACES = Decimal("1e-8")  # the scale of the price columns
# genai-prices' price of each kind of token, as our columns and tiers name the kinds.
KINDS = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write",
}

Prices = tuple[Decimal, Decimal, Decimal | None, Decimal | None]
Key = tuple[str, str]  # our provider, genai-prices' model id


@dataclass(frozen=True)
class Period:
    valid_from: datetime
    valid_to: datetime | None
    prices: Prices
    tiers: dict[str, list[dict[str, Any]]] | None = None  # as the `tiers` column holds them


@dataclass(frozen=True)
class Synced:
    added: int
    ended: int  # ended now, or removed before they started
    retimed: int  # in force now, with a new end (a price change genai-prices dates ahead)


@dataclass
class Changes:
    ended: list[uuid.UUID] = field(default_factory=list)
    retimed: dict[uuid.UUID, datetime | None] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)


async def sync(
    session: AsyncSession, snapshot: DataSnapshot | None = None, now: datetime | None = None
) -> Synced:
    """Brings genai-prices' rows up to `snapshot` (the installed one); the caller commits."""
    now = now or datetime.now(UTC)
    wanted = periods(snapshot or get_snapshot())
    await repository.lock_for_sync(session)
    held: dict[Key, list[ModelPricing]] = defaultdict(list)
    for row in await repository.rows_of(session, GENAI):
        held[(row.provider, row.model)].append(row)
    changes = Changes()
    for key, history in wanted.items():
        if key in held:
            _bring_up(changes, key, held[key], history, now)
        else:
            changes.added += [_row(key, period) for period in history]
    await repository.end(session, changes.ended, now)
    await repository.retime(session, changes.retimed)
    await repository.add(session, changes.added)
    return Synced(len(changes.added), len(changes.ended), len(changes.retimed))


def _bring_up(
    changes: Changes, key: Key, rows: list[ModelPricing], history: list[Period], now: datetime
) -> None:
    """One model's rows from now on made genai-prices' periods from now on; the past stays."""
    first, *rest = [p for p in history if p.valid_to is None or p.valid_to > now]
    current = next((r for r in rows if _holds(r, now)), None)
    if current is not None and _terms(current) == _terms(first):
        if current.valid_to != first.valid_to:
            changes.retimed[current.id] = first.valid_to
    else:
        if current is not None:
            changes.ended.append(current.id)
        rest.insert(0, replace(first, valid_from=now))
    later = [r for r in rows if r.valid_from > now]
    if [_span(r) for r in later] != [_span(p) for p in rest]:
        changes.ended += [r.id for r in later]
        changes.added += [_row(key, period) for period in rest]


def periods(snapshot: DataSnapshot) -> dict[Key, list[Period]]:
    """Each priced model of our paid providers, with its prices over time."""
    found: dict[Key, list[Period]] = {}
    for provider in snapshot.providers:
        ours = OURS.get(provider.id)
        if ours is None:
            continue
        for model in provider.models:
            if history := _history(model):
                found[(ours, model.id)] = history
    return found


def _history(model: ModelInfo) -> list[Period]:
    """genai-prices' dated prices as periods, read through its own choice of price at each
    date. Empty for a model priced in what a text call does not count (audio hours,
    characters) or by the time of day (off-peak prices), which a row cannot say."""
    conditions = model.prices if isinstance(model.prices, list) else []
    if any(isinstance(c.constraint, TimeOfDateConstraint) for c in conditions):
        return []
    starts = sorted(
        {
            datetime.combine(c.constraint.start_date, time(), UTC)
            for c in conditions
            if isinstance(c.constraint, StartDateConstraint)
        }
    )
    found: list[Period] = []
    for start in [BEGINNING, *starts]:
        price = model.get_prices(start)
        prices = _token_prices(price)
        if prices is None:
            return []
        period = Period(start, None, prices, _tiers(price))
        if found and _terms(found[-1]) == _terms(period):
            continue
        if found:
            found[-1] = replace(found[-1], valid_to=start)
        found.append(period)
    return found


def _token_prices(price: ModelPrice) -> Prices | None:
    """Per million tokens, the base of a tiered price; a missing input or output price is
    free, as genai-prices bills it."""
    values = [_base(getattr(price, key)) for key in KINDS]
    priced = [key for key, value in vars(price).items() if value is not None]
    if values[0] is None and values[1] is None and priced:
        return None
    input_price, output_price, cache_read, cache_write = values
    return (
        (input_price or Decimal(0)).quantize(PLACES),
        (output_price or Decimal(0)).quantize(PLACES),
        cache_read.quantize(PLACES) if cache_read is not None else None,
        cache_write.quantize(PLACES) if cache_write is not None else None,
    )


def _base(value: Decimal | TieredPrices | None) -> Decimal | None:
    return value.base if isinstance(value, TieredPrices) else value


def _tiers(price: ModelPrice) -> dict[str, list[dict[str, Any]]] | None:
    tiers = {
        kind: [
            {"above_input_tokens": tier.start, "usd_per_mtok": str(tier.price)}
            for tier in value.tiers
        ]
        for key, kind in KINDS.items()
        if isinstance(value := getattr(price, key), TieredPrices)
    }
    return tiers or None


def _holds(row: ModelPricing, at: datetime) -> bool:
    return row.valid_from <= at and (row.valid_to is None or at < row.valid_to)


def _prices(row: ModelPricing) -> Prices:
    return (
        row.input_usd_per_mtok,
        row.output_usd_per_mtok,
        row.cache_read_usd_per_mtok,
        row.cache_write_usd_per_mtok,
    )


def _terms(item: ModelPricing | Period) -> tuple[Any, ...]:
    """A row's or a period's prices and tiers, to compare one with the other."""
    prices = item.prices if isinstance(item, Period) else _prices(item)
    return (*prices, tiers_of(item.tiers))


def _span(item: ModelPricing | Period) -> tuple[Any, ...]:
    return (item.valid_from, item.valid_to, *_terms(item))


def _row(key: Key, period: Period) -> dict[str, Any]:
    provider, model = key
    input_price, output_price, cache_read, cache_write = period.prices
    return {
        "provider": provider,
        "model": model,
        "input_usd_per_mtok": input_price,
        "output_usd_per_mtok": output_price,
        "cache_read_usd_per_mtok": cache_read,
        "cache_write_usd_per_mtok": cache_write,
        "valid_from": period.valid_from,
        "valid_to": period.valid_to,
        "tiers": period.tiers,
        "source": GENAI,
    }
