"""A story's pictures and the Dreamer's pool travel in its archive: exported with their files,
imported under new ids with the same pictures, and a file that is not one of the story's
pictures, or not a PNG, refused whole."""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from luna_narrates.archive.pictures import MISSING
from luna_narrates.db.tables import DreamerContent
from luna_narrates.services import Services
from tests.archive.test_archive import JSON, canonical, export_json, stories
from tests.dreamer.test_dreamer import meet_mira, pool
from tests.scripted import Room


async def pictured_story(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> dict[str, Any]:
    await meet_mira(client, services, story, room)
    data: dict[str, Any] = json.loads(await export_json(client, story["id"]))
    return data


async def test_the_pictures_and_the_pool_come_back_under_new_ids(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    await meet_mira(client, services, story, room)
    first = await export_json(client, story["id"])
    data = json.loads(first)
    images = data["tables"]["generated_images"]
    assert len(data["tables"]["dreamer_content"]) == 4 and len(images) >= 4
    assert set(data["files"]) == {i["path"] for i in images if i["path"]}, "each file once"
    assert len(data["files"]) < len([i for i in images if i["path"]]), "a reused background"

    response = await client.post("/stories/import", content=first, headers=JSON)
    assert response.status_code == 201, response.text
    copied = response.json()
    assert (copied["images"], copied["dreamer_ideas"]) == (len(images), 4)

    assert canonical(await export_json(client, copied["story_id"])) == canonical(first)
    before, after = await pool(client, story), await pool(client, {"id": copied["story_id"]})
    assert {n: (i["realized"], i["realized_in_turn"]) for n, i in after.items()} == {
        n: (i["realized"], i["realized_in_turn"]) for n, i in before.items()
    }
    [old], [new] = before["Mira the Ferrywoman"]["images"], after["Mira the Ferrywoman"]["images"]
    assert new["id"] != old["id"]
    assert (await client.get(new["url"])).content == (await client.get(old["url"])).content
    async with services.db.sessions() as session:
        unembedded = await session.scalar(
            select(func.count()).where(
                DreamerContent.story_id == uuid.UUID(copied["story_id"]),
                DreamerContent.embedding.is_(None),
            )
        )
    assert unembedded == 0, "the ideas' vectors are made again"


def _traversal(data: dict[str, Any]) -> None:
    path = next(i["path"] for i in data["tables"]["generated_images"] if i["path"])
    data["files"]["../../outside.png"] = data["files"][path]


def _foreign_path(data: dict[str, Any]) -> None:
    image = next(i for i in data["tables"]["generated_images"] if i["path"])
    image["path"] = "images/../../../etc/passwd"


def _not_png(data: dict[str, Any]) -> None:
    path = next(iter(data["files"]))
    data["files"][path] = "R0lGODlhAQABAAAAACw="


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_traversal, r'files\["\.\./\.\./outside\.png"\]: no image of the story shows this file'),
        (_foreign_path, r"generated_images\[\d+\]\.path: .* is not the path of one of"),
        (_not_png, r"files\[.*\]: Not a readable image"),
    ],
)
async def test_a_picture_that_is_not_the_storys_own_is_refused_whole(
    client: httpx.AsyncClient,
    services: Services,
    story: dict[str, Any],
    room: Room,
    damage: Any,
    says: str,
) -> None:
    data = await pictured_story(client, services, story, room)
    before = await stories(services)
    damage(data)

    response = await client.post("/stories/import", json=data)

    assert response.status_code == 422, response.text
    assert re.search(says, response.json()["message"]), response.json()["message"]
    assert await stories(services) == before
    assert not (services.settings.luna_data_dir / "outside.png").exists()


async def test_a_picture_left_out_of_the_archive_comes_in_as_failed(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    data = await pictured_story(client, services, story, room)
    gone = next(iter(data["files"]))
    del data["files"][gone]

    response = await client.post("/stories/import", json=data)
    assert response.status_code == 201, response.text

    listed = await client.get(f"/stories/{response.json()['story_id']}/images")
    failed = [i for i in listed.json() if i["status"] == "failed"]
    shown = [i for i in data["tables"]["generated_images"] if i["path"] == gone]
    assert len(failed) == len(shown) and {i["error"] for i in failed} == {MISSING}


async def test_an_archive_of_the_first_version_still_comes_in(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    data = await pictured_story(client, services, story, room)
    older = copy.deepcopy(data)
    older["version"] = 1
    del older["files"], older["tables"]["generated_images"], older["tables"]["dreamer_content"]

    response = await client.post("/stories/import", json=older)

    assert response.status_code == 201, response.text
    assert (response.json()["format_version"], response.json()["images"]) == (1, 0)
