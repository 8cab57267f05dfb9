"""Cost analytics and metrics over a fixed history: two played turns whose calls are then
priced as if they had run on gpt-4o, so every number can be checked by hand and against
genai-prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from genai_prices import Usage, calc_price
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from luna_narrates.db.tables import CostLog
from luna_narrates.services import Services

PRICE = {
    "preprocessor": Decimal("0.001"),
    "strategist": Decimal("0.002"),
    "writer": Decimal("0.01"),
}


async def history(client: httpx.AsyncClient, services: Services, story: dict[str, Any]) -> None:
    for action in ("I slip in through the water gate.", "I climb the stair."):
        played = await client.post(
            "/narrate/turn", json={"story_id": story["id"], "user_action": action}
        )
        assert played.status_code == 200, played.text
    async with services.db.transaction() as session:
        for agent, cost in PRICE.items():
            await session.execute(
                update(CostLog)
                .where(CostLog.agent == agent)
                .values(provider="openai", model="gpt-4o", cost_usd=cost, price_known=True,
                        input_tokens=1000, output_tokens=200)
            )  # fmt: skip


async def test_a_story_s_costs_by_agent_and_by_turn(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    await history(client, services, story)
    costs = (await client.get(f"/cost-analytics/stories/{story['id']}")).json()
    assert costs["turns"] == 2 and costs["calls"] == 6 and costs["unpriced_calls"] == 0
    assert Decimal(costs["cost_usd"]) == 2 * sum(PRICE.values())
    assert Decimal(costs["avg_turn_cost_usd"]) == sum(PRICE.values())
    assert {a["agent"]: Decimal(a["cost_usd"]) for a in costs["by_agent"]} == {
        agent: 2 * cost for agent, cost in PRICE.items()
    }
    page = (await client.get(f"/cost-analytics/stories/{story['id']}/turns")).json()
    assert page["total"] == 2 and [t["turn_number"] for t in page["items"]] == [2, 1]
    assert all(Decimal(t["cost_usd"]) == sum(PRICE.values()) for t in page["items"])
    assert len(page["items"][0]["by_agent"]) == 3
    missing = "00000000-0000-0000-0000-000000000000"
    assert (await client.get(f"/cost-analytics/stories/{missing}")).status_code == 404


async def test_agents_days_months_and_unpriced_calls(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    await history(client, services, story)
    await client.post("/narrate/turn", json={"story_id": story["id"], "user_action": "I wait."})
    agents = (await client.get("/cost-analytics/agents?days=7")).json()
    fn = [a for a in agents if a["provider"] == "fn"]
    assert len(fn) == 3 and all(a["unpriced_calls"] == 1 for a in fn)  # the third turn's
    daily = (await client.get("/cost-analytics/daily?days=30")).json()
    assert len(daily) == 30 and daily[-1]["turns"] == 3
    assert Decimal(daily[-1]["cost_usd"]) == 2 * sum(PRICE.values())
    assert all(Decimal(d["cost_usd"]) == 0 for d in daily[:-1])
    monthly = (await client.get("/cost-analytics/monthly?months=12")).json()
    assert len(monthly) == 12 and monthly[-1]["calls"] == 9
    assert monthly[-1]["period"].endswith("-01")


async def test_the_projection_prices_the_mix_against_a_premium_model(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    await history(client, services, story)
    found = (
        await client.get(
            "/cost-analytics/projection",
            params={"turns_per_month": 1000, "compare_model": "openai:gpt-4o"},
        )
    ).json()
    per_turn = sum(PRICE.values())
    assert found["sample_turns"] == 2
    assert Decimal(found["avg_turn_cost_usd"]) == per_turn
    assert Decimal(found["projected_monthly_usd"]) == per_turn * 1000
    assert (found["avg_input_tokens"], found["avg_output_tokens"]) == (3000, 600)
    expected = Decimal(calc_price(Usage(input_tokens=3000, output_tokens=600), "gpt-4o",
                                  provider_id="openai").total_price)  # fmt: skip
    assert Decimal(found["compare_turn_cost_usd"]) == expected
    assert Decimal(found["compare_monthly_usd"]) == (expected * 1000).quantize(Decimal("0.0001"))
    assert found["summary"].startswith("1,000 turns/month at your current mix ≈ $13.00")
    unknown = await client.get("/cost-analytics/projection", params={"compare_model": "x:nope"})
    assert unknown.status_code == 200 and unknown.json()["compare_turn_cost_usd"] is None
    assert (await client.get("/cost-analytics/projection?compare_model=bad")).status_code == 422


async def test_metrics_as_json_and_as_prometheus(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    await history(client, services, story)
    summary = (await client.get("/metrics")).json()
    assert summary["total_turns_generated"] == 2
    assert summary["avg_turn_time_seconds"] > 0
    assert [a["agent"] for a in summary["agents"]] == ["preprocessor", "strategist", "writer"]
    assert all(a["calls"] == 2 for a in summary["agents"])

    for response in (
        await client.get("/metrics", headers={"accept": "text/plain"}),
        await client.get("/metrics/prometheus"),
    ):
        assert response.headers["content-type"].startswith("text/plain")
        families = {f.name: f for f in text_string_to_metric_families(response.text)}
        assert families["luna_turns_generated"].samples[0].value == 2
        counts = {
            s.labels["agent"]: s.value
            for s in families["luna_agent_call_seconds"].samples
            if s.name.endswith("_count")
        }
        assert counts == {"preprocessor": 2, "strategist": 2, "writer": 2}
        cost = {s.labels["agent"]: s.value for s in families["luna_cost_usd"].samples}
        assert cost["writer"] == float(2 * PRICE["writer"])
    async with services.db.sessions() as session:
        assert len((await session.scalars(select(CostLog))).all()) == 6
