"""Whole turns on remote providers that cannot run here, through fakes that speak their wire
protocols (tests/fakes: Anthropic's Messages API, Ollama's OpenAI-compatible and native APIs):
prompt caching and its saving, rate limits retried with backoff, overload and outage falling
through the chain, a refused key said plainly, timeouts, and broken streams."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from luna_narrates.config import ROLES
from luna_narrates.services import Services
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.common import BrokenJson, Fail, Hang, rate_limited
from tests.fakes.ollama import FakeOllama, OllamaModel
from tests.narration.test_pipeline import counts, play
from tests.narration.test_sse import parse_sse
from tests.scripted import BRIEFING, PLAN, Room

CLAUDE = "claude-haiku-4-5"
KEY = "sk-ant-test"
PASSAGE = "The portcullis groans as you slip beneath it into the cold dark water."
# Claude Haiku 4.5 per million tokens, as Anthropic lists them (and genai-prices holds):
# input $1, output $5, cache reads $0.10, cache writes (5 minutes) $1.25.
HAIKU = {
    "input": Decimal(1),
    "output": Decimal(5),
    "read": Decimal("0.1"),
    "write": Decimal("1.25"),
}


def respond(body: dict[str, Any]) -> Any:
    """The plan for the Strategist, the reading for the Preprocessor, the passage for the
    Writer: as a tool call's arguments, or as JSON text when the request asks for JSON under a
    schema (Ollama's grammar-bound `response_format`)."""
    schemas = [t.get("input_schema") or t["function"]["parameters"] for t in body.get("tools", [])]
    response_format = body.get("response_format", {})
    if response_format.get("type") == "json_schema":
        schemas.append(response_format["json_schema"]["schema"])
    for schema in schemas:
        answer = PLAN if "beats" in schema["properties"] else BRIEFING
        return json.dumps(answer) if response_format else dict(answer)
    return PASSAGE


@pytest.fixture(scope="module")
async def claude_server() -> AsyncIterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic(api_key=KEY, models=[CLAUDE])
    async with fake.serve() as url:
        yield fake, url


@pytest.fixture
def claude(claude_server: tuple[FakeAnthropic, str], services: Services) -> FakeAnthropic:
    fake, url = claude_server
    fake.reset()
    fake.responder = respond
    services.settings.anthropic_api_key = SecretStr(KEY)
    services.settings.anthropic_base_url = url
    services.settings.model_max_retries = 1
    return fake


def on_claude(services: Services, agent: str, *fallbacks: str) -> None:
    """The agent's own model is Claude, then `fallbacks`."""
    setattr(services.settings, f"{agent}_model", f"anthropic:{CLAUDE}")
    setattr(services.settings, f"{agent}_fallbacks", list(fallbacks))


def cost(usage: dict[str, int]) -> Decimal:
    """The price of a call by hand: cached input tokens at their own rates, the rest plain."""
    plain = usage["input_tokens"] - usage["cache_read_tokens"] - usage["cache_write_tokens"]
    million = Decimal(1_000_000)
    return (
        plain * HAIKU["input"]
        + usage["cache_read_tokens"] * HAIKU["read"]
        + usage["cache_write_tokens"] * HAIKU["write"]
        + usage["output_tokens"] * HAIKU["output"]
    ) / million


async def test_a_turn_on_claude_caches_the_stable_prefix_and_reports_the_saving(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], claude: FakeAnthropic
) -> None:
    on_claude(services, "strategist")
    on_claude(services, "writer")

    first = (await play(client, story["id"], "I slip in through the water gate.")).json()
    second = (await play(client, story["id"], "I listen for the guard.")).json()

    assert second["narrative_text"] == PASSAGE
    strategist_request = claude.requests_to("/v1/messages")[0].body
    assert strategist_request["tools"][-1]["cache_control"]["type"] == "ephemeral"
    assert strategist_request["system"][-1]["cache_control"]["type"] == "ephemeral"

    planned = {a["agent"]: a for a in first["agents"]}["strategist"]
    assert planned["cache_write_tokens"] > 0 and planned["cache_read_tokens"] == 0
    assert Decimal(planned["cost_usd"]) == cost(planned)
    again = {a["agent"]: a for a in second["agents"]}["strategist"]
    assert again["cache_read_tokens"] > 0, "the second turn reads the cached prefix"
    assert Decimal(again["cost_usd"]) == cost(again)
    saving = again["cache_read_tokens"] * (HAIKU["input"] - HAIKU["read"]) / 1_000_000
    assert Decimal(again["cache_saving_usd"]) == saving
    assert Decimal(second["cache_saving_usd"]) >= saving > 0
    assert Decimal(second["total_cost_usd"]) == sum(
        Decimal(a["cost_usd"]) for a in second["agents"]
    )


