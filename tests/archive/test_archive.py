"""Story export and import: the JSON archive round-trips everything, a bad file is refused
whole with where it goes wrong, and the books read as one branch's story."""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
import zipfile
from typing import Any

import httpx
import pytest
import zstandard
from sqlalchemy import func, select

from luna_narrates.agents.preprocessor.memory_schemas import ArcSummary
from luna_narrates.archive.tables import (
    DERIVED,
    EXPORTED,
    LIBRARY,
    MEMORY,
    SERVER,
)
from luna_narrates.db.tables import SCHEMA, Base, Story
from luna_narrates.memory import tasks
from luna_narrates.services import Services
from tests.memory.conftest import remember, turn_id
from tests.timelines.conftest import append, branch, lineage, play

Story_ = dict[str, Any]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def rich_story(client: httpx.AsyncClient, services: Services, story: Story_) -> str:
    """Generated and imported turns, a fork, a second take, an edit, memory and an arc."""
    main = (await play(client, story["id"], "I enter the Drowned Library."))["branch_id"]
    await append(client, story["id"], "main", 2)
    await client.patch(f"/stories/{story['id']}/turns/2", json={"narrative_text": "Edited."})
    await remember(
        services,
        main,
        1,
        entities=[{"name": "Mira", "kind": "character", "description": "A smuggler."}],
        facts=[{"subject": "Mira", "key": "status", "value": "hiding"}],
    )
    await remember(services, main, 2)
    await remember(services, main, 3)
    arc = await tasks.read_arc(services.db, await turn_id(services, main, 3), 3)
    assert arc is not None
    await tasks.write_arc(
        services.db, services.embedder, arc, ArcSummary(title="The Library", summary="Dust.")
    )
    await branch(client, story["id"], "Flooded", 2)
    await play(client, story["id"], "I swim down the stairs.")
    response = await client.post(f"/stories/{story['id']}/turns/3/regenerate", json={})
    assert response.status_code == 200, response.text
    await cast_and_lore(client, story["id"])
    return str(main)


async def cast_and_lore(client: httpx.AsyncClient, story_id: object) -> None:
    """A protagonist with skills and a portrait, an NPC with its own book, a cold lorebook."""
    ila = (
        await client.post(
            "/character-cards/manual",
            json={"name": "Ila", "tags": ["thief"], "extensions": {"tool/x": [1]},
                  "skills": [{"name": "Lockpicking", "value": 8, "max_value": 10}]},
        )
    ).json()  # fmt: skip
    await client.put(f"/character-cards/{ila['id']}/portrait", content=PORTRAIT)
    smugglers = {"keys": ["smuggler"], "content": "Mira runs the canal smugglers."}
    mira_book = {"entries": [smugglers]}
    npc_card = {"spec": "chara_card_v2", "data": {"name": "Mira", "character_book": mira_book}}
    mira = (await client.post("/character-cards/import", json=npc_card)).json()
    for card, role in ((ila, "protagonist"), (mira, "npc")):
        added = await client.post(
            f"/stories/{story_id}/characters", json={"character_id": card["id"], "role": role}
        )
        assert added.status_code == 201, added.text
    entries = [{"key": [f"relic {n}"], "content": f"Relic {n} hums."} for n in range(20)]
    book = await client.post(
        "/lorebooks", json={"name": "Relics", "storage_tier": "cold", "entries": entries}
    )
    await client.post(f"/stories/{story_id}/lorebooks", json={"lorebook_id": book.json()["id"]})


async def export_json(client: httpx.AsyncClient, story_id: object) -> str:
    response = await client.get(f"/stories/{story_id}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert "attachment; filename=" in response.headers["content-disposition"]
    return response.text


def canonical(text: str) -> str:
    """The export with its date dropped and every id replaced by its order of appearance."""
    data = json.loads(text)
    data.pop("exported_at")
    dumped = json.dumps(data, sort_keys=False)
    order: dict[str, str] = {}
    return UUID.sub(lambda m: order.setdefault(m.group(), f"<id {len(order)}>"), dumped)


async def stories(services: Services) -> int:
    async with services.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Story)) or 0)


