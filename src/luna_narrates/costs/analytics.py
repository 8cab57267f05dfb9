"""What model calls cost: per story, per turn, per agent and model, per day and month, and a
projection at the current mix. Every number is summed from `cost_logs` (one row per model
call, every take and every background call counted: money spent is spent), so the answers
always agree with the turns' own reports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Select, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.costs import pricing
from luna_narrates.costs.schemas import (
    AgentSpend,
    PeriodSpend,
    Projection,
    StoryCosts,
    TurnCostPage,
    TurnCosts,
)
from luna_narrates.db.tables import CostLog, Story, Turn
from luna_narrates.llm.registry import ModelSpec

ZERO = Decimal(0)
PROJECTION_SAMPLE = 200  # the latest turns the mix is measured on
DEFAULT_COMPARE = "anthropic:claude-sonnet-4-5"
NOTHING: dict[str, Any] = {
    "calls": 0,
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_read_tokens": 0,
    "cost_usd": ZERO,
    "unpriced_calls": 0,
}


def _spend_columns() -> list[Any]:
    return [
        func.count(CostLog.id).label("calls"),
        func.coalesce(func.sum(CostLog.input_tokens), 0).label("input_tokens"),
        func.coalesce(func.sum(CostLog.output_tokens), 0).label("output_tokens"),
        func.coalesce(func.sum(CostLog.cache_read_tokens), 0).label("cache_read_tokens"),
        func.coalesce(func.sum(CostLog.cost_usd), ZERO).label("cost_usd"),
        func.count(case((~CostLog.price_known, 1))).label("unpriced_calls"),
    ]


def _spend(row: Any) -> dict[str, Any]:
    return {
        "calls": int(row.calls),
        "input_tokens": int(row.input_tokens),
        "output_tokens": int(row.output_tokens),
        "cache_read_tokens": int(row.cache_read_tokens),
        "cost_usd": Decimal(row.cost_usd),
        "unpriced_calls": int(row.unpriced_calls),
    }


def _stories_of(owner: uuid.UUID) -> Select[Any]:
    return select(Story.id).where(Story.owner_id == owner)


def _by_agent(query: Select[Any]) -> Select[Any]:
    return (
        query.add_columns(CostLog.agent, CostLog.provider, CostLog.model)
        .group_by(CostLog.agent, CostLog.provider, CostLog.model)
        .order_by(CostLog.agent, CostLog.provider, CostLog.model)
    )


async def agents(
    session: AsyncSession,
    *,
    story_id: uuid.UUID | None = None,
    since: datetime | None = None,
    owner: uuid.UUID | None = None,
) -> list[AgentSpend]:
    """Per agent and model: of one story, of one player's stories (`owner`), or of everything
    (calls outside any story, such as cards written, included)."""
    query = select(*_spend_columns())
    if story_id is not None:
        query = query.where(CostLog.story_id == story_id)
    if owner is not None:
        query = query.where(CostLog.story_id.in_(_stories_of(owner)))
    if since is not None:
        query = query.where(CostLog.created_at >= since)
    rows = (await session.execute(_by_agent(query))).all()
    return [
        AgentSpend(agent=r.agent, provider=r.provider, model=r.model, **_spend(r)) for r in rows
    ]


async def story(session: AsyncSession, story_id: uuid.UUID) -> StoryCosts:
    totals = (
        await session.execute(select(*_spend_columns()).where(CostLog.story_id == story_id))
    ).one()
    turns = int(await session.scalar(select(func.count()).where(Turn.story_id == story_id)) or 0)
    spend = _spend(totals)
    average = (spend["cost_usd"] / turns) if turns else ZERO
    return StoryCosts(
        story_id=story_id,
        turns=turns,
        avg_turn_cost_usd=average.quantize(Decimal("0.00000001")),
        by_agent=await agents(session, story_id=story_id),
        **spend,
    )


async def turns(
    session: AsyncSession, story_id: uuid.UUID, *, limit: int, offset: int
) -> TurnCostPage:
    """Each turn row (every take), newest first, with what its calls cost."""
    total = int(await session.scalar(select(func.count()).where(Turn.story_id == story_id)) or 0)
    page = (
        await session.execute(
            select(Turn.id, Turn.turn_number, Turn.version, Turn.is_selected)
            .where(Turn.story_id == story_id)
            .order_by(Turn.created_at.desc(), Turn.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    ids = [row.id for row in page]
    totals = {
        r.turn_id: r
        for r in (
            await session.execute(
                select(CostLog.turn_id, *_spend_columns())
                .where(CostLog.turn_id.in_(ids))
                .group_by(CostLog.turn_id)
            )
        ).all()
    }
    split: dict[uuid.UUID, list[AgentSpend]] = {i: [] for i in ids}
    rows = await session.execute(
        _by_agent(
            select(CostLog.turn_id, *_spend_columns()).where(CostLog.turn_id.in_(ids))
        ).group_by(CostLog.turn_id)
    )
    for r in rows.all():
        split[r.turn_id].append(
            AgentSpend(agent=r.agent, provider=r.provider, model=r.model, **_spend(r))
        )
    items = [
        TurnCosts(
            turn_id=row.id,
            turn_number=row.turn_number,
            version=row.version,
            is_selected=row.is_selected,
            by_agent=split[row.id],
            **(_spend(totals[row.id]) if row.id in totals else NOTHING),
        )
        for row in page
    ]
    return TurnCostPage(items=items, total=total)


async def periods(
    session: AsyncSession,
    unit: Literal["day", "month"],
    count: int,
    now: datetime | None = None,
    owner: uuid.UUID | None = None,
) -> list[PeriodSpend]:
    """The last `count` days or months (UTC), oldest first, empty ones included; of one
    player's stories (`owner`) or of everything."""
    now = now or datetime.now(UTC)
    start = _period_start(now, unit, count)
    bucket = func.date_trunc(unit, func.timezone("UTC", CostLog.created_at)).label("bucket")
    calls = {
        r.bucket.date(): r
        for r in (
            await session.execute(
                select(bucket, *_spend_columns())
                .where(CostLog.created_at >= start)
                .where(CostLog.story_id.in_(_stories_of(owner)) if owner else true())
                .group_by(bucket)
            )
        ).all()
    }
    turn_bucket = func.date_trunc(unit, func.timezone("UTC", Turn.created_at)).label("bucket")
    turn_counts = {
        r.bucket.date(): int(r.n)
        for r in (
            await session.execute(
                select(turn_bucket, func.count().label("n"))
                .where(Turn.created_at >= start)
                .where(Turn.story_id.in_(_stories_of(owner)) if owner else true())
                .group_by(turn_bucket)
            )
        ).all()
    }
    found: list[PeriodSpend] = []
    day = start.date()
    for _ in range(count):
        spend = _spend(calls[day]) if day in calls else NOTHING
        found.append(PeriodSpend(period=day, turns=turn_counts.get(day, 0), **spend))
        day = _next(day, unit)
    return found