async def test_a_rate_limit_is_retried_on_the_same_model(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], claude: FakeAnthropic
) -> None:
    on_claude(services, "strategist", "fn:strategist")
    claude.script(rate_limited(retry_after="0"))

    body = (await play(client, story["id"], "I wait.")).json()

    strategist = body["agents"][1]
    assert (strategist["provider"], strategist["fallbacks"]) == ("anthropic", [])
    assert [r.behaviour is not None for r in claude.requests_to("/v1/messages")] == [True, True]


async def test_overload_after_the_retries_falls_through_to_the_next_model(
    client: httpx.AsyncClient,
    services: Services,
    story: dict[str, Any],
    claude: FakeAnthropic,
    room: Room,
) -> None:
    on_claude(services, "strategist", "fn:strategist")
    claude.script(Fail(529), Fail(529))  # the first try and its one retry

    body = (await play(client, story["id"], "I wait.")).json()

    strategist = body["agents"][1]
    assert (strategist["provider"], strategist["model"]) == ("fn", "strategist")
    [fallback] = strategist["fallbacks"]
    assert fallback["model"] == f"anthropic:{CLAUDE}"
    assert fallback["error"].startswith("HTTP 529: Overloaded")
    assert len(claude.requests_to("/v1/messages")) == 2


async def test_a_refused_key_is_said_plainly_and_nothing_is_saved(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], claude: FakeAnthropic
) -> None:
    on_claude(services, "writer")
    services.settings.anthropic_api_key = SecretStr("sk-ant-wrong")

    response = await play(client, story["id"], "I wait.")

    assert response.status_code == 502
    body = response.json()
    assert body["agent"] == "writer" and body["provider"] == "anthropic"
    assert "the provider refused the API key" in body["message"]
    assert "HTTP 401" in body["message"]
    assert "sk-ant-wrong" not in response.text
    assert await counts(services) == {"turns": 0, "agent_runs": 0, "cost_logs": 0, "jobs": 0}


async def test_a_model_that_does_not_answer_in_time_falls_through(
    client: httpx.AsyncClient,
    services: Services,
    story: dict[str, Any],
    claude: FakeAnthropic,
    room: Room,
) -> None:
    services.settings.model_timeout_seconds = 1.5
    on_claude(services, "writer", "fn:writer")
    claude.script(Hang(10))

    body = (await play(client, story["id"], "I wait.")).json()

    writer = body["agents"][2]
    assert writer["provider"] == "fn"
    assert writer["fallbacks"][0]["error"] == "did not answer within 1.5 s"


async def test_a_broken_stream_falls_through_before_the_first_word(
    client: httpx.AsyncClient,
    services: Services,
    story: dict[str, Any],
    claude: FakeAnthropic,
    room: Room,
) -> None:
    on_claude(services, "writer", "fn:writer")
    services.settings.model_max_retries = 0
    claude.script(BrokenJson())

    body = (await play(client, story["id"], "I wait.")).json()

    writer = body["agents"][2]
    assert writer["provider"] == "fn", body
    assert "JSON" in writer["fallbacks"][0]["error"]


