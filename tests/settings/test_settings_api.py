"""GET/PUT /settings: every value says where it came from; a stored change reaches the next
turn and every other process without a restart; the environment wins and is locked; bad
changes are refused whole, naming the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from luna_narrates.llm.registry import ModelRegistry
from luna_narrates.services import Services
from luna_narrates.settings.service import SettingsStore
from tests.conftest import make_settings
from tests.narration.test_pipeline import play
from tests.scripted import FN_MODELS, Room


def by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in body["settings"]}


async def test_every_setting_says_where_its_value_came_from(
    client: httpx.AsyncClient, services: Services
) -> None:
    shown = by_name((await client.get("/settings")).json())

    assert shown["writer_model"] | {"description": None} == {
        "name": "writer_model",
        "variable": "WRITER_MODEL",
        "value": "fn:writer",
        "source": "command line",  # given to Settings() by the test, as `luna serve --model` does
        "locked": True,
        "editable": False,
        "description": None,
        "value_schema": {"type": "string"},
        "updated_at": None,
        "shadowed": None,
    }
    budget = shown["briefing_token_budget"]
    assert (budget["value"], budget["source"], budget["editable"]) == (400, "default", True)
    # What a form needs to draw the field and check it before sending it.
    assert budget["value_schema"] == {"type": "integer", "minimum": 50, "maximum": 32000}
    assert shown["writer_fallbacks"]["value_schema"] == {
        "type": "array",
        "items": {"type": "string"},
    }
    assert shown["luna_auth"]["value_schema"]["enum"] == ["local", "required"]
    assert (shown["database_url"]["source"], shown["database_url"]["editable"]) == (
        "command line",
        False,
    )


async def test_secrets_are_never_returned(
    client: httpx.AsyncClient, services: Services, database_url: str, data_dir: Path
) -> None:
    from pydantic import SecretStr

    services.settings.anthropic_api_key = SecretStr("sk-ant-very-secret")
    response = await client.get("/settings")
    assert "sk-ant-very-secret" not in response.text
    assert by_name(response.json())["anthropic_api_key"]["value"] == "(set)"
    refused = await client.put("/settings", json={"anthropic_api_key": "sk-ant-other"})
    assert refused.status_code == 422 and "not changeable" in refused.json()["message"].lower()


async def test_a_stored_change_reaches_the_next_turn(
    client: httpx.AsyncClient, story: dict[str, Any], room: Room
) -> None:
    changed = await client.put(
        "/settings", json={"briefing_token_budget": 120, "writer_target_tokens": 90}
    )
    assert changed.status_code == 200, changed.text
    shown = by_name(changed.json())
    assert shown["briefing_token_budget"]["source"] == "stored"
    assert shown["briefing_token_budget"]["value"] == 120
    assert shown["briefing_token_budget"]["updated_at"] is not None

    await play(client, story["id"], "I look around.")
    turn = (await client.get(f"/stories/{story['id']}/turns/1")).json()
    agents = {a["agent"]: a for a in turn["agents"]}
    assert agents["preprocessor"]["input"]["token_budget"] == 120
    assert agents["writer"]["input"]["target_tokens"] == 90

    forgotten = by_name(
        (await client.put("/settings", json={"briefing_token_budget": None})).json()
    )
    assert forgotten["briefing_token_budget"] | {"updated_at": None} == forgotten[
        "briefing_token_budget"
    ] | {"value": 400, "source": "default", "updated_at": None}


async def test_another_process_picks_the_change_up_before_its_next_turn(
    client: httpx.AsyncClient, services: Services, database_url: str, data_dir: Path
) -> None:
    # Another process (a second server, or `luna worker`): its own Settings and store.
    other_settings = make_settings(database_url, data_dir, **FN_MODELS)
    other = SettingsStore(other_settings, services.db, ModelRegistry(other_settings))
    await other.refresh()
    assert other_settings.extractor_fallbacks == []

    await client.put(
        "/settings",
        json={"extractor_model": "test", "extractor_fallbacks": "ollama:llama3.1, local:smollm2"},
    )
    await other.refresh()
    assert other_settings.extractor_model == "test"
    assert other_settings.extractor_fallbacks == ["ollama:llama3.1", "local:smollm2"]
    assert other_settings.chain_for("extractor") == ["test", "ollama:llama3.1", "local:smollm2"]

    await client.put("/settings", json={"extractor_model": None, "extractor_fallbacks": None})
    await other.refresh()
    assert other_settings.extractor_model is None and other_settings.extractor_fallbacks == []


async def test_the_environment_wins_and_is_locked(
    client: httpx.AsyncClient,
    services: Services,
    database_url: str,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await client.put("/settings", json={"arc_length_turns": 12})
    monkeypatch.setenv("ARC_LENGTH_TURNS", "7")
    settings = make_settings(database_url, data_dir, **FN_MODELS)  # reads the environment
    store = SettingsStore(settings, services.db, ModelRegistry(settings))
    await store.refresh()

    assert settings.arc_length_turns == 7, "a stored value never overrides the environment"
    [arc] = [s for s in store.show().settings if s.name == "arc_length_turns"]
    assert (arc.source, arc.locked, arc.editable, arc.shadowed) == ("environment", True, False, 12)

    services.store.locked["arc_length_turns"] = "environment"  # as if this server saw it too
    refused = await client.put("/settings", json={"arc_length_turns": 9})
    assert refused.status_code == 409
    assert "ARC_LENGTH_TURNS (environment)" in refused.json()["message"]
    assert refused.json()["settings"] == ["arc_length_turns"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"colour": "blue"}, "Unknown settings: colour"),
        ({"briefing_token_budget": 10}, "briefing_token_budget: Input should be greater"),
        ({"writer_fallbacks": ["nonsense"]}, "is not a 'provider:model' string"),
        ({"writer_fallbacks": ["warp:drive"]}, "Unknown provider 'warp'"),
        ({"luna_port": 9000}, "Not changeable while the server runs: luna_port"),
    ],
)
async def test_bad_changes_are_refused_whole(
    client: httpx.AsyncClient, changes: dict[str, Any], expected: str
) -> None:
    response = await client.put("/settings", json={"recent_turns_window": 5, **changes})
    assert response.status_code == 422, response.text
    assert expected in response.json()["message"]
    shown = by_name((await client.get("/settings")).json())
    assert shown["recent_turns_window"]["source"] == "default", "nothing was stored"
