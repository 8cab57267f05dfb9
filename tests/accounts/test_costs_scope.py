"""Cost figures across stories are a player's own; an admin's cover everything."""

from __future__ import annotations

from typing import Any

import httpx

from tests.accounts.conftest import player
from tests.conftest import STORY


async def play_once(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    story = (await client.post("/stories", json=STORY, headers=headers)).json()
    turn = {"story_id": story["id"], "user_action": "I look around."}
    response = await client.post("/narrate/turn", json=turn, headers=headers)
    assert response.status_code == 200, response.text


def calls(rows: list[dict[str, Any]]) -> int:
    return sum(row["calls"] for row in rows)


async def test_a_player_sees_the_costs_of_their_own_stories_an_admin_all(
    client: httpx.AsyncClient,
) -> None:
    admin = await player(client, "ila")
    tomas = await player(client, "tomas")
    await play_once(client, admin)
    await play_once(client, tomas)
    await play_once(client, tomas)

    mine = (await client.get("/cost-analytics/agents", headers=tomas)).json()
    everything = (await client.get("/cost-analytics/agents", headers=admin)).json()
    assert calls(mine) > 0 and calls(everything) == calls(mine) * 3 // 2
    days = (await client.get("/cost-analytics/daily?days=1", headers=tomas)).json()
    assert [day["turns"] for day in days] == [2]
    all_days = (await client.get("/cost-analytics/daily?days=1", headers=admin)).json()
    assert [day["turns"] for day in all_days] == [3]
    months = (await client.get("/cost-analytics/monthly?months=1", headers=tomas)).json()
    assert months[0]["calls"] == calls(mine)
    projection = (await client.get("/cost-analytics/projection", headers=tomas)).json()
    assert projection["sample_turns"] == 2