async def test_ollama_through_its_openai_compatible_api_with_a_missing_model_in_the_chain(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    ollama = FakeOllama(models=[OllamaModel("llama3.1:latest")], responder=respond)
    async with ollama.serve() as url:
        services.settings.ollama_base_url = f"{url}/v1"
        services.settings.model_max_retries = 1
        services.settings.strategist_model = "ollama:mistral"  # not pulled on this server
        services.settings.strategist_fallbacks = ["ollama:llama3.1"]
        services.settings.writer_model = "ollama:llama3.1"
        ollama.script(Fail(503))  # busy once: retried

        response = await play(client, story["id"], "I slip in through the water gate.")

    body = response.json()
    assert response.status_code == 200, body
    planning = [r.body for r in ollama.requests_to("/v1/chat/completions")][:3]
    assert [(b["model"], b["response_format"]["type"]) for b in planning] == [
        ("mistral", "json_schema"),  # grammar-bound JSON, not a tool call
        ("llama3.1", "json_schema"),
        ("llama3.1", "json_schema"),
    ]
    assert not any("tools" in b for b in planning)
    strategist = body["agents"][1]
    assert (strategist["provider"], strategist["model"]) == ("ollama", "llama3.1")
    assert strategist["fallbacks"][0]["model"] == "ollama:mistral"
    assert "not found" in strategist["fallbacks"][0]["error"]
    assert body["narrative_text"] == PASSAGE
    assert body["total_cost_usd"] == "0", "models on the player's own server cost nothing"


async def test_the_stream_reports_the_estimate_before_and_the_cost_after(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], claude: FakeAnthropic
) -> None:
    on_claude(services, "writer")

    response = await client.get(
        f"/narrates/stories/{story['id']}/generate", params={"action": "I wait."}
    )

    events = parse_sse(response.text)
    [estimate] = [data for kind, data in events if kind == "cost_estimate"]
    writer = next(a for a in estimate["agents"] if a["agent"] == "writer")
    assert writer["model"] == f"anthropic:{CLAUDE}" and writer["price_known"] is True
    assert Decimal(estimate["estimated_cost_usd"]) > 0
    turn = events[-1][1]["turn"]
    assert turn["estimated_cost_usd"] == estimate["estimated_cost_usd"], "kept with the turn"
    assert Decimal(turn["total_cost_usd"]) == Decimal(turn["agents"][2]["cost_usd"]) > 0


def respond_natively(body: dict[str, Any]) -> Any:
    """`respond` for Ollama's native API, where the output schema comes as `format` and the
    answer is JSON text under its grammar."""
    schema = body.get("format")
    if isinstance(schema, dict):
        return json.dumps(PLAN if "beats" in schema["properties"] else BRIEFING)
    return PASSAGE


async def test_a_whole_turn_on_ollamas_native_api(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    ollama = FakeOllama(models=[OllamaModel("llama3.1:latest")], responder=respond_natively)
    async with ollama.serve() as url:
        services.settings.ollama_base_url = f"{url}/v1"
        services.settings.model_max_retries = 1
        for role in ROLES:
            setattr(services.settings, f"{role}_model", "ollama-native:llama3.1")
        ollama.script(Fail(503, retry_after="0"))  # busy once: retried

        response = await play(client, story["id"], "I slip in through the water gate.")

    body = response.json()
    assert response.status_code == 200, body
    sent = [r.body for r in ollama.requests_to("/api/chat")]
    assert len(sent) == 4, "the preprocessor's first request was retried"
    assert [("format" in b, b["options"]["num_predict"] > 0) for b in sent[1:]] == [
        (True, True),  # the preprocessor's reading, bound by its schema
        (True, True),  # the strategist's plan
        (False, True),  # the writer's passage, streamed
    ]
    assert body["narrative_text"] == PASSAGE
    for agent in body["agents"]:
        assert (agent["provider"], agent["model"]) == ("ollama-native", "llama3.1")
        assert agent["input_tokens"] > 0 and not agent["tokens_estimated"], "Ollama's counts"
        assert agent["fallbacks"] == []
    assert body["total_cost_usd"] == "0", "models on the player's own server cost nothing"


async def test_a_model_missing_from_ollama_falls_through_the_writers_chain(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    ollama = FakeOllama(models=[OllamaModel("llama3.1:latest")], responder=respond_natively)
    async with ollama.serve() as url:
        services.settings.ollama_base_url = url  # written without `/v1` works too
        services.settings.writer_model = "ollama-native:mistral"  # not pulled on this server
        services.settings.writer_fallbacks = ["ollama-native:llama3.1"]

        response = await play(client, story["id"], "I listen for the guard.")

    body = response.json()
    assert response.status_code == 200, body
    writer = body["agents"][2]
    assert (writer["provider"], writer["model"]) == ("ollama-native", "llama3.1")
    [fallback] = writer["fallbacks"]
    assert fallback["model"] == "ollama-native:mistral"
    assert fallback["error"] == "HTTP 404: model 'mistral' not found"
    assert body["narrative_text"] == PASSAGE
