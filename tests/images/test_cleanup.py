"""Image files go with the last row that shows them, once the deletion committed: redo from a
turn and a deleted branch take their turns' pictures with them, a picture a kept turn shares
stays, and a picture drawn for a turn deleted meanwhile is not left behind."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from luna_narrates.db.tables import GeneratedImage, Turn
from luna_narrates.images import service as images
from luna_narrates.images import storage
from luna_narrates.services import Services
from tests.images.test_turn_images import turn_with_images
from tests.scripted import Room
from tests.timelines.conftest import branch


async def files_by_turn(services: Services, story_id: str) -> dict[tuple[str, int], set[Path]]:
    """(branch id, turn number) → the files its images show."""
    data_dir = services.settings.luna_data_dir
    async with services.db.sessions() as session:
        rows = await session.execute(
            select(Turn.branch_id, Turn.turn_number, GeneratedImage.path)
            .join(Turn, Turn.id == GeneratedImage.turn_id)
            .where(GeneratedImage.story_id == uuid.UUID(story_id))
        )
        found: dict[tuple[str, int], set[Path]] = {}
        for branch_id, number, path in rows:
            assert path is not None
            found.setdefault((str(branch_id), number), set()).add(data_dir / path)
    return found


async def test_redo_from_a_turn_removes_the_later_turns_pictures_but_not_shared_ones(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any]
) -> None:
    await turn_with_images(client, services, story, "I slip in.")
    second = await turn_with_images(client, services, story, "I climb the stairs.")
    files = await files_by_turn(services, story["id"])
    [(main, _)] = {key for key in files if key[1] == 1}
    first_files, second_files = files[(main, 1)], files[(main, 2)]
    shared = first_files & second_files
    assert shared, "turn 2 reuses turn 1's background file"
    assert all(path.is_file() for path in first_files | second_files)

    response = await client.delete(f"/stories/{story['id']}/turns/after/1")
    assert response.status_code == 200, response.text

    assert all(path.is_file() for path in first_files), "turn 1 keeps every picture"
    assert not [path for path in second_files - shared if path.exists()]
    for image in second:
        assert (await client.get(image["url"])).status_code == 404


async def test_a_deleted_branch_takes_its_own_pictures_only(
    client: httpx.AsyncClient, services: Services, story: dict[str, Any], room: Room
) -> None:
    await turn_with_images(client, services, story, "I slip in.")
    side = await branch(client, story["id"], "Side", 1)
    room.passage = ["Ila, now wearing ", "the guard's cloak, ", "walks on."]  # a new portrait
    await turn_with_images(client, services, story, "I take the guard's cloak.")
    files = await files_by_turn(services, story["id"])
    own = files[(side["id"], 2)]
    kept = {
        path for (branch_id, _), paths in files.items() if branch_id != side["id"] for path in paths
    }
    assert own - kept, "the branch drew pictures of its own"
    switch = await client.post(
        f"/stories/{story['id']}/branches/switch", json={"branch_id": side["parent_branch_id"]}
    )
    assert switch.status_code == 200, switch.text

    response = await client.delete(f"/stories/{story['id']}/branches/{side['id']}")
    assert response.status_code == 200, response.text

    assert not [path for path in own - kept if path.exists()]
    assert all(path.is_file() for path in kept)


async def test_a_picture_drawn_for_a_row_deleted_meanwhile_is_removed(
    services: Services, data_dir: Path
) -> None:
    gone = uuid.uuid4()
    stored = storage.write(data_dir, uuid.uuid4(), "action", gone, b"\x89PNG\r\n\x1a\n")
    assert storage.locate(data_dir, stored.path).is_file()

    await images.finish(services.db, gone, {"status": "complete", "path": stored.path}, data_dir)

    assert not storage.locate(data_dir, stored.path).exists()
