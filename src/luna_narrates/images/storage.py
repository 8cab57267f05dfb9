"""Image files under the data directory: `images/<story id>/<type>/<image id>.png`, written
whole (a temporary file renamed into place) so a reader never sees half a picture. Paths are
made here from ids only: nothing a user sends reaches the file system."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = "images"


@dataclass(frozen=True)
class Stored:
    path: str  # relative to the data directory
    checksum: str
    size_bytes: int


def relative_path(story_id: uuid.UUID, image_type: str, image_id: uuid.UUID) -> str:
    return f"{ROOT}/{story_id}/{image_type}/{image_id}.png"


def write(
    data_dir: Path, story_id: uuid.UUID, image_type: str, image_id: uuid.UUID, png: bytes
) -> Stored:
    relative = relative_path(story_id, image_type, image_id)
    put(data_dir, relative, png)
    return Stored(relative, hashlib.sha256(png).hexdigest(), len(png))


def put(data_dir: Path, relative: str, data: bytes) -> None:
    """Writes the file whole; `relative` came from `relative_path`, never from a request."""
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    os.replace(partial, target)


def locate(data_dir: Path, relative: str) -> Path:
    """The file of a stored path; the path came from `write`, never from a request."""
    return data_dir / relative


def remove_story(data_dir: Path, story_id: uuid.UUID) -> None:
    shutil.rmtree(data_dir / ROOT / str(story_id), ignore_errors=True)
