"""The authorization matrix, generated from the app's route table: every route has an access
rule (a new route without one fails here); with logins required, every route but the public
ones answers 401 without a token; another player's story, image, character card, lorebook or
world answers 404 on every route that names one; admins' routes answer 403 to a player; and the
owner gets through."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from luna_narrates.api.access import RULES, rule_of
from luna_narrates.app import create_app
from luna_narrates.config import Settings
from luna_narrates.db.tables import GeneratedImage
from luna_narrates.services import Services
from tests.accounts.conftest import cast_and_lore, player
from tests.conftest import STORY

PARAM = re.compile(r"{(\w+)(?::\w+)?}")
SCOPED = ("story", "image", "owned")
OWNED_IDS = {"story_id", "turn_number", "image_id", "character_id", "lorebook_id", "world_id"}


def operations(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the app answers, in the schema or not."""
    for route in app.router.routes:
        found = route.effective_candidates() if hasattr(route, "effective_candidates") else [route]
        for candidate in found:
            if isinstance(candidate, APIRoute) or hasattr(candidate, "original_route"):
                for method in sorted(candidate.methods or ()):
                    yield method, candidate.path


@pytest.fixture(scope="module")
def table() -> list[tuple[str, str]]:
    app = create_app(Settings(_env_file=None, luna_auth="required"))  # type: ignore[call-arg]
    return sorted(set(operations(app)) - {("HEAD", path) for _, path in operations(app)})


def test_every_route_has_an_access_rule_and_every_rule_a_route(
    table: list[tuple[str, str]],
) -> None:
    missing = [f"{method} {path}" for method, path in table if rule_of(method, path) is None]
    assert not missing, f"give these routes a rule in api/access.py: {missing}"
    stale = set(RULES) - {f"{method} {path}" for method, path in table}
    assert not stale, f"rules for routes that do not exist: {sorted(stale)}"
    assert len(table) >= 110


def fill(path: str, ids: dict[str, str]) -> str:
    return PARAM.sub(lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


def ask(client: httpx.AsyncClient, method: str, url: str, **extra: Any) -> Any:
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return client.request(method, url, **body, **extra)


async def test_without_a_token_only_the_public_routes_answer(
    client: httpx.AsyncClient, table: list[tuple[str, str]]
) -> None:
    answers = {
        f"{method} {path}": (await ask(client, method, fill(path, {}))).status_code
        for method, path in table
        if rule_of(method, path) != "public"
    }
    assert {key: code for key, code in answers.items() if code != 401} == {}
    assert len(answers) >= 100


@pytest.fixture
async def owned(client: httpx.AsyncClient, services: Services) -> dict[str, Any]:
    """Ila (the admin) has a story with a turn and an image, a character card (in the story's
    cast), a lorebook (attached to it) and a world; Tomas is another player, and Mira another
    admin."""
    ila = await player(client, "ila")
    tomas = await player(client, "tomas")
    mira = await player(client, "mira")
    users = (await client.get("/admin/users", headers=ila)).json()
    mira_id = next(u["id"] for u in users if u["username"] == "mira")
    await client.patch(f"/admin/users/{mira_id}", json={"is_admin": True}, headers=ila)
    story = (await client.post("/stories", json=STORY, headers=ila)).json()
    turn = await client.post(
        "/narrate/turn", json={"story_id": story["id"], "user_action": "I wait."}, headers=ila
    )
    assert turn.status_code == 200, turn.text
    image = GeneratedImage(
        story_id=uuid.UUID(story["id"]),
        image_type="action",
        subject="a wait",
        prompt="a wait",
        settings={},
        cache_key="k",
    )
    async with services.db.transaction() as session:
        session.add(image)
    ids = {"story_id": story["id"], "image_id": str(image.id), "turn_number": "1"}
    for name, path, body in (
        ("character_id", "/character-cards/manual", {"name": "Brother Amon"}),
        ("lorebook_id", "/lorebooks", {"name": "Veyra", "entries": [{"key": ["Doge"]}]}),
        ("world_id", "/worlds", {"name": "Veyra"}),
    ):
        response = await client.post(path, json=body, headers=ila)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    await cast_and_lore(client, ila, story["id"], ids)
    return {"ila": ila, "tomas": tomas, "mira": mira, "ids": ids}


async def test_another_players_story_image_card_lorebook_or_world_is_not_found_on_every_route(
    client: httpx.AsyncClient, table: list[tuple[str, str]], owned: dict[str, Any]
) -> None:
    scoped = [(m, p) for m, p in table if rule_of(m, p) in SCOPED]
    for headers in (owned["tomas"], owned["mira"]):
        answers = {
            f"{method} {path}": (
                await ask(client, method, fill(path, owned["ids"]), headers=headers)
            ).status_code
            for method, path in scoped
        }
        assert {key: code for key, code in answers.items() if code != 404} == {}
    library = [
        (m, p)
        for m, p in scoped
        if {"character_id", "lorebook_id", "world_id"} & set(PARAM.findall(p))
    ]
    assert len(scoped) >= 59 and len(library) >= 25
    turn = await client.post(
        "/narrate/turn",
        json={"story_id": owned["ids"]["story_id"], "user_action": "I take over."},
        headers=owned["tomas"],
    )
    assert turn.status_code == 404, "the story named in a body is checked too"
    listed = (await client.get("/stories", headers=owned["tomas"])).json()
    assert listed["items"] == [] and listed["total"] == 0


async def test_admins_routes_are_refused_to_a_player(
    client: httpx.AsyncClient, table: list[tuple[str, str]], owned: dict[str, Any]
) -> None:
    answers = {
        f"{method} {path}": (
            await ask(client, method, fill(path, owned["ids"]), headers=owned["tomas"])
        ).status_code
        for method, path in table
        if rule_of(method, path) == "admin"
    }
    assert {key: code for key, code in answers.items() if code != 403} == {}
    assert len(answers) >= 12


async def test_the_owner_gets_through(
    client: httpx.AsyncClient, table: list[tuple[str, str]], owned: dict[str, Any]
) -> None:
    """Every GET the owner may make of their story and library (no other parameter needed)
    answers."""
    simple = [
        (m, p)
        for m, p in table
        if m == "GET"
        and rule_of(m, p) in SCOPED
        and set(PARAM.findall(p)) <= OWNED_IDS
        and "generate" not in p
        and "regenerate" not in p
    ]
    answers = {
        f"{method} {path}": (
            await ask(client, method, fill(path, owned["ids"]), headers=owned["ila"])
        ).status_code
        for method, path in simple
    }
    refused = {key: code for key, code in answers.items() if code in (401, 403, 404)}
    assert refused == {}
    assert answers["GET /images/{image_id}"] == 409, "through the check: the image is not drawn"
    assert answers["GET /worlds/{world_id}"] == 200
    assert len(answers) >= 27
