"""Asset files under the data directory, `assets/<asset id>.png`: made from the id alone, so no
name a player sends reaches the file system, and written whole (a temporary file renamed into
place) so a reader never sees half a picture."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from luna_narrates.errors import NotFound
from luna_narrates.images import storage

ROOT = "assets"


def write(data_dir: Path, asset_id: uuid.UUID, png: bytes) -> str:
    """The path written, relative to the data directory."""
    relative = f"{ROOT}/{asset_id}.png"
    target = storage.locate(data_dir, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(png)
    os.replace(partial, target)
    return relative


def existing(data_dir: Path, relative: str, what: str) -> Path:
    """The file of a stored path, or NotFound naming `what` when it has gone from the disk."""
    path = storage.locate(data_dir, relative)
    if not path.is_file():
        raise NotFound(f"The file of {what} is missing from the data directory.", path=relative)
    return path


def remove(data_dir: Path, relative: str) -> None:
    storage.locate(data_dir, relative).unlink(missing_ok=True)
