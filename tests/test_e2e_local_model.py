"""End to end on the real embedded model: HTTP turn, SSE turn, stored turns, KV-cache reuse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from luna_narrates.services import Services
from tests.conftest import STORY, make_settings, services_on
from tests.narration.test_sse import parse_sse

pytestmark = pytest.mark.llm


@pytest.fixture
async def services(database_url: str, data_dir: Path) -> AsyncIterator[Services]:
    settings = make_settings(
        database_url,
        data_dir,
        preprocessor_model="local:smollm2",
        strategist_model="local:smollm2",
        writer_model="local:smollm2",
        writer_target_tokens=120,
        briefing_token_budget=200,
    )
    async with services_on(settings) as opened:
        yield opened


async def test_real_turns_through_the_api(client: httpx.AsyncClient) -> None:
    story = (await client.post("/stories", json=STORY)).json()
    response = await client.post(
        "/narrate/turn",
        json={"story_id": story["id"], "user_action": "I slip into the palace by the water gate."},
        timeout=300,
    )
    assert response.status_code == 200, response.text
    first = response.json()
    assert first["turn_number"] == 1
    assert len(first["narrative_text"].split()) >= 20
    assert [a["agent"] for a in first["agents"]] == ["preprocessor", "strategist", "writer"]
    for report in first["agents"]:
        assert (report["provider"], report["model"]) == ("local", "smollm2")
        assert report["input_tokens"] > 50 and report["output_tokens"] > 0
        assert report["cost_usd"] == "0"
    writer = first["agents"][2]
    assert writer["output_tokens"] >= 60, "min_tokens keeps the passage from ending at once"

    streamed = await client.get(
        f"/narrates/stories/{story['id']}/generate",
        params={"action": "I follow the sound of footsteps."},
        timeout=300,
    )
    events = parse_sse(streamed.text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done", events[-1]
    assert kinds.count("token") > 10
    second: dict[str, Any] = events[-1][1]["turn"]
    assert second["turn_number"] == 2
    # Each agent keeps its own llama.cpp context, so its stable prefix is reused on turn 2.
    assert all(a["cache_read_tokens"] > 50 for a in second["agents"]), second["agents"]

    stored = (await client.get(f"/stories/{story['id']}/turns/2")).json()
    assert stored["narrative_text"] == second["narrative_text"]
    strategist = next(a for a in stored["agents"] if a["agent"] == "strategist")
    assert strategist["output"] == stored["plan"]
    assert strategist["prompt"][0]["role"] == "system"
    assert STORY["premise"] in strategist["prompt"][0]["content"]

    # Another take of the latest turn, on the same model: kept beside the first, and selected.
    again = await client.post(f"/stories/{story['id']}/turns/2/regenerate", json={}, timeout=300)
    assert again.status_code == 200, again.text
    take = again.json()
    assert (take["turn_number"], take["version"], take["branch_created"]) == (2, 2, None)
    assert len(take["narrative_text"].split()) >= 20
    takes = (await client.get(f"/stories/{story['id']}/turns/2/versions")).json()
    assert [(t["version"], t["is_selected"]) for t in takes["items"]] == [(1, False), (2, True)]


async def test_a_real_character_is_written_and_a_section_rewritten(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/character-cards",
        json={"name": "Tavi", "description": "A lamplighter in a canal city who sees ghosts."},
        timeout=300,
    )
    assert response.status_code == 201, response.text
    card = response.json()
    sections = ("description", "personality", "scenario", "first_mes", "mes_example")
    assert sum(len(card[s].strip()) for s in sections) > 100, card
    assert (card["agent"]["provider"], card["agent"]["model"]) == ("local", "smollm2")
    assert card["agent"]["output_tokens"] > 20

    rewritten = await client.post(
        f"/character-cards/{card['id']}/regenerate-section",
        json={"section": "scenario", "instruction": "she is lighting lamps at dusk"},
        timeout=300,
    )
    assert rewritten.status_code == 200, rewritten.text
    assert rewritten.json()["description"] == card["description"]
