"""The price table over time: a newer genai-prices ends a price and keeps it as history; an
operator's price wins from the moment it is set until it is ended; and every cost row says
which price it was computed from."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from genai_prices.data_snapshot import DataSnapshot, get_snapshot
from genai_prices.types import ConditionalPrice, ModelPrice, StartDateConstraint
from sqlalchemy import select

from luna_narrates.costs import pricing, seeding
from luna_narrates.costs.seeding import Synced
from luna_narrates.db.tables import CostLog, ModelPricing
from luna_narrates.llm.registry import ModelSpec
from luna_narrates.services import Services
from tests.fakes.anthropic import FakeAnthropic
from tests.narration.test_pipeline import play
from tests.narration.test_remote_providers import CLAUDE, on_claude

HAIKU = ModelSpec("anthropic", "claude-haiku-4-5-20251001")  # genai-prices: claude-haiku-4-5
REPRICED = ModelPrice(
    input_mtok=Decimal(2),
    output_mtok=Decimal(10),
    cache_read_mtok=Decimal("0.2"),
    cache_write_mtok=Decimal("2.5"),
)
SECOND = timedelta(seconds=1)
MILLION = 1_000_000


def newer_genai_prices(prices: ModelPrice | list[ConditionalPrice]) -> DataSnapshot:
    """genai-prices as a newer release might have it: Claude Haiku 4.5 priced otherwise (the
    other models left out, which keeps their rows as they are)."""
    anthropic = next(p for p in get_snapshot().providers if p.id == "anthropic")
    haiku = next(m for m in anthropic.models if m.id == "claude-haiku-4-5")
    repriced = replace(anthropic, models=[replace(haiku, prices=prices)])
    return DataSnapshot(providers=[repriced], from_auto_update=False)


async def test_a_newer_genai_prices_ends_the_price_in_force_and_keeps_it(
    services: Services,
) -> None:
    async with services.db.sessions() as session:  # never committed
        old = (await pricing.load(session)).rate(HAIKU)
        assert old is not None and old.input == 1
        change = datetime.now(UTC)
        newer = newer_genai_prices(REPRICED)

        assert await seeding.sync(session, newer, now=change) == Synced(1, 1, 0)
        assert await seeding.sync(session, newer, now=change + SECOND) == Synced(0, 0, 0)

        book = await pricing.load(session)
        before = book.price(HAIKU, MILLION, 0, at=change - SECOND)
        after = book.price(HAIKU, MILLION, 0, at=change + SECOND)
        assert (before.cost_usd, before.pricing_id) == (1, old.id)
        assert after.cost_usd == 2 and after.pricing_id not in (None, old.id)
        ended = book.rate(HAIKU, change - SECOND)
        assert ended is not None and ended.valid_to == change

        # Back to the installed genai-prices: the repriced hour is history too.
        assert await seeding.sync(session, now=change + timedelta(hours=1)) == Synced(1, 1, 0)


async def test_a_change_dated_ahead_ends_the_price_on_its_date(services: Services) -> None:
    async with services.db.sessions() as session:  # never committed
        old = (await pricing.load(session)).rate(HAIKU)
        assert old is not None
        now = datetime.now(UTC)
        start = (now + timedelta(days=30)).date()
        current = next(p for p in get_snapshot().providers if p.id == "anthropic")
        haiku = next(m for m in current.models if m.id == "claude-haiku-4-5")
        dated = [
            ConditionalPrice(prices=haiku.get_prices(now)),
            ConditionalPrice(constraint=StartDateConstraint(start_date=start), prices=REPRICED),
        ]

        assert await seeding.sync(session, newer_genai_prices(dated), now=now) == Synced(1, 0, 1)

        book = await pricing.load(session)
        starts = datetime.combine(start, datetime.min.time(), UTC)
        assert book.price(HAIKU, MILLION, 0, at=starts - SECOND) == pricing.Price(
            Decimal(1), True, old.id
        )
        assert book.price(HAIKU, MILLION, 0, at=starts).cost_usd == 2


async def test_an_operator_price_wins_until_it_is_ended(
    client: httpx.AsyncClient, services: Services, operator_prices: None
) -> None:
    first = await client.put(
        "/pricing/anthropic/claude-haiku-4-5",
        json={
            "input_usd_per_mtok": "2",
            "output_usd_per_mtok": "8",
            "cache_read_usd_per_mtok": "0.2",
            "note": "our negotiated rate",
        },
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["source"], body["valid_to"], body["note"]) == (
        "operator",
        None,
        "our negotiated rate",
    )
    shown = await client.get(
        "/pricing", params={"provider": "anthropic", "model": HAIKU.name}
    )  # a dated name finds the operator's price and genai-prices'
    assert sorted(p["source"] for p in shown.json()) == ["genai-prices", "operator"]

    # No cache-write price: those tokens are billed as plain input.
    price = await book_price(services, MILLION, MILLION, 500_000, 100_000)
    assert price == pricing.Price(Decimal("9.1"), True, uuid.UUID(body["id"]))

    second = (
        await client.put(
            "/pricing/anthropic/claude-haiku-4-5",
            json={"input_usd_per_mtok": "3", "output_usd_per_mtok": "9"},
        )
    ).json()
    ended = (await client.delete("/pricing/anthropic/claude-haiku-4-5")).json()
    assert ended["id"] == second["id"] and ended["valid_to"] is not None
    assert (await book_price(services, MILLION, 0)).cost_usd == 1  # genai-prices' again

    history = await client.get(
        "/pricing",
        params={"provider": "anthropic", "model": "claude-haiku-4-5", "include_history": True},
    )
    operator = [p for p in history.json() if p["source"] == "operator"]
    assert [p["id"] for p in operator] == [body["id"], second["id"]]
    assert operator[0]["valid_to"] == second["valid_from"]
    again = await client.delete("/pricing/anthropic/claude-haiku-4-5")
    assert again.status_code == 404 and again.json()["error"] == "no_price_override"


async def book_price(services: Services, *tokens: int) -> pricing.Price:
    async with services.db.sessions() as session:
        return (await pricing.load(session)).price(HAIKU, *tokens)


async def test_bad_prices_are_refused_saying_why(
    client: httpx.AsyncClient, operator_prices: None
) -> None:
    async def put(path: str, **body: Any) -> httpx.Response:
        return await client.put(f"/pricing/{path}", json=body)

    negative = await put("openai/gpt-4o", input_usd_per_mtok="-1", output_usd_per_mtok="2")
    assert negative.status_code == 422
    assert "input_usd_per_mtok: Input should be greater than or equal to 0" in negative.text
    missing = await put("openai/gpt-4o", input_usd_per_mtok="1")
    assert missing.status_code == 422 and "output_usd_per_mtok: Field required" in missing.text
    fine = await put("openai/gpt-4o", input_usd_per_mtok="1", output_usd_per_mtok="0.123456789")
    assert fine.status_code == 422 and "decimal places" in fine.text
    unknown = await put("nowhere/x", input_usd_per_mtok="1", output_usd_per_mtok="1")
    assert unknown.status_code == 422 and "Unknown provider 'nowhere'" in unknown.text
    free = await put("ollama/llama3.1", input_usd_per_mtok="1", output_usd_per_mtok="1")
    assert free.status_code == 422 and "its calls cost nothing" in free.json()["message"]
    assert (await client.get("/pricing", params={"provider": "openai"})).json()[0]["source"] == (
        "genai-prices"
    )


async def test_a_model_genai_prices_does_not_know_gets_the_operators_price(
    client: httpx.AsyncClient, services: Services, operator_prices: None
) -> None:
    spec = ModelSpec("openai-compatible", "meta-llama/Llama-3.1-8B-Instruct")
    async with services.db.sessions() as session:
        assert not (await pricing.load(session)).price(spec, MILLION, 0).known
    put = await client.put(
        f"/pricing/{spec.provider}/{spec.name}",
        json={"input_usd_per_mtok": "0.05", "output_usd_per_mtok": "0.08"},
    )
    assert put.json()["model"] == spec.name
    async with services.db.sessions() as session:
        price = (await pricing.load(session)).price(spec, MILLION, MILLION)
    assert (price.cost_usd, price.known) == (Decimal("0.13"), True)


async def test_a_turn_records_the_price_each_call_used(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], operator_prices: None
) -> None:
    """Prices for the test models of tests/scripted.py, set as an operator would for a model
    genai-prices does not know (a self-hosted one behind `openai-compatible`, say)."""
    price = (
        await client.put(
            "/pricing/fn/writer", json={"input_usd_per_mtok": "3", "output_usd_per_mtok": "15"}
        )
    ).json()

    body = (await play(client, story["id"], "I slip in through the water gate.")).json()

    agents = {a["agent"]: a for a in body["agents"]}
    writer = agents["writer"]
    expected = (writer["input_tokens"] * 3 + writer["output_tokens"] * 15) / Decimal(MILLION)
    assert writer["price_known"] and Decimal(writer["cost_usd"]) == expected > 0
    assert not agents["strategist"]["price_known"] and not body["cost_complete"]
    assert await cost_rows(services) == {
        "preprocessor": None,
        "strategist": None,
        "writer": price["id"],
    }

    # A story archive carries the cost, not the server's own price row.
    exported = (await client.get(f"/stories/{story['id']}/export")).json()
    [cost] = [c for c in exported["tables"]["cost_logs"] if c["agent"] == "writer"]
    assert "pricing_id" not in cost and Decimal(cost["cost_usd"]) == expected
    assert (await client.post("/stories/import", json=exported)).status_code == 201


async def test_a_turn_on_claude_records_genai_prices_row(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], claude: FakeAnthropic
) -> None:
    on_claude(services, "writer")

    body = (await play(client, story["id"], "I listen for the guard.")).json()

    async with services.db.sessions() as session:
        row = await session.scalar(
            select(ModelPricing).where(
                ModelPricing.model == CLAUDE, ModelPricing.valid_to.is_(None)
            )
        )
    assert row is not None and row.source == "genai-prices"
    assert (await cost_rows(services))["writer"] == str(row.id)
    assert body["agents"][2]["price_known"]


async def cost_rows(services: Services) -> dict[str, str | None]:
    async with services.db.sessions() as session:
        rows = (await session.execute(select(CostLog.agent, CostLog.pricing_id))).all()
    return {agent: str(found) if found else None for agent, found in rows}