async def projection(
    session: AsyncSession,
    turns_per_month: int,
    compare_model: str = DEFAULT_COMPARE,
    owner: uuid.UUID | None = None,
) -> Projection:
    """At the mix of the latest turns: a month of `turns_per_month`, and the same turns with
    every call on `compare_model` (priced by the price book: an operator's price, or
    genai-prices')."""
    latest = (
        select(Turn.id)
        .where(Turn.origin != "imported")
        .where(Turn.story_id.in_(_stories_of(owner)) if owner else true())
        .order_by(Turn.created_at.desc())
        .limit(PROJECTION_SAMPLE)
        .subquery()
    )
    row = (
        await session.execute(
            select(
                func.count(func.distinct(CostLog.turn_id)).label("turns"),
                func.coalesce(func.sum(CostLog.cost_usd), ZERO).label("cost"),
                func.coalesce(func.sum(CostLog.input_tokens), 0).label("input"),
                func.coalesce(func.sum(CostLog.output_tokens), 0).label("output"),
            ).where(CostLog.turn_id.in_(select(latest.c.id)))
        )
    ).one()
    sample = int(row.turns)
    per_turn = (Decimal(row.cost) / sample) if sample else ZERO
    avg_in = int(row.input) / sample if sample else 0.0
    avg_out = int(row.output) / sample if sample else 0.0
    compare = None
    if sample:
        found = (await pricing.load(session)).price(
            ModelSpec.parse(compare_model), round(avg_in), round(avg_out)
        )
        compare = found.cost_usd if found.known else None
    monthly = per_turn * turns_per_month
    compare_monthly = compare * turns_per_month if compare is not None else None
    saving = compare_monthly - monthly if compare_monthly is not None else None
    return Projection(
        turns_per_month=turns_per_month,
        sample_turns=sample,
        avg_turn_cost_usd=_cents(per_turn, 8),
        projected_monthly_usd=_cents(monthly, 4),
        avg_input_tokens=round(avg_in, 1),
        avg_output_tokens=round(avg_out, 1),
        compare_model=compare_model,
        compare_turn_cost_usd=_cents(compare, 8) if compare is not None else None,
        compare_monthly_usd=_cents(compare_monthly, 4) if compare_monthly is not None else None,
        saving_usd=_cents(saving, 4) if saving is not None else None,
        summary=_summary(sample, turns_per_month, monthly, compare_model, compare_monthly),
    )


def _summary(sample: int, turns: int, monthly: Decimal, model: str, compare: Decimal | None) -> str:
    if not sample:
        return "No turns yet: play a few to measure your mix."
    text = f"{turns:,} turns/month at your current mix ≈ ${monthly:,.2f}"
    if compare is not None:
        text += f"; with every agent on {model} ≈ ${compare:,.2f}"
    return text + "."


def _cents(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places))


def _period_start(now: datetime, unit: str, count: int) -> datetime:
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return today - timedelta(days=count - 1)
    month = today.replace(day=1)
    for _ in range(count - 1):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


def _next(day: Any, unit: str) -> Any:
    if unit == "day":
        return day + timedelta(days=1)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