async def test_export_import_export_gives_the_same_story(
    client: httpx.AsyncClient, services: Services, story: Story_
) -> None:
    main = await rich_story(client, services, story)
    first = await export_json(client, story["id"])
    data = json.loads(first)
    assert (data["format"], data["version"]) == ("luna-narrates.story", 2)
    counts = {name: len(rows) for name, rows in data["tables"].items()}
    assert counts["branches"] == 2 and counts["turns"] == 6, "four turns, two with two takes"
    assert counts["agent_runs"] >= 9 and counts["cost_logs"] >= 9
    assert counts["facts"] >= 1 and counts["story_arcs"] == 1 and counts["memory_chunks"] > 0
    assert (counts["character_cards"], counts["character_skills"]) == (2, 1)
    assert (counts["lorebooks"], counts["lorebook_entries"], counts["story_lorebooks"]) == (
        2,
        21,
        1,
    )

    imported = await client.post("/stories/import", content=first, headers=JSON)
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    assert copy["story_id"] != story["id"] and (copy["branches"], copy["turns"]) == (2, 6)
    assert copy["agent_runs"] == counts["agent_runs"]
    assert copy["memory_rows"] == sum(counts[name] for name in MEMORY)
    assert (copy["characters"], copy["lorebooks"]) == (2, 2)
    second = await export_json(client, copy["story_id"])
    assert canonical(second) == canonical(first)
    assert set(UUID.findall(second)).isdisjoint(UUID.findall(first)), "every id is new"

    told = [action for _, _, action in await lineage(client, copy["story_id"])]
    assert told == [action for _, _, action in await lineage(client, story["id"])]
    original = await client.get(f"/stories/{story['id']}/world")
    copied = await client.get(f"/stories/{copy['story_id']}/world")
    assert copied.status_code == 200
    assert _without_ids(copied.json()) == _without_ids(original.json())
    found = await client.get(
        f"/stories/{copy['story_id']}/memory/search", params={"q": "Mira hiding"}
    )
    assert any("hiding" in hit["text"] for hit in found.json()["hits"]), "vectors rebuilt"
    cast = (await client.get(f"/stories/{copy['story_id']}/characters")).json()
    assert [(m["character"]["name"], m["role"]) for m in cast] == [
        ("Ila", "protagonist"), ("Mira", "npc"),
    ]  # fmt: skip
    portrait = await client.get(f"/character-cards/{cast[0]['character']['id']}/portrait")
    assert portrait.content == PORTRAIT
    briefing = await client.get(
        f"/stories/{copy['story_id']}/briefing",
        params={"action": "Ask the smuggler about relic 7.", "budget": 2000},
    )
    lore = {i["text"] for i in briefing.json()["items"] if i["kind"] == "lore"}
    assert {"Mira runs the canal smugglers.", "Relic 7 hums."} <= lore
    assert main


def _without_ids(value: Any) -> Any:
    return json.loads(UUID.sub("<id>", json.dumps(value)))


JSON = {"content-type": "application/json"}
PORTRAIT = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


