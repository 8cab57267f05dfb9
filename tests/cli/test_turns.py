"""`luna turns show`: what an agent saw on a turn, from the command line."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from luna_narrates.cli.main import app


async def luna(*args: str) -> Result:
    """The command runs its own event loop, so it gets a thread of its own."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


@pytest.fixture
def env(database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LUNA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COLUMNS", "200")


async def test_shows_what_the_writer_saw(
    client: httpx.AsyncClient, story: dict[str, Any], env: None
) -> None:
    await client.post(
        "/narrate/turn", json={"story_id": story["id"], "user_action": "I pick the lock."}
    )
    result = await luna("turns", "show", str(story["id"]), "1", "--agent", "writer")
    assert result.exit_code == 0, result.output
    assert "writer · test:scripted" in result.output
    assert "The player's action: I pick the lock." in result.output
    assert "preprocessor ·" not in result.output


async def test_unknown_turn_is_a_clear_error(story: dict[str, Any], env: None) -> None:
    result = await luna("turns", "show", str(story["id"]), "7")
    assert result.exit_code == 1
    assert "has no turn 7" in result.output
    missing = await luna("turns", "show", str(uuid.uuid4()), "1")
    assert "No story" in missing.output
