"""Helpers for timeline tests: turns appended without models, branches through the API."""

from __future__ import annotations

from typing import Any

import httpx


async def append(
    client: httpx.AsyncClient, story_id: object, tag: str, count: int, branch_id: object = None
) -> dict[str, Any]:
    """`count` turns on the branch (the active one by default), their texts tagged."""
    response = await client.post(
        f"/stories/{story_id}/turns/import",
        json={
            "turns": [
                {"user_action": f"{tag} action {i}", "narrative_text": f"{tag} passage {i}."}
                for i in range(1, count + 1)
            ],
            **({"branch_id": str(branch_id)} if branch_id else {}),
        },
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def branch(
    client: httpx.AsyncClient,
    story_id: object,
    name: str,
    at: int,
    source: object = None,
    *,
    active: bool = True,
) -> dict[str, Any]:
    body: dict[str, Any] = {"branch_name": name, "from_turn_number": at, "make_active": active}
    if source is not None:
        body["from_branch_id"] = str(source)
    response = await client.post(f"/stories/{story_id}/branches", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def lineage(
    client: httpx.AsyncClient, story_id: object, branch_id: object = None
) -> list[tuple[int, str, str]]:
    """(number, branch id, action) of every turn the branch tells, paging 100 at a time."""
    found: list[tuple[int, str, str]] = []
    start: int | None = 1
    while start is not None:
        params: dict[str, Any] = {"from": start, "limit": 100}
        if branch_id is not None:
            params["branch_id"] = str(branch_id)
        response = await client.get(f"/stories/{story_id}/turns", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += [(t["turn_number"], t["branch_id"], t["user_action"]) for t in page["items"]]
        start = page["next_from"]
    return found


async def play(
    client: httpx.AsyncClient, story_id: object, action: str, branch_id: object = None
) -> dict[str, Any]:
    """A real turn through the pipeline, on the `test` models."""
    body: dict[str, Any] = {"story_id": str(story_id), "user_action": action}
    if branch_id is not None:
        body["branch_id"] = str(branch_id)
    response = await client.post("/narrate/turn", json=body)
    assert response.status_code == 200, response.text
    turn: dict[str, Any] = response.json()
    return turn
