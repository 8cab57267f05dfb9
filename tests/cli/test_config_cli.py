"""`luna config show`: where every value came from, the stored ones included."""

from __future__ import annotations

import httpx
import pytest

from tests.cli.test_turns import env, luna

__all__ = ["env"]


async def test_config_show_explains_every_source(
    client: httpx.AsyncClient, env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = await client.put(
        "/settings", json={"writer_target_tokens": 333, "arc_length_turns": 6}
    )
    assert stored.status_code == 200, stored.text
    monkeypatch.setenv("ARC_LENGTH_TURNS", "8")
    monkeypatch.setenv("WRITER_MODEL", "test")

    result = await luna("config", "show")

    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "333" in lines["WRITER_TARGET_TOKENS"] and "stored" in lines["WRITER_TARGET_TOKENS"]
    arc = lines["ARC_LENGTH_TURNS"]
    assert "8" in arc and "environment" in arc and "locked" in arc and "overridden" in arc
    assert "environment" in lines["WRITER_MODEL"]
    assert "default" in lines["RECENT_TURNS_WINDOW"]
    assert "restart" in lines["LUNA_PORT"]
