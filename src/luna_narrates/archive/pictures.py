"""A story's pictures in its archive: the files its image rows show travel in the archive's
`files` section (the path the row names → the PNG as base64), each file once however many rows
show it (a reused background).

On import nothing from the file reaches the file system as given: every path must be one a
row of the story names, of the form `images/<story>/<type>/<image>.png` with the archive's own
story and an image of the file; it is rebuilt from the new ids, and each picture must be a PNG
that decodes within the pixel limit. A picture still being drawn at export time, or one whose
file the archive lacks, comes in as failed, saying so.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from luna_narrates.db.tables import GeneratedImage
from luna_narrates.images import storage
from luna_narrates.kit import images

Row = dict[str, Any]
PATH = re.compile(
    rf"{storage.ROOT}/(?P<story>[0-9a-f-]{{36}})/(?P<type>[a-z_]{{1,20}})/(?P<image>[0-9a-f-]{{36}})\.png"
)
NOT_DRAWN = "It was still being drawn when the story was exported."
MISSING = "Its picture was not in the story archive."


async def file_chunks(
    connection: AsyncConnection, data_dir: Path, story_id: uuid.UUID
) -> AsyncIterator[str]:
    """The `files` section's members, one per line; a file gone from the disk is left out."""
    paths = await connection.scalars(
        select(GeneratedImage.path)
        .where(GeneratedImage.story_id == story_id, GeneratedImage.path.is_not(None))
        .distinct()
        .order_by(GeneratedImage.path)
    )
    first = True
    for path in paths:
        assert path is not None  # by the query
        file = storage.locate(data_dir, path)
        try:
            data = await asyncio.to_thread(file.read_bytes)
        except FileNotFoundError:
            continue
        yield ("\n" if first else ",\n") + f'{json.dumps(path)}:"{base64.b64encode(data).decode()}"'
        first = False


def checked(
    files: dict[str, str], story_id: uuid.UUID, rows: list[Row]
) -> tuple[dict[str, bytes], list[str]]:
    """The archive's pictures by the path their rows name, and the problems found."""
    problems: list[str] = []
    images_of_file = {row["id"]: row for row in rows}
    named: set[str] = set()
    for index, row in enumerate(rows):
        path = row.get("path")
        if path is None:
            continue
        found = PATH.fullmatch(path)
        if (
            found is None
            or found["story"] != str(story_id)
            or not _is_image(found["image"], images_of_file)
        ):
            problems.append(
                f"tables.generated_images[{index}].path: {path!r} is not the path of one of "
                "this story's images (images/<story>/<type>/<image>.png)."
            )
            continue
        named.add(path)
    pictures: dict[str, bytes] = {}
    for path, text in files.items():
        where = f"files[{json.dumps(path)}]"
        if path not in named:
            problems.append(f"{where}: no image of the story shows this file.")
            continue
        try:
            data = base64.b64decode(text, validate=True)
        except binascii.Error as error:
            problems.append(f"{where}: not base64: {error}")
            continue
        try:
            info = images.inspect(data)
        except images.ImageRefused as error:
            problems.append(f"{where}: {error}")
            continue
        if info.media_type != "image/png":
            problems.append(f"{where}: a picture travels as PNG, not {info.media_type}.")
            continue
        pictures[path] = data
    return pictures, problems


def moved(
    rows: list[Row], pictures: dict[str, bytes], ids: dict[uuid.UUID, uuid.UUID]
) -> dict[str, bytes]:
    """Gives the rows (already given their new ids) the paths of their new ids, and marks
    the ones with no picture to show failed; answers the pictures by their new paths."""
    placed: dict[str, bytes] = {}
    for row in rows:
        old = row.get("path")
        if old is not None:
            found = PATH.fullmatch(old)
            assert found is not None  # checked
            new = storage.relative_path(
                ids[uuid.UUID(found["story"])], found["type"], ids[uuid.UUID(found["image"])]
            )
            if old in pictures:
                row["path"] = new
                placed[new] = pictures[old]
            else:
                row.update(path=None, status="failed", error=MISSING)
        if row.get("status") in ("pending", "generating"):
            row.update(status="failed", error=NOT_DRAWN)
    return placed


def write(data_dir: Path, placed: dict[str, bytes]) -> None:
    for path, data in placed.items():
        storage.put(data_dir, path, data)


def _is_image(text: str, rows: dict[Any, Row]) -> bool:
    try:
        return uuid.UUID(text) in rows
    except ValueError:
        return False
