"""/cost-analytics (what model calls cost, sliced six ways) and /metrics (JSON, or Prometheus
with `Accept: text/plain` or at /metrics/prometheus)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from luna_narrates.accounts.service import Principal
from luna_narrates.api.access import PrincipalDep
from luna_narrates.api.deps import Offset, SessionDep
from luna_narrates.costs import analytics, metrics
from luna_narrates.costs.schemas import (
    AgentSpend,
    Metrics,
    PeriodSpend,
    Projection,
    StoryCosts,
    TurnCostPage,
)
from luna_narrates.llm.registry import ModelSpec

router = APIRouter(prefix="/cost-analytics", tags=["costs"])
metrics_router = APIRouter(tags=["metrics"])
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
TEXT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {PROMETHEUS: {}}, "description": "Prometheus exposition."}
}


@router.get("/stories/{story_id}")
async def story_costs(story_id: uuid.UUID, session: SessionDep) -> StoryCosts:
    """Everything the story's model calls cost (every take, and its memory jobs), by agent
    and model."""
    return await analytics.story(session, story_id)


@router.get("/stories/{story_id}/turns")
async def turn_costs(
    story_id: uuid.UUID,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> TurnCostPage:
    """Each turn (every take), newest first, with its calls' cost by agent and model."""
    return await analytics.turns(session, story_id, limit=limit, offset=offset)


def scope(who: Principal) -> uuid.UUID | None:
    """What the figures cover: a player's own stories; for an admin, everything (calls outside
    any story, such as cards written, included)."""
    return None if who.is_admin else who.user_id


@router.get("/agents")
async def agent_costs(
    session: SessionDep,
    who: PrincipalDep,
    days: Annotated[int | None, Query(ge=1, le=3660, description="The last N days only.")] = None,
) -> list[AgentSpend]:
    """Per agent and model, across your stories (an admin's: across everything)."""
    since = datetime.now(UTC) - timedelta(days=days) if days else None
    return await analytics.agents(session, since=since, owner=scope(who))


@router.get("/daily")
async def daily_costs(
    session: SessionDep, who: PrincipalDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> list[PeriodSpend]:
    """The last N days (UTC), oldest first, days without calls included."""
    return await analytics.periods(session, "day", days, owner=scope(who))


@router.get("/monthly")
async def monthly_cost_summaries(
    session: SessionDep, who: PrincipalDep, months: Annotated[int, Query(ge=1, le=120)] = 12
) -> list[PeriodSpend]:
    """The last N calendar months (UTC), oldest first."""
    return await analytics.periods(session, "month", months, owner=scope(who))


@router.get("/projection")
async def projection(
    session: SessionDep,
    who: PrincipalDep,
    turns_per_month: Annotated[int, Query(ge=1, le=10_000_000)] = 1_000,
    compare_model: Annotated[
        str, Query(max_length=200, description="'provider:model', priced from model_pricing.")
    ] = analytics.DEFAULT_COMPARE,
) -> Projection:
    """A month at the mix of your latest turns, against every agent on one premium model."""
    ModelSpec.parse(compare_model)
    return await analytics.projection(session, turns_per_month, compare_model, scope(who))


@metrics_router.get(
    "/metrics", responses={200: {"content": {"application/json": {}, PROMETHEUS: {}}}}
)
async def metrics_summary(request: Request, session: SessionDep) -> Response:
    """The seed's summary as JSON; Prometheus' text format when the client asks for
    `text/plain` (as Prometheus does)."""
    accept = request.headers.get("accept", "")
    if "text/plain" in accept and "application/json" not in accept:
        return Response(await metrics.prometheus(session), media_type=PROMETHEUS)
    found: Metrics = await metrics.summary(session)
    return Response(found.model_dump_json(), media_type="application/json")


@metrics_router.get("/metrics/prometheus", response_class=Response, responses=TEXT_RESPONSE)
async def metrics_prometheus(session: SessionDep) -> Response:
    """Turns, latency histograms per agent, provider and stage, cost and tokens."""
    return Response(await metrics.prometheus(session), media_type=PROMETHEUS)
