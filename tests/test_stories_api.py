"""The /stories routes against the real database."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from luna_narrates.api import health
from tests.conftest import STORY


async def test_create_story_gets_main_branch(client: httpx.AsyncClient) -> None:
    response = await client.post("/stories", json=STORY)
    assert response.status_code == 201
    body = response.json()
    uuid.UUID(body["id"])
    assert body["title"] == STORY["title"]
    assert body["turn_count"] == 0
    assert body["active_branch"]["name"] == "Main"
    assert body["active_branch"]["is_main"] is True


async def test_list_stories_paginates(client: httpx.AsyncClient) -> None:
    for index in range(3):
        await client.post("/stories", json={**STORY, "title": f"Story {index}"})
    page = (await client.get("/stories", params={"limit": 2})).json()
    assert page["total"] == 3
    assert len(page["items"]) == 2
    rest = (await client.get("/stories", params={"limit": 2, "offset": 2})).json()
    assert len(rest["items"]) == 1
    titles = {s["title"] for s in page["items"] + rest["items"]}
    assert titles == {"Story 0", "Story 1", "Story 2"}


async def test_get_and_delete_story(client: httpx.AsyncClient, story: dict[str, object]) -> None:
    assert (await client.get(f"/stories/{story['id']}")).json()["id"] == story["id"]
    assert (await client.delete(f"/stories/{story['id']}")).status_code == 204
    missing = await client.get(f"/stories/{story['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert (await client.delete(f"/stories/{story['id']}")).status_code == 404


async def test_unknown_story_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/stories/{uuid.uuid4()}")
    assert response.status_code == 404
    assert "No story" in response.json()["message"]


async def test_malformed_ids_and_bodies_are_422(client: httpx.AsyncClient) -> None:
    assert (await client.get("/stories/not-a-uuid")).status_code == 422
    blank = await client.post("/stories", json={**STORY, "premise": "   "})
    assert blank.status_code == 422
    assert "premise" in blank.json()["message"]
    missing = await client.post("/stories", json={"title": "No premise"})
    assert missing.status_code == 422
    extra = await client.post("/stories", json={**STORY, "owner": "someone"})
    assert extra.status_code == 422
    assert (await client.get("/stories", params={"limit": 0})).status_code == 422


async def test_turns_of_new_story_are_empty(
    client: httpx.AsyncClient, story: dict[str, object]
) -> None:
    page = (await client.get(f"/stories/{story['id']}/turns")).json()
    assert page == {
        "branch_id": story["active_branch"]["id"],  # type: ignore[index]
        "items": [],
        "total": 0,
        "limit": 50,
        "from_turn": 1,
        "prev_from": None,
        "next_from": None,
        "last_from": None,
    }
    missing = await client.get(f"/stories/{story['id']}/turns/1")
    assert missing.status_code == 404
    assert (await client.get(f"/stories/{uuid.uuid4()}/turns")).status_code == 404


async def test_root_health_and_openapi(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(health, "WEB_UI", tmp_path)  # the web UI not built (tests/web builds it)
    root = (await client.get("/")).json()
    assert root["docs"] == "/docs" and root["ui"].startswith("not built")
    assert (await client.get("/health")).json() == {"status": "ok"}
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/stories",
        "/stories/{story_id}",
        "/stories/{story_id}/turns",
        "/stories/{story_id}/turns/{turn_number}",
        "/narrate/turn",
        "/narrates/stories/{story_id}/generate",
    ):
        assert path in paths
