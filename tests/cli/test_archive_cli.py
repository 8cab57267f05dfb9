"""`luna export` and `luna import`: a story to a file and back, from the command line."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.cli.test_turns import env, luna
from tests.timelines.conftest import append, lineage

__all__ = ["env"]


async def test_export_then_import_recreates_the_story(
    client: httpx.AsyncClient, story: dict[str, Any], env: None, tmp_path: Path
) -> None:
    await append(client, story["id"], "main", 3)
    archive = tmp_path / "canal.luna.json"
    result = await luna("export", str(story["id"]), "--output", str(archive))
    assert result.exit_code == 0, result.output
    assert json.loads(archive.read_text())["story"]["title"] == story["title"]
    assert not any(name.endswith(".partial") for name in os.listdir(tmp_path))

    imported = await luna("import", str(archive))
    assert imported.exit_code == 0, imported.output
    new_id = imported.output.strip().splitlines()[-1]
    told = await lineage(client, story["id"])
    assert [a for _, _, a in await lineage(client, new_id)] == [a for _, _, a in told]

    book = tmp_path / "canal.md"
    markdown = await luna("export", new_id, "-f", "markdown", "-o", str(book))
    assert markdown.exit_code == 0 and "main action 3" in book.read_text()


async def test_export_and_import_fail_clearly(env: None, tmp_path: Path) -> None:
    missing = await luna("export", str(uuid.uuid4()), "-o", str(tmp_path / "x.json"))
    assert missing.exit_code == 1 and "No story" in missing.output
    assert os.listdir(tmp_path) == [], "no file is left behind"
    unknown = await luna("export", str(uuid.uuid4()), "-f", "pdf")
    assert unknown.exit_code == 2 and "Unknown format pdf" in unknown.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "luna-narrates.story", "version": 1, "tables": {')
    refused = await luna("import", str(broken))
    assert refused.exit_code == 1 and "not complete JSON" in refused.output
    absent = await luna("import", str(tmp_path / "absent.json"))
    assert absent.exit_code == 1 and "Cannot read" in absent.output
