"""Account tests run with logins required, as on a server others reach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from luna_narrates.config import Settings
from tests.conftest import make_settings

PASSWORD = "lantern-over-the-canal"


@pytest.fixture
def settings(database_url: str, data_dir: Path) -> Settings:
    return make_settings(
        database_url,
        data_dir,
        luna_auth="required",
        auth_lockout_seconds=1,
        luna_secret_key="k" * 32,
    )


async def register(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/auth/register",
        json={"username": username, "password": password, **extra.pop("body", {})},
        **extra,
    )


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    response = await client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def player(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    """A registered, signed-in player's headers."""
    created = await register(client, username)
    assert created.status_code == 201, created.text
    return bearer(await login(client, username))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def cast_and_lore(
    client: httpx.AsyncClient, headers: dict[str, str], story_id: str, ids: dict[str, str]
) -> None:
    """Puts the player's card (`character_id`) into their story and attaches their lorebook."""
    for link, name in (("characters", "character_id"), ("lorebooks", "lorebook_id")):
        response = await client.post(
            f"/stories/{story_id}/{link}", json={name: ids[name]}, headers=headers
        )
        assert response.status_code == 201, response.text
