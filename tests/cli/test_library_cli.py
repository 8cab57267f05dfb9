"""`luna cards` and `luna lorebooks`: SillyTavern's files in and back out from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from luna_narrates.formats.character_card import read_card
from tests.cli.test_turns import env, luna
from tests.shared_fixtures import FIXTURES, needs_fixtures

__all__ = ["env"]


@needs_fixtures
async def test_a_card_and_a_lorebook_in_and_out(
    client: httpx.AsyncClient, env: None, tmp_path: Path
) -> None:
    assert FIXTURES is not None
    staging = FIXTURES / "sillytavern" / "staging-2024-10-18"
    imported = await luna("cards", "import", str(staging / "default_Seraphina.png"))
    assert imported.exit_code == 0, imported.output
    card_id = imported.output.strip().splitlines()[-1]
    assert "with lorebook" in imported.output
    png = tmp_path / "seraphina.png"
    exported = await luna("cards", "export", card_id, "-o", str(png))
    assert exported.exit_code == 0, exported.output
    assert read_card(png.read_bytes()).name == "Seraphina"

    book = await luna("lorebooks", "import", str(staging / "Eldoria.json"), "--tier", "cold")
    assert book.exit_code == 0, book.output
    assert "4 entries, cold" in book.output
    book_id = book.output.strip().splitlines()[-1]
    out = tmp_path / "eldoria.json"
    written = await luna("lorebooks", "export", book_id, "-o", str(out))
    assert written.exit_code == 0, written.output
    assert len(json.loads(out.read_text())["entries"]) == 4
    listed = (await client.get("/lorebooks?tier=cold")).json()
    assert [b["name"] for b in listed["items"]] == ["Eldoria"]


async def test_bad_files_and_options_fail_clearly(env: None, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"entries": {"0": {"key": "sword"}}}')
    refused = await luna("lorebooks", "import", str(bad))
    assert refused.exit_code == 1 and "entries['0'].key" in refused.output
    assert (await luna("lorebooks", "import", str(bad), "--tier", "frozen")).exit_code == 2
    absent = await luna("cards", "import", str(tmp_path / "absent.png"))
    assert absent.exit_code == 1 and "Cannot read" in absent.output
    assert (await luna("cards", "export", "00000000-0000-0000-0000-000000000000")).exit_code == 1
