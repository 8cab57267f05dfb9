"""The turn pipeline: what each agent receives, what is stored, and what a failure leaves."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select, text

from luna_narrates.db.tables import AgentRun, CostLog, Turn
from luna_narrates.services import Services
from tests.scripted import BRIEFING, PASSAGE, PLAN, Room


async def play(client: httpx.AsyncClient, story_id: object, action: str) -> httpx.Response:
    return await client.post("/narrate/turn", json={"story_id": story_id, "user_action": action})


async def counts(services: Services) -> dict[str, int]:
    async with services.db.sessions() as session:
        result = {}
        for name, table in (("turns", Turn), ("agent_runs", AgentRun), ("cost_logs", CostLog)):
            result[name] = int(await session.scalar(select(func.count()).select_from(table)) or 0)
        jobs = await session.scalar(text("SELECT count(*) FROM luna.procrastinate_jobs"))
        result["jobs"] = int(jobs or 0)
    return result


async def test_each_agent_receives_what_the_previous_one_produced(
    client: httpx.AsyncClient, story: dict[str, Any], room: Room
) -> None:
    response = await play(client, story["id"], "I slip in through the water gate.")
    assert response.status_code == 200, response.text
    body = response.json()

    [pre] = room.calls["preprocessor"]
    assert story["premise"] in pre.system
    assert "I slip in through the water gate." in pre.user
    assert "has not begun yet" in pre.user

    [strategist] = room.calls["strategist"]
    assert BRIEFING["situation"] in strategist.user
    assert "- Who hired Ila?" in strategist.user
    assert "What the story remembers:\n(nothing yet)" in strategist.user
    assert "I slip in through the water gate." in strategist.user

    [writer] = room.calls["writer"]
    for beat in PLAN["beats"]:
        assert f"- {beat}" in writer.user
    assert "Gate guard: squints into the dark" in writer.user
    assert "opening passage" in writer.user

    assert body["turn_number"] == 1
    assert body["narrative_text"] == "".join(PASSAGE).strip()
    assert body["briefing"] == {**BRIEFING, "memory": []}
    assert body["plan"] == PLAN
    assert [a["agent"] for a in body["agents"]] == ["preprocessor", "strategist", "writer"]
    assert all(a["provider"] == "fn" for a in body["agents"])
    assert body["total_cost_usd"] == "0"
    assert body["total_execution_time_seconds"] > 0


async def test_every_agent_input_and_output_is_stored_with_the_turn(
    client: httpx.AsyncClient, story: dict[str, Any], room: Room
) -> None:
    await play(client, story["id"], "I slip in through the water gate.")
    turn = (await client.get(f"/stories/{story['id']}/turns/1")).json()
    agents = {a["agent"]: a for a in turn["agents"]}
    assert agents["preprocessor"]["output"] == {**BRIEFING, "memory": []}
    assert agents["preprocessor"]["input"]["user_action"] == "I slip in through the water gate."
    assert agents["strategist"]["input"]["briefing"] == {**BRIEFING, "memory": []}
    assert agents["strategist"]["output"] == PLAN
    assert agents["writer"]["input"]["plan"] == PLAN
    assert agents["writer"]["output"] == turn["narrative_text"]
    writer_seen = room.calls["writer"][0]
    assert agents["writer"]["prompt"] == [
        {"role": "system", "content": writer_seen.system},
        {"role": "user", "content": writer_seen.user},
    ]
    assert all(len(a["prompt_hash"]) == 64 for a in turn["agents"])
    listing = (await client.get(f"/stories/{story['id']}/turns")).json()
    assert [t["turn_number"] for t in listing["items"]] == [1]
    assert (await client.get(f"/stories/{story['id']}")).json()["turn_count"] == 1


async def test_second_turn_sees_the_first_and_keeps_the_stable_prefix(
    client: httpx.AsyncClient, story: dict[str, Any], room: Room
) -> None:
    await play(client, story["id"], "I slip in through the water gate.")
    second = await play(client, story["id"], "I hide behind a pillar.")
    assert second.json()["turn_number"] == 2
    _, second_pre = room.calls["preprocessor"]
    assert "Turn 1. Player: I slip in through the water gate." in second_pre.user
    assert "cold water bites" in second_pre.user
    assert "cold water bites" in room.calls["writer"][1].user
    for agent in ("preprocessor", "strategist", "writer"):
        first, later = room.calls[agent]
        assert first.system == later.system, f"{agent}'s system prompt changed between turns"


async def test_writer_failure_after_strategist_stores_nothing(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    room.writer_failure = RuntimeError("connection reset by peer")
    response = await play(client, story["id"], "I slip in through the water gate.")
    assert response.status_code == 502
    body = response.json()
    assert body["agent"] == "writer"
    assert body["provider"] == "fn"
    assert "writer" in body["message"] and "connection reset" in body["message"]
    assert "strategist" in room.calls
    assert await counts(services) == {"turns": 0, "agent_runs": 0, "cost_logs": 0, "jobs": 0}
    story_after = (await client.get(f"/stories/{story['id']}")).json()
    assert story_after["turn_count"] == 0
    room.writer_failure = None
    retry = await play(client, story["id"], "I try again.")
    assert retry.json()["turn_number"] == 1, "the failed turn must not hold the story"


async def test_writer_timeout_is_504(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    # A second for every agent: the instant scripted ones keep a wide margin on a busy machine
    # (0.2 s once timed out the Preprocessor under CI load), the Writer sleeps past it.
    services.settings.model_timeout_seconds = 1.0
    room.writer_delay = 3.0
    response = await play(client, story["id"], "I wait.")
    assert response.status_code == 504
    assert response.json()["agent"] == "writer"
    assert "did not answer within 1 s" in response.json()["message"]
    assert (await counts(services))["turns"] == 0


async def test_bad_turn_requests(client: httpx.AsyncClient, story: dict[str, Any]) -> None:
    missing = await play(client, str(uuid.uuid4()), "I look around.")
    assert missing.status_code == 404
    blank = await play(client, story["id"], "   ")
    assert blank.status_code == 422
    assert "user_action" in blank.json()["message"]
    bad_id = await play(client, "nope", "I look around.")
    assert bad_id.status_code == 422
    override = await client.post(
        "/narrate/turn",
        json={"story_id": story["id"], "user_action": "Go", "writer_model_override": "nomodel"},
    )
    assert override.status_code == 422
    assert "provider:model" in override.json()["message"]
    unknown = await client.post(
        "/narrate/turn",
        json={"story_id": story["id"], "user_action": "Go", "writer_model_override": "acme:x"},
    )
    assert unknown.status_code == 422
    assert "Unknown provider 'acme'" in unknown.json()["message"]


async def test_writer_model_override_applies_to_one_turn(
    client: httpx.AsyncClient, story: dict[str, Any], room: Room
) -> None:
    response = await client.post(
        "/narrate/turn",
        json={"story_id": story["id"], "user_action": "Go", "writer_model_override": "test"},
    )
    writer = response.json()["agents"][2]
    assert (writer["provider"], writer["model"]) == ("test", "scripted")
    assert "writer" not in room.calls
    assert "Ila slides under the portcullis." in response.json()["narrative_text"]


async def test_briefing_is_cut_to_the_token_budget(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    await play(client, story["id"], "I slip in through the water gate.")
    services.settings.briefing_token_budget = 60
    room.briefing = {
        **BRIEFING,
        "open_threads": ["A long unresolved thread about the Guild, its debts and its knives."] * 2,
    }
    body = (await play(client, story["id"], "I look around.")).json()
    briefing = body["briefing"]
    from luna_narrates.agents.preprocessor.agent import briefing_text
    from luna_narrates.agents.preprocessor.schemas import StrategistBriefing
    from luna_narrates.llm.tokens import estimate_tokens

    assert estimate_tokens(briefing_text(StrategistBriefing(**briefing))) <= 60
    assert briefing["situation"] == BRIEFING["situation"]
    assert len(briefing["open_threads"]) == 1, "threads go after memory, before the situation"
    assert briefing["memory"] == [], "the first turn, shown raw, does not fit in 60 tokens"


async def test_the_last_turn_reaches_the_strategist_even_before_its_memory_is_built(
    client: httpx.AsyncClient, story: dict[str, Any], room: Room
) -> None:
    await play(client, story["id"], "I slip in through the water gate.")
    body = (await play(client, story["id"], "I look around.")).json()
    [item] = body["briefing"]["memory"]
    assert item["kind"] == "pending"
    assert item["source"]["turn"] == 1
    assert "I slip in through the water gate." in item["text"]
    assert "[turn 1] Player: I slip in through the water gate." in room.calls["strategist"][1].user


async def test_concurrent_turns_on_one_story_are_serialised(
    client: httpx.AsyncClient, story: dict[str, Any], room: Room
) -> None:
    room.writer_delay = 0.05
    first, second = await asyncio.gather(
        play(client, story["id"], "I go left."), play(client, story["id"], "I go right.")
    )
    assert first.status_code == second.status_code == 200
    assert sorted([first.json()["turn_number"], second.json()["turn_number"]]) == [1, 2]
    later = room.calls["preprocessor"][1]
    assert "Turn 1. Player:" in later.user, "the second turn must see the first"


async def test_turns_of_different_stories_run_concurrently(
    client: httpx.AsyncClient, story: dict[str, Any], room: Room
) -> None:
    other = (await client.post("/stories", json={"title": "B", "premise": "Another tale."})).json()
    room.writer_delay = 0.1
    responses = await asyncio.gather(
        play(client, story["id"], "I go left."), play(client, other["id"], "I go right.")
    )
    assert all(r.status_code == 200 for r in responses)
    (start_a, end_a), (start_b, end_b) = room.writer_spans
    assert max(start_a, start_b) < min(end_a, end_b), "the two writers did not overlap"


async def test_a_turn_saved_meanwhile_by_another_process_is_a_409_not_a_duplicate(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    """If a lease ever expires under a slow turn, the unique turn number still holds."""

    async def another_process_commits_turn_1() -> None:
        async with services.db.transaction() as session:
            branch_id = uuid.UUID(story["active_branch"]["id"])
            session.add(
                Turn(
                    story_id=uuid.UUID(story["id"]),
                    branch_id=branch_id,
                    turn_number=1,
                    user_action="Elsewhere",
                    narrative_text="Written elsewhere.",
                    briefing={},
                    plan={},
                    total_cost_usd=0,
                    total_execution_time_seconds=0,
                )
            )

    room.during_writer = another_process_commits_turn_1
    response = await play(client, story["id"], "I go.")
    assert response.status_code == 409
    assert "nothing was saved" in response.json()["message"]
    assert await counts(services) == {"turns": 1, "agent_runs": 0, "cost_logs": 0, "jobs": 0}


async def test_story_deleted_while_its_turn_is_written_is_a_404(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    async def delete_the_story() -> None:
        assert (await client.delete(f"/stories/{story['id']}")).status_code == 204

    room.during_writer = delete_the_story
    response = await play(client, story["id"], "I go.")
    assert response.status_code == 404
    assert await counts(services) == {"turns": 0, "agent_runs": 0, "cost_logs": 0, "jobs": 0}


async def test_every_agent_can_be_overridden_for_one_turn(
    client: httpx.AsyncClient, story: dict[str, Any], room: Room
) -> None:
    response = await client.post(
        "/narrate/turn",
        json={
            "story_id": story["id"],
            "user_action": "Go",
            "preprocessor_model_override": "test",
            "strategist_model_override": "test",
        },
    )
    assert response.status_code == 200, response.text
    providers = [(a["agent"], a["provider"]) for a in response.json()["agents"]]
    assert providers == [("preprocessor", "test"), ("strategist", "test"), ("writer", "fn")]
    assert "preprocessor" not in room.calls and "strategist" not in room.calls
    again = await client.post(
        f"/stories/{story['id']}/turns/1/regenerate", json={"strategist_model_override": "test"}
    )
    assert [a["provider"] for a in again.json()["agents"]] == ["fn", "test", "fn"]
    bad = await client.post(
        "/narrate/turn",
        json={"story_id": story["id"], "user_action": "Go", "strategist_model_override": "acme:x"},
    )
    assert bad.status_code == 422 and "Unknown provider 'acme'" in bad.json()["message"]