async def test_import_takes_a_multipart_file_and_builds_missing_memory(
    client: httpx.AsyncClient, services: Services, story: Story_
) -> None:
    await append(client, story["id"], "main", 3)
    text = await export_json(client, story["id"])
    response = await client.post(
        "/stories/import", files={"file": ("story.luna.json", text.encode(), "application/json")}
    )
    assert response.status_code == 201, response.text
    assert response.json()["memory_jobs"] == 6, "index and remember for each turn never remembered"


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda t: t[: len(t) // 2], "not complete JSON"),
        (lambda t: "[]", "not a story export"),
        (lambda t: t.replace('"version":2', '"version":9'), "format version 9"),
        (
            lambda t: t.replace('"turn_number":2', '"turn_number":"two"', 1),
            r"tables\.turns\[\d+\]\.turn_number: Input should be a valid integer",
        ),
        (lambda t: t.replace('"format":"luna-narrates.story"', '"format":"x"'), "format"),
        (lambda t: _drop_first_row(t, "branches"), "refers to branches row"),
        (lambda t: t.replace('"tables":{', '"tables":{"secrets":[],', 1), "tables.secrets"),
    ],
)
async def test_a_bad_file_is_refused_whole_saying_where(
    client: httpx.AsyncClient, services: Services, story: Story_, damage: Any, says: str
) -> None:
    await append(client, story["id"], "main", 3)
    text = await export_json(client, story["id"])
    before = await stories(services)
    response = await client.post("/stories/import", content=damage(text), headers=JSON)
    assert response.status_code == 422, response.text
    assert re.search(says, response.json()["message"]), response.json()["message"]
    assert "nothing was saved" in response.json()["message"]
    assert await stories(services) == before


def _drop_first_row(text: str, table: str) -> str:
    data = json.loads(text)
    data["tables"][table] = data["tables"][table][1:]
    return json.dumps(data)


def _set(table: str, column: str, value: Any) -> Any:
    def damage(data: dict[str, Any]) -> None:
        data["tables"][table][0][column] = value

    return damage


def _all_turns_first(data: dict[str, Any]) -> None:
    for turn in data["tables"]["turns"]:
        turn["turn_number"] = 1


def _own_parent(data: dict[str, Any]) -> None:
    fork = next(b for b in data["tables"]["branches"] if not b["is_main"])
    fork["parent_branch_id"] = fork["id"]


def _no_active(data: dict[str, Any]) -> None:
    for row in data["tables"]["branches"]:
        row["is_active"] = False


def _fork_past_the_end(data: dict[str, Any]) -> None:
    empty = next(b for b in data["tables"]["branches"] if b["name"] == "Empty")
    empty["fork_turn_number"] = 99


def _gap(data: dict[str, Any]) -> None:
    last = max(data["tables"]["turns"], key=lambda t: t["turn_number"])
    last["turn_number"] += 5


def _memory_on_unselected(data: dict[str, Any]) -> None:
    for turn in data["tables"]["turns"]:
        turn["is_selected"] = turn["turn_number"] != 1 or turn["version"] != 1
    data["tables"]["turns"].append(
        {**data["tables"]["turns"][0], "id": str(uuid.uuid4()), "version": 2, "is_selected": True}
    )
    summary = data["tables"]["turn_summaries"][0]
    first = next(t for t in data["tables"]["turns"] if t["turn_number"] == 1 and t["version"] == 1)
    summary["turn_id"] = first["id"]


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_all_turns_first, "needs exactly one selected take"),
        (_own_parent, "go round in a circle"),
        (_no_active, "exactly one branch is the active one"),
        (_gap, "without gaps"),
        (_memory_on_unselected, "memory belongs to a selected take"),
        (_set("turns", "briefing", 5), r"turns\[0\]\.briefing: must be an object"),
        (_set("turns", "total_cost_usd", "1e12"), "does not fit its column"),
        (_set("turns", "narrative_text", "nul \u0000 byte"), "does not fit its column"),
        (_fork_past_the_end, "99 is not one of its parent's own turns"),
    ],
)
async def test_a_file_that_breaks_the_structure_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, services: Services, story: Story_, damage: Any, says: str
) -> None:
    await append(client, story["id"], "main", 2)
    await branch(client, story["id"], "Empty", 1, active=False)
    await branch(client, story["id"], "Fork", 1)
    await append(client, story["id"], "fork", 1)
    await remember(services, (await _main_id(client, story)), 1)
    data = json.loads(await export_json(client, story["id"]))
    data["tables"]["branches"].sort(key=lambda b: not b["is_main"])
    damage(data)
    before = await stories(services)
    response = await client.post("/stories/import", json=data)
    assert response.status_code == 422, response.text
    assert re.search(says, response.json()["message"]), response.json()["message"]
    assert await stories(services) == before


