"""The SSE route: event order, errors, and a client that disconnects mid-turn."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from luna_narrates.app import create_app
from luna_narrates.db.tables import Turn
from luna_narrates.services import Services
from tests.live import serve
from tests.scripted import PASSAGE, Room


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def generate_url(story_id: object) -> str:
    return f"/narrates/stories/{story_id}/generate"


async def test_events_arrive_in_order(client: httpx.AsyncClient, story: dict[str, Any]) -> None:
    response = await client.get(generate_url(story["id"]), params={"action": "I listen."})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "status"
    assert kinds.index("cost_estimate") < kinds.index("agent_start")
    starts = [data["agent"] for kind, data in events if kind == "agent_start"]
    completes = [data["agent"] for kind, data in events if kind == "agent_complete"]
    assert starts == completes == ["preprocessor", "strategist", "writer"]
    writer_start = kinds.index("agent_start", kinds.index("agent_complete", 0) + 1)
    tokens = [i for i, kind in enumerate(kinds) if kind == "token"]
    assert tokens and min(tokens) > kinds.index("agent_complete") and min(tokens) > writer_start
    assert max(tokens) < len(kinds) - 2, "tokens come before the writer completes and done"
    assert "".join(events[i][1]["text"] for i in tokens) == "".join(PASSAGE)
    assert kinds[-3:] == ["agent_complete", "status", "done"]
    done = events[-1][1]["turn"]
    assert done["turn_number"] == 1
    strategist_output = next(
        data["output"]
        for kind, data in events
        if kind == "agent_complete" and data["agent"] == "strategist"
    )
    assert strategist_output == done["plan"]
    stored = (await client.get(f"/stories/{story['id']}/turns/1")).json()
    assert stored["narrative_text"] == done["narrative_text"]


async def test_refusals_before_the_stream_are_plain_http_errors(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    missing = await client.get(generate_url(uuid.uuid4()), params={"action": "Hi"})
    assert missing.status_code == 404
    no_action = await client.get(generate_url(story["id"]))
    assert no_action.status_code == 422
    blank = await client.get(generate_url(story["id"]), params={"action": "  "})
    assert blank.status_code == 422
    bad_model = await client.get(
        generate_url(story["id"]), params={"action": "Hi", "writer_model_override": "x"}
    )
    assert bad_model.status_code == 422


async def test_failure_mid_stream_is_an_error_event(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    room.writer_failure = RuntimeError("upstream closed the stream")
    response = await client.get(generate_url(story["id"]), params={"action": "I listen."})
    events = parse_sse(response.text)
    kind, data = events[-1]
    assert kind == "error"
    assert data["status"] == 502
    assert data["agent"] == "writer"
    assert "upstream closed the stream" in data["message"]
    assert "done" not in [k for k, _ in events]
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Turn)) == 0


async def test_disconnect_mid_stream_leaves_no_half_written_turn(
    services: Services, story: dict[str, Any], room: Room
) -> None:
    room.writer_delay = 0.2
    app = create_app(services.settings, run_worker=False)
    app.state.services = services
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        url = generate_url(story["id"])
        async with http.stream("GET", url, params={"action": "I run."}) as response:
            async for line in response.aiter_lines():
                if line == "event: token":
                    break
        # Uncancelled, the writer would finish (4 x 0.2 s) and commit well within this wait.
        await asyncio.sleep(2)
        assert room.writer_spans == [], "the writer ran to the end after the client left"
        async with services.db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Turn)) == 0
        room.writer_delay = 0
        follow_up = await http.post(
            "/narrate/turn", json={"story_id": story["id"], "user_action": "I walk."}
        )
        assert follow_up.status_code == 200
        assert follow_up.json()["turn_number"] == 1
