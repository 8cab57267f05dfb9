"""Fallback chains: an agent whose model fails goes on to the next of its chain, and the turn
says which model answered and why the others did not; a chain that fails entirely saves
nothing and names every model with its error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

from luna_narrates.llm.registry import ModelRegistry, ModelSpec
from luna_narrates.services import Services
from tests.narration.test_pipeline import counts, play
from tests.scripted import PASSAGE, Room

OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def down(registry: ModelRegistry, spec: ModelSpec, slot: str) -> Model:
    """A provider that answers every request with HTTP `spec.name` (e.g. `down:529`)."""
    status = int(spec.name)

    def fail(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise ModelHTTPError(status, spec.name, OVERLOADED)

    async def fail_stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        raise ModelHTTPError(status, spec.name, OVERLOADED)
        yield ""  # pragma: no cover - makes this an async generator

    return FunctionModel(fail, stream_function=fail_stream, model_name=f"down-{status}")


async def test_a_failing_model_falls_through_to_the_next_and_the_turn_says_why(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    services.registry.register("down", down)
    services.settings.writer_model = "down:529"
    services.settings.writer_fallbacks = ["fn:writer"]
    services.settings.strategist_fallbacks = ["down:500"]  # never needed: fn answers first

    async with client.stream(
        "GET",
        f"/narrates/stories/{story['id']}/generate",
        params={"action": "I slip in through the water gate."},
    ) as response:
        events = [line async for line in response.aiter_lines() if line.startswith("event:")]
    assert "event: done" in events

    turn = (await client.get(f"/stories/{story['id']}/turns/1")).json()
    agents = {a["agent"]: a for a in turn["agents"]}
    writer = agents["writer"]
    assert (writer["provider"], writer["model"]) == ("fn", "writer")
    [fallback] = writer["fallbacks"]
    assert fallback["model"] == "down:529"
    assert "HTTP 529" in fallback["error"] and "Overloaded" in fallback["error"]
    assert agents["strategist"]["fallbacks"] == []
    assert turn["narrative_text"] == "".join(PASSAGE).strip()


async def test_the_turn_response_reports_the_fallback(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    services.registry.register("down", down)
    services.settings.preprocessor_model = "down:503"
    services.settings.preprocessor_fallbacks = ["down:502", "fn:preprocessor"]

    body = (await play(client, story["id"], "I look around.")).json()

    pre = body["agents"][0]
    assert (pre["agent"], pre["model"]) == ("preprocessor", "preprocessor")
    assert [(f["model"], f["error"][:8]) for f in pre["fallbacks"]] == [
        ("down:503", "HTTP 503"),
        ("down:502", "HTTP 502"),
    ]


async def test_a_chain_that_fails_entirely_names_every_model_and_saves_nothing(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    services.registry.register("down", down)
    services.settings.writer_model = "down:401"
    services.settings.writer_fallbacks = ["down:529"]

    response = await play(client, story["id"], "I wait.")

    assert response.status_code == 502
    body = response.json()
    assert body["agent"] == "writer" and body["chain"] == ["down:401", "down:529"]
    message = body["message"]
    assert message.startswith("the writer failed on every model of its chain: ")
    assert "down:401: the provider refused the API key" in message
    assert "down:529: HTTP 529: Overloaded" in message
    assert await counts(services) == {"turns": 0, "agent_runs": 0, "cost_logs": 0, "jobs": 0}


async def test_an_override_replaces_the_agents_own_model_and_keeps_its_fallbacks(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    services.registry.register("down", down)
    services.settings.writer_fallbacks = ["fn:writer"]

    response = await client.post(
        "/narrate/turn",
        json={
            "story_id": story["id"],
            "user_action": "I wait.",
            "writer_model_override": "down:429",
        },
    )

    writer = response.json()["agents"][2]
    assert writer["model"] == "writer" and writer["fallbacks"][0]["model"] == "down:429"


async def test_invalid_structured_output_is_retried_then_fails_clearly(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    room.plan = {"scene_location": "The water gate", "beats": "not a list"}

    response = await play(client, story["id"], "I wait.")

    assert response.status_code == 502
    body = response.json()
    assert body["agent"] == "strategist"
    assert body["message"] == (
        "the strategist (fn:strategist) failed: its answer did not fit the expected shape, even "
        "when asked to fix it (tone: Field required; beats: Input should be a valid list)."
    )
    assert len(room.calls["strategist"]) == 3, "asked to fix its answer twice"
    assert await counts(services) == {"turns": 0, "agent_runs": 0, "cost_logs": 0, "jobs": 0}