async def test_every_table_of_a_story_is_exported() -> None:
    exported = {spec.name for spec in EXPORTED} | {"stories", *LIBRARY, *SERVER, *DERIVED}
    story_tables = {
        table.name
        for table in Base.metadata.sorted_tables
        if table.schema == SCHEMA and not table.name.startswith("procrastinate")
    }
    assert story_tables == exported


async def test_books_tell_one_branch(
    client: httpx.AsyncClient, services: Services, story: Story_
) -> None:
    await append(client, story["id"], "main", 3)
    side = await branch(client, story["id"], "Side", 1)
    await append(client, story["id"], "side", 1)
    url = f"/stories/{story['id']}/export"

    markdown = await client.get(url, params={"format": "markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    text = markdown.text
    assert "main action 1" in text and "side action 1" in text and "main action 2" not in text
    assert text.index("main action 1") < text.index("side action 1")

    html = await client.get(
        url, params={"format": "html", "branch_id": await _main_id(client, story)}
    )
    assert "<!DOCTYPE html>" in html.text[:200] or "<!doctype html>" in html.text[:200].lower()
    assert "main action 3" in html.text and "side action 1" not in html.text

    epub = await client.get(url, params={"format": "epub", "branch_id": side["id"]})
    assert epub.headers["content-type"] == "application/epub+zip"
    with zipfile.ZipFile(io.BytesIO(epub.content)) as book:
        assert book.read("mimetype") == b"application/epub+zip"
        assert any("side action 1" in book.read(name).decode() for name in book.namelist())

    assert (await client.get(url, params={"format": "pdf"})).status_code == 422
    refused = await client.get(url, params={"format": "json", "branch_id": side["id"]})
    assert refused.status_code == 422 and "every branch" in refused.json()["message"]
    assert (
        await client.get("/stories/00000000-0000-0000-0000-000000000000/export")
    ).status_code == 404


async def _main_id(client: httpx.AsyncClient, story: Story_) -> str:
    items = (await client.get(f"/stories/{story['id']}/branches")).json()["items"]
    return str(next(b["id"] for b in items if b["is_main"]))


def _cold_entry(data: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = next(e for e in data["tables"]["lorebook_entries"] if e["packed"])
    return entry


BOMB = base64.b64encode(zstandard.ZstdCompressor().compress(b"0" * (64 * 1024 * 1024))).decode()


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_set("lorebook_entries", "fields", {"uid": 0, "key": [1]}), r"lorebook_entries\[0\]"),
        (_set("lorebook_entries", "fields", {"uid": 0, "sticky": "soon"}), "sticky"),
        (_set("lorebook_entries", "packed", BOMB), "hot or warm"),
        (lambda data: _cold_entry(data).update(packed=BOMB), "claims 67108864 bytes"),
        (_set("character_cards", "card", {"spec": "chara_card_v2", "data": 3}), "data"),
        (_set("character_portraits", "image", base64.b64encode(b"GIF89a").decode()), "image"),
        (_set("character_portraits", "image", "not base64!"), "base64"),
    ],
)
async def test_a_bad_cast_or_lorebook_in_an_archive_is_refused(
    client: httpx.AsyncClient, services: Services, story: Story_, damage: Any, says: str
) -> None:
    await cast_and_lore(client, story["id"])
    warm = await client.post(
        "/lorebooks", json={"name": "Warm", "entries": [{"key": ["a"], "content": "A."}]}
    )
    await client.post(f"/stories/{story['id']}/lorebooks", json={"lorebook_id": warm.json()["id"]})
    data = json.loads(await export_json(client, story["id"]))
    data["tables"]["lorebook_entries"].sort(key=lambda e: e["fields"] is None)  # a warm one first
    damage(data)
    before = await stories(services)
    response = await client.post("/stories/import", json=data)
    assert response.status_code == 422, response.text
    assert re.search(says, response.json()["message"]), response.json()["message"]
    assert await stories(services) == before
