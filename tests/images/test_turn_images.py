"""A turn's images, end to end: planned after the turn, drawn (by the labelled placeholder
renderer when no GPU worker is configured, else on the pool), stored as PNG asset cards,
served, reused from the cache while the scene stays, and gone with their story."""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import text

from luna_narrates.config import ImageWorkerConfig
from luna_narrates.formats.asset_card import extract
from luna_narrates.images import service as images
from luna_narrates.services import Services, run_job_worker
from tests.fakes.a1111 import FakeA1111
from tests.narration.test_pipeline import play
from tests.narration.test_sse import parse_sse
from tests.scripted import PASSAGE, Room


async def drain(services: Services) -> None:
    """Runs the workers until no job is left: planning a turn's images defers their renders."""
    while True:
        await run_job_worker(services, wait=False)
        async with services.db.sessions() as session:
            left = await session.scalar(
                text(
                    "SELECT count(*) FROM luna.procrastinate_jobs WHERE status = 'todo' "
                    "AND (scheduled_at IS NULL OR scheduled_at <= now())"
                )
            )
        if not left:
            return


async def turn_with_images(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], action: str
) -> list[dict[str, Any]]:
    turn = (await play(client, story["id"], action)).json()
    await drain(services)
    response = await client.get(
        f"/stories/{story['id']}/images", params={"turn_number": turn["turn_number"]}
    )
    assert response.status_code == 200, response.text
    return sorted(response.json(), key=lambda i: (i["image_type"], i["subject"]))


async def test_without_a_worker_each_image_is_a_labelled_placeholder_card(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], data_dir: Path
) -> None:
    images = await turn_with_images(client, services, story, "I slip in through the water gate.")

    assert [(i["image_type"], i["subject"]) for i in images] == [
        ("background", "The water gate"),
        ("portrait", "Gate guard"),
        ("portrait", "Ila"),
    ]
    assert all(i["status"] == "complete" and i["placeholder"] for i in images)
    background = images[0]
    assert background["settings"]["width"] == services.settings.image_width
    picture = await client.get(background["url"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.headers["x-luna-placeholder"] == "true"
    assert Image.open(io.BytesIO(picture.content)).size == (768, 512)
    card = extract(picture.content)
    assert (card.content_type, card.name) == ("background", "The water gate")
    assert card.generation.prompt == background["prompt"] and card.generation.model == "placeholder"
    assert (data_dir / "images" / story["id"] / "background").is_dir()


async def test_the_background_is_reused_while_the_scene_stays_and_portraits_follow_changes(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    first = await turn_with_images(client, services, story, "I slip in.")
    room.passage = ["Ila, now wearing ", "the guard's cloak, ", "walks on."]
    second = await turn_with_images(client, services, story, "I take the guard's cloak.")
    room.passage = list(PASSAGE)
    third = await turn_with_images(client, services, story, "I climb the stairs.")

    background = {i["image_type"]: i for i in first}["background"]
    again = {i["image_type"]: i for i in second}["background"]
    assert again["reused_from"] == background["id"] and again["checksum"] == background["checksum"]
    assert again["url"] == f"/images/{again['id']}"
    assert [i["subject"] for i in second if i["image_type"] == "portrait"] == ["Ila"], (
        "only the character whose appearance changed is drawn again"
    )
    assert [i["image_type"] for i in third].count("action") == 1, "an action image every 3 turns"
    assert not [i for i in third if i["image_type"] == "portrait"]


async def test_a_configured_worker_draws_the_images(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    fake = FakeA1111(render_seconds=0.0)
    async with fake.serve() as url:
        services.settings.luna_image_workers = [
            ImageWorkerConfig(name="gpu", api_type="automatic1111", api_url=url, max_concurrent=2)
        ]
        await services.pool.sync()
        images = await turn_with_images(client, services, story, "I slip in.")

    assert images and all(i["status"] == "complete" for i in images)
    assert {(i["placeholder"], i["worker_name"]) for i in images} == {(False, "gpu")}
    picture = await client.get(images[0]["url"])
    assert "x-luna-placeholder" not in picture.headers
    assert extract(picture.content).generation.seed == images[0]["seed"]
    workers = (await client.get("/image-workers")).json()
    assert [(w["name"], w["images_done"]) for w in workers] == [("gpu", len(images))]


async def test_images_go_with_their_story(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], data_dir: Path
) -> None:
    images = await turn_with_images(client, services, story, "I slip in.")
    assert (data_dir / "images" / story["id"]).is_dir()

    assert (await client.delete(f"/stories/{story['id']}")).status_code == 204

    assert not (data_dir / "images" / story["id"]).exists()
    assert (await client.get(images[0]["url"])).status_code == 404


async def test_an_unknown_or_unfinished_image_is_refused(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    missing = await client.get("/images/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    turn = (await play(client, story["id"], "I slip in.")).json()
    [first, *_] = await images.plan_turn(services.db, services.settings, uuid.UUID(turn["turn_id"]))
    assert await images.plan_turn(services.db, services.settings, uuid.UUID(turn["turn_id"])) == []

    pending = await client.get(f"/images/{first}")

    assert pending.status_code == 409
    assert pending.json()["message"].startswith(f"Image {first} is pending")


async def test_the_turn_stream_says_when_each_image_is_ready(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    worker = asyncio.create_task(run_job_worker(services))
    try:
        response = await client.get(
            f"/narrates/stories/{story['id']}/generate", params={"action": "I slip in."}
        )
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    events = parse_sse(response.text)
    kinds = [kind for kind, _ in events]
    done = kinds.index("done")
    ready = [data for kind, data in events if kind == "image_ready"]
    assert kinds[done + 1 :] == ["image_ready"] * 3, "after the turn, one event per image"
    assert {(i["image_type"], i["status"]) for i in ready} == {
        ("background", "complete"),
        ("portrait", "complete"),
    }
    picture = await client.get(ready[0]["url"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
